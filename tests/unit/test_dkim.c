/*
 * test_dkim - DKIM parsers, canonicalisation, verification and signing
 * (lib/mail/dkim_parse.c, dkim_canon.c, dkim.c): the canonicalisation
 * example of RFC 6376 3.4.5, the signed message of RFC 8463 appendix A
 * (an ed25519-sha256 and an rsa-sha256 signature, both with their keys)
 * and round trips through dkim_sign().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base64.h"
#include "buf.h"
#include "dkim.h"
#include "dkim_canon.h"
#include "dkim_parse.h"

/* RFC 8463 appendix A.3, as RFC 8463 prints it. */
static const char rfc8463_msg[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; \r\n"
    " d=football.example.com; i=@football.example.com; \r\n"
    " q=dns/txt; s=brisbane; t=1518460054; h=from : to : \r\n"
    " subject : date : message-id : from : subject : date; \r\n"
    " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \r\n"
    " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB\r\n"
    " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; \r\n"
    " d=football.example.com; i=@football.example.com; \r\n"
    " q=dns/txt; s=test; t=1527915362; h=from : to : subject : \r\n"
    " date : message-id : from : subject : date; \r\n"
    " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \r\n"
    " b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH\r\n"
    " l/RAXAuADxE/40Fg7uTlxwwD1hjN2Ple6J//cJfslBdDOq6zTVbne1dqtl\r\n"
    " NOat7iamJ1AfRqyG+ja7a2AZsrpUuJ7VA6O+0zRYPqpwMEkEFIzI9i/Xk=\r\n"
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n"
    "\r\n";

/* RFC 8463 A.2: the key records. */
static const char brisbane_key[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char test_key[] =
    "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08"
    "a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+"
    "yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/"
    "K4w3QIDAQAB";
/* RFC 8463 A.1: the Ed25519 private key (raw, base64). */
static const char brisbane_private[] =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

/* A DNS of (name, record) pairs; "TEMP" as a record is a failure. */
struct zone {
	const char *name[4];
	const char *txt[4];
	int asked;
};

static int
lookup(void *ctx, const char *name, struct buf *txt)
{
	struct zone *z = ctx;

	z->asked++;
	for (int i = 0; i < 4 && z->name[i]; i++) {
		if (strcmp(z->name[i], name) != 0)
			continue;
		if (strcmp(z->txt[i], "TEMP") == 0)
			return DKIM_DNS_ERROR;
		buf_puts(txt, z->txt[i]);
		return DKIM_DNS_FOUND;
	}
	return DKIM_DNS_NOTFOUND;
}

static struct zone
rfc_zone(void)
{
	struct zone z = {
	    .name = {"brisbane._domainkey.football.example.com",
		     "test._domainkey.football.example.com"},
	    .txt = {brisbane_key, test_key},
	};
	return z;
}

static void
test_tags(void **state)
{
	struct dkim_tag t[8];
	size_t n;
	const char *s = " a = 1 ; b=x y\r\n\tz;c=;";

	(void)state;
	assert_int_equal(dkim_tags_parse(s, strlen(s), t, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(t[0].name, "a");
	assert_int_equal(t[0].val_len, 1);
	assert_memory_equal(s + t[1].val_off, "x y\r\n\tz", t[1].val_len);
	assert_int_equal(t[2].val_len, 0);
	assert_int_equal(dkim_tags_parse("", 0, t, 8, &n), 0);
	assert_int_equal(n, 0);
	/* Duplicate tag, bad name, no '=', 8-bit value, too many. */
	assert_int_equal(dkim_tags_parse("a=1;a=2", 7, t, 8, &n), -1);
	assert_int_equal(dkim_tags_parse("1a=1", 4, t, 8, &n), -1);
	assert_int_equal(dkim_tags_parse("a;b=1", 5, t, 8, &n), -1);
	assert_int_equal(dkim_tags_parse("a=\xc3\xa9", 4, t, 8, &n), -1);
	assert_int_equal(dkim_tags_parse("a=1;b=2;c=3", 11, t, 2, &n), -1);
}

static int
sig_parse(const char *v, struct dkim_sig *sig)
{
	const char *why;

	return dkim_sig_parse(v, strlen(v), sig, &why);
}

static void
test_sig_parse(void **state)
{
	static struct dkim_sig sig;
	const char *base = "v=1; a=ed25519-sha256; d=Example.COM; s=sel; "
			   "h=From : To:from; bh=AAAA; b=AAAA";
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(sig_parse(base, &sig), DKIM_PARSE_OK);
	assert_int_equal(sig.alg, DKIM_ALG_ED25519_SHA256);
	assert_int_equal(sig.hcanon, DKIM_CANON_SIMPLE);
	assert_int_equal(sig.bcanon, DKIM_CANON_SIMPLE);
	assert_string_equal(sig.d, "example.com");
	assert_string_equal(sig.i, "@example.com");
	assert_int_equal(sig.nh, 3);
	assert_string_equal(sig.h[1], "to");
	assert_int_equal(sig.l, -1);
	assert_int_equal(sig.blen, 3);
#define VARIANT(extra, expect)                                                 \
	do {                                                                   \
		buf_reset(&b);                                                 \
		buf_printf(&b, "%s; %s", base, extra);                         \
		assert_int_equal(sig_parse(buf_cstr(&b), &sig), expect);       \
	} while (0)
	VARIANT("c=relaxed", DKIM_PARSE_OK);
	assert_int_equal(sig.hcanon, DKIM_CANON_RELAXED);
	assert_int_equal(sig.bcanon, DKIM_CANON_SIMPLE);
	VARIANT("c=simple/relaxed; l=12; t=5; x=6", DKIM_PARSE_OK);
	assert_int_equal(sig.bcanon, DKIM_CANON_RELAXED);
	assert_int_equal(sig.l, 12);
	VARIANT("i=joe@sub.example.com", DKIM_PARSE_OK);
	VARIANT("i=joe@example.org", DKIM_PARSE_PERMERROR);
	VARIANT("i=joe@badexample.com", DKIM_PARSE_PERMERROR);
	VARIANT("t=6; x=5", DKIM_PARSE_PERMERROR);
	VARIANT("c=fancy/simple", DKIM_PARSE_UNSUPPORTED);
	VARIANT("q=dns/other", DKIM_PARSE_UNSUPPORTED);
	VARIANT("l=x", DKIM_PARSE_PERMERROR);
	VARIANT("v=1", DKIM_PARSE_PERMERROR); /* duplicate */
	/* h= must sign From; rsa-sha1 is not supported (RFC 8301). */
	assert_int_equal(sig_parse("v=1; a=rsa-sha256; d=a.b; s=s; h=to; "
				   "bh=AAAA; b=AAAA",
				   &sig),
			 DKIM_PARSE_PERMERROR);
	assert_int_equal(sig_parse("v=1; a=rsa-sha1; d=a.b; s=s; h=from; "
				   "bh=AAAA; b=AAAA",
				   &sig),
			 DKIM_PARSE_UNSUPPORTED);
	assert_int_equal(sig_parse("v=2; a=rsa-sha256; d=a.b; s=s; h=from; "
				   "bh=AAAA; b=AAAA",
				   &sig),
			 DKIM_PARSE_UNSUPPORTED);
	assert_int_equal(sig_parse("v=1; a=rsa-sha256; d=a.b; h=from; "
				   "bh=AAAA; b=AAAA",
				   &sig),
			 DKIM_PARSE_PERMERROR);
	buf_free(&b);
}

static void
test_key_parse(void **state)
{
	static struct dkim_key k;
	const char *why;
#define KEY(s) dkim_key_parse(s, strlen(s), &k, &why)

	(void)state;
	assert_int_equal(KEY(brisbane_key), DKIM_PARSE_OK);
	assert_int_equal(k.k, DKIM_KEY_ED25519);
	assert_int_equal(k.plen, 32);
	assert_int_equal(KEY(test_key), DKIM_PARSE_OK);
	assert_int_equal(k.k, DKIM_KEY_RSA);
	assert_int_equal(KEY("p=AAAA; t=y:s"), DKIM_PARSE_OK);
	assert_true(k.testing && k.strict);
	assert_int_equal(KEY("v=DKIM1; p="), DKIM_PARSE_PERMERROR);
	assert_true(k.revoked);
	assert_int_equal(KEY("p=AAAA; v=DKIM1"), DKIM_PARSE_PERMERROR);
	assert_int_equal(KEY("v=DKIM1; k=rsa"), DKIM_PARSE_PERMERROR);
	assert_int_equal(KEY("h=sha1; p=AAAA"), DKIM_PARSE_UNSUPPORTED);
	assert_int_equal(KEY("h=sha1:sha256; p=AAAA"), DKIM_PARSE_OK);
	assert_int_equal(KEY("k=dsa; p=AAAA"), DKIM_PARSE_UNSUPPORTED);
	assert_int_equal(KEY("s=web; p=AAAA"), DKIM_PARSE_UNSUPPORTED);
	assert_int_equal(KEY("p=A*AA"), DKIM_PARSE_PERMERROR);
}

/* RFC 6376 3.4.5. */
static void
test_canon_example(void **state)
{
	const char msg[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n"
			   " C \r\nD \t E\r\n\r\n\r\n";
	struct dkim_msg m;
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(dkim_msg_split(msg, strlen(msg), &m), 0);
	assert_int_equal(m.nfields, 2);
	for (size_t i = 0; i < m.nfields; i++)
		dkim_canon_header(1, m.f[i].p, m.f[i].len, 1, &out);
	assert_string_equal(buf_cstr(&out), "a:X\r\nb:Y Z\r\n");
	buf_reset(&out);
	for (size_t i = 0; i < m.nfields; i++)
		dkim_canon_header(0, m.f[i].p, m.f[i].len, 1, &out);
	assert_string_equal(buf_cstr(&out), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
	buf_reset(&out);
	dkim_canon_body(1, m.body, m.body_len, &out);
	assert_string_equal(buf_cstr(&out), " C\r\nD E\r\n");
	buf_reset(&out);
	dkim_canon_body(0, m.body, m.body_len, &out);
	assert_string_equal(buf_cstr(&out), " C \r\nD \t E\r\n");
	/* Empty bodies: simple is one CRLF, relaxed nothing. */
	buf_reset(&out);
	dkim_canon_body(0, "\r\n\r\n", 4, &out);
	assert_string_equal(buf_cstr(&out), "\r\n");
	buf_reset(&out);
	dkim_canon_body(1, "", 0, &out);
	assert_int_equal(out.len, 0);
	/* A colon in the value keeps its space. */
	buf_reset(&out);
	dkim_canon_header(1, "Subject:  a:  b ", 16, 0, &out);
	assert_string_equal(buf_cstr(&out), "subject:a: b");
	dkim_msg_free(&m);
	buf_free(&out);
}

/* Over-signing: a name listed more often than the field occurs adds
 * nothing; fields are taken from the bottom. */
static void
test_header_input(void **state)
{
	const char msg[] = "From: a\r\nTo: x\r\nTo: y\r\n\r\n";
	const char h[3][65] = {"to", "to", "from"};
	const char h2[3][65] = {"from", "from", "to"};
	struct dkim_msg m;
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(dkim_msg_split(msg, strlen(msg), &m), 0);
	dkim_header_input(&m, 1, h, 3, "DKIM-Signature: b=", 18, &out);
	assert_string_equal(buf_cstr(&out),
			    "to:y\r\nto:x\r\nfrom:a\r\ndkim-signature:b=");
	buf_reset(&out);
	dkim_header_input(&m, 1, h2, 3, "X: b=", 5, &out);
	assert_string_equal(buf_cstr(&out), "from:a\r\nto:y\r\nx:b=");
	dkim_msg_free(&m);
	buf_free(&out);
}

static void
test_rfc8463_verify(void **state)
{
	struct zone z = rfc_zone();
	struct dkim_verdict v[4];
	size_t n, seen;

	(void)state;
	n = dkim_verify(rfc8463_msg, strlen(rfc8463_msg), lookup, &z,
			1527915362, 8, v, 4, &seen);
	assert_int_equal(n, 2);
	assert_int_equal(seen, 2);
	assert_int_equal(v[0].alg, DKIM_ALG_ED25519_SHA256);
	assert_string_equal(dkim_result_name(v[0].result), "pass");
	assert_string_equal(v[0].d, "football.example.com");
	assert_string_equal(v[0].s, "brisbane");
	assert_string_equal(v[0].b, "9/dsDChY");
	assert_int_equal(v[1].alg, DKIM_ALG_RSA_SHA256);
	/* The RFC's RSA key has 1024 bits: still acceptable. */
	assert_string_equal(dkim_result_name(v[1].result), "pass");
	assert_string_equal(v[1].s, "test");
	/* The limit: only the first signature is looked at. */
	z.asked = 0;
	n = dkim_verify(rfc8463_msg, strlen(rfc8463_msg), lookup, &z,
			1527915362, 1, v, 4, &seen);
	assert_int_equal(n, 1);
	assert_int_equal(seen, 2);
	assert_int_equal(z.asked, 1);
}

/* The same message with LF line ends (as in a file) verifies too. */
static void
test_rfc8463_lf(void **state)
{
	struct zone z = rfc_zone();
	struct dkim_verdict v[4];
	struct buf lf = BUF_INIT;

	(void)state;
	for (const char *p = rfc8463_msg; *p; p++)
		if (*p != '\r')
			buf_putc(&lf, *p);
	assert_int_equal(
	    dkim_verify(lf.data, lf.len, lookup, &z, 0, 8, v, 4, NULL), 2);
	assert_int_equal(v[0].result, DKIM_PASS);
	assert_int_equal(v[1].result, DKIM_PASS);
	buf_free(&lf);
}

static void
replace(struct buf *out, const char *in, const char *from, const char *to)
{
	const char *p = strstr(in, from);

	assert_non_null(p);
	buf_reset(out);
	buf_append(out, in, (size_t)(p - in));
	buf_puts(out, to);
	buf_puts(out, p + strlen(from));
}

static void
test_rfc8463_failures(void **state)
{
	struct zone z = rfc_zone();
	struct dkim_verdict v[4];
	struct buf m = BUF_INIT;

	(void)state;
	/* A changed body: both fail on the body hash. */
	replace(&m, rfc8463_msg, "hungry", "angry");
	assert_int_equal(
	    dkim_verify(m.data, m.len, lookup, &z, 0, 8, v, 4, NULL), 2);
	assert_int_equal(v[0].result, DKIM_FAIL);
	assert_string_equal(v[0].reason, "body hash mismatch");
	assert_int_equal(v[1].result, DKIM_FAIL);
	/* A changed signed header: the signatures fail. */
	replace(&m, rfc8463_msg, "Is dinner", "Is lunch");
	dkim_verify(m.data, m.len, lookup, &z, 0, 8, v, 4, NULL);
	assert_int_equal(v[0].result, DKIM_FAIL);
	assert_string_equal(v[0].reason, "signature did not verify");
	assert_int_equal(v[1].result, DKIM_FAIL);
	/* A second From: added below is covered by the over-signing. */
	replace(&m, rfc8463_msg, "Subject: Is",
		"From: evil@example.org\r\n"
		"Subject: Is");
	dkim_verify(m.data, m.len, lookup, &z, 0, 8, v, 4, NULL);
	assert_int_equal(v[0].result, DKIM_FAIL);
	/* An unsigned field may be added. */
	replace(&m, rfc8463_msg, "Subject: Is", "X-Added: yes\r\nSubject: Is");
	dkim_verify(m.data, m.len, lookup, &z, 0, 8, v, 4, NULL);
	assert_int_equal(v[0].result, DKIM_PASS);
	/* No key, a revoked key, DNS trouble, a key of the other type. */
	z.txt[0] = "v=DKIM1; k=ed25519; p=";
	z.name[1] = "nothing";
	dkim_verify(rfc8463_msg, strlen(rfc8463_msg), lookup, &z, 0, 8, v, 4,
		    NULL);
	assert_int_equal(v[0].result, DKIM_PERMERROR);
	assert_string_equal(v[0].reason, "key revoked");
	assert_int_equal(v[1].result, DKIM_PERMERROR);
	z.txt[0] = "TEMP";
	z.txt[1] = test_key;
	z.name[1] = "test._domainkey.football.example.com";
	dkim_verify(rfc8463_msg, strlen(rfc8463_msg), lookup, &z, 0, 8, v, 4,
		    NULL);
	assert_int_equal(v[0].result, DKIM_TEMPERROR);
	assert_int_equal(v[1].result, DKIM_PASS);
	z.txt[0] = test_key;
	dkim_verify(rfc8463_msg, strlen(rfc8463_msg), lookup, &z, 0, 8, v, 4,
		    NULL);
	assert_int_equal(v[0].result, DKIM_PERMERROR);
	/* An unknown algorithm is neutral; an expired x= a permerror. */
	replace(&m, rfc8463_msg, "a=ed25519-sha256", "a=ed448-sha256");
	dkim_verify(m.data, m.len, lookup, &z, 0, 8, v, 4, NULL);
	assert_int_equal(v[0].result, DKIM_NEUTRAL);
	replace(&m, rfc8463_msg, "t=1527915362;",
		"t=1527915362; x=1527915400;");
	dkim_verify(m.data, m.len, lookup, &z, 1527915401, 8, v, 4, NULL);
	assert_int_equal(v[1].result, DKIM_PERMERROR);
	assert_string_equal(v[1].reason, "signature expired");
	buf_free(&m);
}

static const char plain_msg[] = "From: Joe <joe@example.com>\r\n"
				"To: Suzie <suzie@example.net>\r\n"
				"Subject:   Dinner\r\n"
				"Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
				"Message-ID: <1@example.com>\r\n"
				"X-Unsigned: 1\r\n"
				"\r\n"
				"Hi.  \r\n"
				"\r\n"
				"Bye.\r\n"
				"\r\n";

/* Signs plain_msg with key, publishes record under sel._domainkey, and
 * returns the verdict of the signed message after edit (NULL: none). */
static int
round_trip(EVP_PKEY *key, const char *from, const char *to, int *alg)
{
	struct dkim_signer s = {key, "example.com", "sel"};
	struct buf field = BUF_INIT, err = BUF_INIT, rec = BUF_INIT,
		   signed_msg = BUF_INIT, edited = BUF_INIT;
	struct dkim_verdict v[2];
	struct zone z = {.name = {"sel._domainkey.example.com"}};

	assert_int_equal(dkim_sign(plain_msg, strlen(plain_msg), &s, 1700000000,
				   &field, &err),
			 0);
	assert_int_equal(dkim_key_record(key, &rec), 0);
	z.txt[0] = buf_cstr(&rec);
	buf_append(&signed_msg, field.data, field.len);
	buf_puts(&signed_msg, plain_msg);
	if (from)
		replace(&edited, buf_cstr(&signed_msg), from, to);
	else
		buf_puts(&edited, buf_cstr(&signed_msg));
	assert_int_equal(dkim_verify(edited.data, edited.len, lookup, &z,
				     1700000001, 4, v, 2, NULL),
			 1);
	*alg = v[0].alg;
	buf_free(&field);
	buf_free(&err);
	buf_free(&rec);
	buf_free(&signed_msg);
	buf_free(&edited);
	return v[0].result;
}

static EVP_PKEY *
rfc_ed25519(void)
{
	struct buf raw = BUF_INIT;
	EVP_PKEY *key;

	assert_int_equal(
	    base64_decode(&raw, brisbane_private, strlen(brisbane_private), 64),
	    0);
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
					   (unsigned char *)raw.data, raw.len);
	assert_non_null(key);
	buf_free(&raw);
	return key;
}

static void
test_sign_round_trip(void **state)
{
	EVP_PKEY *ed = rfc_ed25519(), *rsa = EVP_RSA_gen(1024);
	struct buf rec = BUF_INIT;
	int alg;

	(void)state;
	assert_non_null(rsa);
	/* The RFC's key gives the RFC's public key. */
	assert_int_equal(dkim_key_record(ed, &rec), 0);
	assert_string_equal(buf_cstr(&rec), brisbane_key);
	assert_int_equal(round_trip(ed, NULL, NULL, &alg), DKIM_PASS);
	assert_int_equal(alg, DKIM_ALG_ED25519_SHA256);
	assert_int_equal(round_trip(rsa, NULL, NULL, &alg), DKIM_PASS);
	assert_int_equal(alg, DKIM_ALG_RSA_SHA256);
	/* Relaxed: white space changes and refolding still pass. */
	assert_int_equal(round_trip(ed, "Hi.  \r\n", "Hi.\t\r\n", &alg),
			 DKIM_PASS);
	assert_int_equal(
	    round_trip(ed, "Subject:   Dinner", "subject:\r\n  Dinner", &alg),
	    DKIM_PASS);
	assert_int_equal(round_trip(ed, "X-Unsigned: 1", "X-Unsigned: 2", &alg),
			 DKIM_PASS);
	/* Over-signed fields cannot be added, others not changed. */
	assert_int_equal(
	    round_trip(rsa, "X-Unsigned", "To: x@example.org\r\nX", &alg),
	    DKIM_FAIL);
	assert_int_equal(round_trip(ed, "X-Unsigned", "Date: now\r\nX", &alg),
			 DKIM_FAIL);
	assert_int_equal(round_trip(ed, "<1@", "<2@", &alg), DKIM_FAIL);
	assert_int_equal(round_trip(rsa, "Bye.", "Bye!", &alg), DKIM_FAIL);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
	buf_free(&rec);
}

/* RSA keys under 1024 bits are refused as policy (RFC 8301). */
static void
test_short_rsa_key(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(768);
	int alg;

	(void)state;
	assert_non_null(rsa);
	assert_int_equal(round_trip(rsa, NULL, NULL, &alg), DKIM_POLICY);
	EVP_PKEY_free(rsa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_sig_parse),
	    cmocka_unit_test(test_key_parse),
	    cmocka_unit_test(test_canon_example),
	    cmocka_unit_test(test_header_input),
	    cmocka_unit_test(test_rfc8463_verify),
	    cmocka_unit_test(test_rfc8463_lf),
	    cmocka_unit_test(test_rfc8463_failures),
	    cmocka_unit_test(test_sign_round_trip),
	    cmocka_unit_test(test_short_rsa_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
