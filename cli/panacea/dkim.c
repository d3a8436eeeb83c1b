/*
 * panacea dkim genkey [--type rsa|ed25519] [--bits N] [--output FILE]
 *                     DOMAIN SELECTOR
 * panacea dkim verify < MESSAGE
 *
 * genkey makes a DKIM signing key (RSA, 2048 bits by default, or
 * Ed25519), writes it as PEM to FILE (default SELECTOR.private in the
 * current folder; created, never overwritten, mode 0600: the key is
 * secret), and prints the TXT record to publish at
 * SELECTOR._domainkey.DOMAIN in zone-file syntax, cut in strings of at
 * most 255 bytes, and the dkim_key_table line for it.
 *
 * verify runs smtpd's evaluator (lib/mail/dkim.h, dns_nameservers) on
 * a message and prints one line per signature: "RESULT d=D s=S
 * (reason)".  Exit 0 when one signature passes, 1 when none does,
 * 75 (EX_TEMPFAIL) when a key could not be looked up and none passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "conf.h"
#include "dkim.h"
#include "dkim_dns.h"
#include "dns.h"
#include "panacea.h"

static int
genkey(int argc, char **argv)
{
	const char *type = "rsa", *output = NULL, *domain, *selector;
	char path[4096];
	long bits = 2048;
	struct buf rec = BUF_INIT;
	EVP_PKEY *key;
	FILE *fp;
	int i, fd;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return EX_USAGE;
		if (strcmp(argv[i], "--type") == 0)
			type = argv[i + 1];
		else if (strcmp(argv[i], "--bits") == 0)
			bits = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--output") == 0)
			output = argv[i + 1];
		else
			return EX_USAGE;
	}
	if (argc - i != 2)
		return EX_USAGE;
	domain = argv[i];
	selector = argv[i + 1];
	if (strcmp(type, "rsa") == 0) {
		/* RFC 8301: verifiers refuse under 1024; more than 4096
		 * does not fit a TXT record comfortably. */
		if (bits < 1024 || bits > 4096) {
			fprintf(stderr, "panacea: fatal: --bits must be "
					"1024..4096\n");
			return EX_USAGE;
		}
		key = EVP_RSA_gen((unsigned)bits);
	} else if (strcmp(type, "ed25519") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else {
		return EX_USAGE;
	}
	if (key == NULL || dkim_key_record(key, &rec) < 0) {
		fprintf(stderr, "panacea: fatal: key generation failed\n");
		EVP_PKEY_free(key);
		return 1;
	}
	if (output == NULL) {
		snprintf(path, sizeof(path), "%s.private", selector);
		output = path;
	}
	fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "panacea: fatal: create %s: %s\n", output,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		EVP_PKEY_free(key);
		buf_free(&rec);
		return 1;
	}
	if (PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(fp) != 0) {
		fprintf(stderr, "panacea: fatal: write %s failed\n", output);
		unlink(output);
		EVP_PKEY_free(key);
		buf_free(&rec);
		return 1;
	}
	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	for (size_t off = 0; off < rec.len; off += 250)
		printf(" \"%.*s\"",
		       (int)(rec.len - off < 250 ? rec.len - off : 250),
		       rec.data + off);
	printf(" )\n");
	printf("; dkim_key_table: %s._domainkey.%s %s:%s:%s\n", selector,
	       domain, domain, selector, output);
	EVP_PKEY_free(key);
	buf_free(&rec);
	return 0;
}

static int
verify(void)
{
	struct dkim_verdict v[16];
	struct buf msg = BUF_INIT, err = BUF_INIT;
	char chunk[65536];
	size_t n, i, seen;
	int pass = 0, temp = 0;
	ssize_t r;

	while ((r = read(0, chunk, sizeof(chunk))) > 0) {
		buf_append(&msg, chunk, (size_t)r);
		if (msg.len > (size_t)conf_size("message_size_limit") &&
		    conf_size("message_size_limit") > 0) {
			fprintf(stderr, "panacea: fatal: message larger than "
					"message_size_limit\n");
			return 1;
		}
	}
	if (dns_init(conf_str("dns_nameservers"), &err) < 0) {
		fprintf(stderr, "panacea: fatal: DNS resolver: %s\n",
			buf_cstr(&err));
		buf_free(&err);
		return EX_TEMPFAIL;
	}
	n = dkim_verify(msg.data ? msg.data : "", msg.len, dkim_dns_lookup,
			NULL, (long long)time(NULL),
			(size_t)conf_int("dkim_signature_limit"), v, 16, &seen);
	if (seen == 0)
		printf("none: no DKIM-Signature\n");
	for (i = 0; i < n; i++) {
		printf("%s d=%s s=%s%s%s%s\n", dkim_result_name(v[i].result),
		       v[i].d, v[i].s, *v[i].reason ? " (" : "", v[i].reason,
		       *v[i].reason ? ")" : "");
		pass |= v[i].result == DKIM_PASS;
		temp |= v[i].result == DKIM_TEMPERROR;
	}
	buf_free(&msg);
	dns_end();
	return pass ? 0 : temp ? EX_TEMPFAIL : 1;
}

int
panacea_dkim(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "genkey") == 0)
		return genkey(argc, argv);
	if (argc == 1 && strcmp(argv[0], "verify") == 0)
		return verify();
	return EX_USAGE;
}
