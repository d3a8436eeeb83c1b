/*
 * test_dkim_keys - OpenDKIM's KeyTable and SigningTable
 * (lib/mail/dkim_keys.c): plain lookups (address, domain, parent
 * domains), refile: wildcards, two keys under one pattern, "%" as the
 * domain, load errors, and signing once per domain and selector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "dkim_keys.h"

static char dir[] = "/tmp/test_dkim_keys.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
write_key(const char *name, EVP_PKEY *key)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(
	    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
	EVP_PKEY_free(key);
}

static int
setup(void **state)
{
	struct buf kt = BUF_INIT;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	write_key("rsa.pem", EVP_RSA_gen(1024));
	write_key("ed.pem", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	buf_printf(&kt,
		   "# comment\n"
		   "rsa  example.com:rsa:%s/rsa.pem\n"
		   "ed   example.com:ed:%s/ed.pem   # trailing\n"
		   "any  %%:any:%s/ed.pem\n"
		   "bad  example.com:bad:%s/missing.pem\n",
		   dir, dir, dir, dir);
	write_file("KeyTable", buf_cstr(&kt));
	buf_free(&kt);
	write_file("refile", "*@example.com rsa\n"
			     "\n"
			     "*@example.com ed\n"
			     "*@*.example.org any\n"
			     "boss@* rsa\n");
	write_file("plain", "joe@example.net ed\n"
			    "example.net rsa\n"
			    ".example.org any\n");
	write_file("badref", "*@x.test nosuch\n");
	write_file("badkey", "*@x.test bad\n");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct dkim_keys *
load(const char *signing, struct buf *err)
{
	char kt[256], st[256];

	snprintf(kt, sizeof(kt), "%s/KeyTable", dir);
	snprintf(st, sizeof(st), "%s%s/%s",
		 strcmp(signing, "refile") == 0 ? "refile:" : "", dir, signing);
	return dkim_keys_load(kt, st, err);
}

static void
test_refile(void **state)
{
	struct buf err = BUF_INIT;
	struct dkim_keys *k = load("refile", &err);
	struct dkim_signer s[4];
	char domains[4][254];

	(void)state;
	assert_non_null(k);
	/* Both lines of the first matching pattern, in file order. */
	assert_int_equal(dkim_keys_find(k, "joe@example.com", s, domains, 4),
			 2);
	assert_string_equal(s[0].selector, "rsa");
	assert_int_equal(dkim_key_alg(s[0].key), DKIM_ALG_RSA_SHA256);
	assert_string_equal(s[1].selector, "ed");
	assert_int_equal(dkim_key_alg(s[1].key), DKIM_ALG_ED25519_SHA256);
	assert_int_equal(dkim_keys_find(k, "joe@example.com", s, domains, 1),
			 1);
	/* "%": the address's domain. */
	assert_int_equal(dkim_keys_find(k, "a@Mail.Example.org", s, domains, 4),
			 1);
	assert_string_equal(s[0].domain, "Mail.Example.org");
	assert_int_equal(
	    dkim_keys_find(k, "boss@elsewhere.test", s, domains, 4), 1);
	assert_int_equal(dkim_keys_find(k, "x@example.org", s, domains, 4), 0);
	assert_int_equal(dkim_keys_find(k, "nobody", s, domains, 4), 0);
	dkim_keys_free(k);
	buf_free(&err);
}

static void
test_plain(void **state)
{
	struct buf err = BUF_INIT;
	struct dkim_keys *k = load("plain", &err);
	struct dkim_signer s[4];
	char domains[4][254];

	(void)state;
	assert_non_null(k);
	assert_int_equal(dkim_keys_find(k, "joe@example.net", s, domains, 4),
			 1);
	assert_string_equal(s[0].selector, "ed");
	assert_int_equal(dkim_keys_find(k, "ann@example.net", s, domains, 4),
			 1);
	assert_string_equal(s[0].selector, "rsa");
	assert_int_equal(
	    dkim_keys_find(k, "ann@a.b.example.org", s, domains, 4), 1);
	assert_string_equal(s[0].domain, "a.b.example.org");
	/* ".example.org" is for subdomains, as in OpenDKIM. */
	assert_int_equal(dkim_keys_find(k, "ann@example.org", s, domains, 4),
			 0);
	dkim_keys_free(k);
	buf_free(&err);
}

static void
test_load_errors(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_null(load("badref", &err));
	assert_non_null(strstr(buf_cstr(&err), "\"nosuch\" is not in"));
	buf_reset(&err);
	assert_null(load("badkey", &err));
	assert_non_null(strstr(buf_cstr(&err), "missing.pem"));
	buf_reset(&err);
	assert_null(load("nofile", &err));
	buf_free(&err);
}

static void
test_sign_once(void **state)
{
	struct buf err = BUF_INIT, sigs = BUF_INIT, again = BUF_INIT,
		   msg = BUF_INIT;
	struct dkim_keys *k = load("refile", &err);
	const char body[] = "From: Joe <joe@example.com>\r\nSubject: x\r\n\r\n"
			    "hi\r\n";

	(void)state;
	assert_non_null(k);
	assert_int_equal(
	    dkim_keys_sign(k, body, strlen(body), NULL, "ID", &sigs), 2);
	buf_append(&msg, sigs.data, sigs.len);
	buf_puts(&msg, body);
	/* Already signed by both: nothing more (a reinjected message). */
	assert_int_equal(
	    dkim_keys_sign(k, msg.data, msg.len, NULL, "ID", &again), 0);
	assert_int_equal(again.len, 0);
	/* No From: the envelope sender decides. */
	buf_reset(&sigs);
	assert_int_equal(dkim_keys_sign(k, "Subject: x\r\n\r\n", 14,
					"a@example.com", "ID", &sigs),
			 2);
	dkim_keys_free(k);
	buf_free(&err);
	buf_free(&sigs);
	buf_free(&again);
	buf_free(&msg);
}

static void
test_helpers(void **state)
{
	char a[64];

	(void)state;
	assert_true(dkim_wildcard("*@example.com", "Joe@EXAMPLE.com"));
	assert_true(dkim_wildcard("*", ""));
	assert_true(dkim_wildcard("a*b*c", "aXbYbc"));
	assert_false(dkim_wildcard("*@example.com", "joe@example.com.evil"));
	assert_false(dkim_wildcard("a*b", "ac"));
	assert_int_equal(dkim_from_address(" \"Joe, Q\" <Joe@Example.COM>", 27,
					   a, sizeof(a)),
			 0);
	assert_string_equal(a, "joe@example.com");
	assert_int_equal(
	    dkim_from_address(" joe@example.com (Joe)", 22, a, sizeof(a)), 0);
	assert_string_equal(a, "joe@example.com");
	assert_int_equal(dkim_from_address(" a@b.c, d@e.f", 13, a, sizeof(a)),
			 0);
	assert_string_equal(a, "a@b.c");
	assert_int_equal(dkim_from_address(" Joe <joe", 9, a, sizeof(a)), -1);
	assert_int_equal(dkim_from_address(" nobody", 7, a, sizeof(a)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refile),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_sign_once),
	    cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
