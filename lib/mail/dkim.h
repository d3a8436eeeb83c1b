/*
 * dkim - DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256
 * (RFC 8463, RFC 8301) over OpenSSL 3's EVP interface.
 *
 * dkim_verify() checks the DKIM-Signature fields of a message, top
 * down, at most limit of them, and gives one verdict per signature:
 *   pass       the body hash and the signature match;
 *   fail       they do not (a changed body or header);
 *   neutral    a signature we cannot evaluate: another version, an
 *              algorithm, canonicalisation, query method or key type we
 *              do not implement (RFC 6376 6.1.1 lets us ignore it);
 *   policy     valid in form but not acceptable here: an RSA key under
 *              1024 bits (RFC 8301 3.2);
 *   temperror  the key could not be looked up now (DNS);
 *   permerror  a broken signature, no key or a revoked or broken key
 *              record, a key of another type than a=, an expired x=,
 *              an l= past the body, i= outside d= under t=s.
 * The key record is asked through a dkim_lookup_fn (dkim_dns.h on
 * lib/mail/dns; tests give their own), so this file does no I/O.
 *
 * dkim_sign() returns one DKIM-Signature field for the top of a
 * message: relaxed/relaxed, t= now, no l=, the header list of RFC 6376
 * 5.4.1 (those present, each as often as it occurs) with From, To,
 * Subject and Date signed once more than they occur, so that none can
 * be added in transit (over-signing, 8.15).
 */
#ifndef PANACEA_DKIM_H
#define PANACEA_DKIM_H

#include <stddef.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dkim_parse.h"

enum dkim_result {
	DKIM_NONE = 0,
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_NEUTRAL,
	DKIM_POLICY,
	DKIM_TEMPERROR,
	DKIM_PERMERROR,
};

/* "none", "pass", ... as RFC 8601 spells them. */
const char *dkim_result_name(int result);

/* Outcome of a key lookup. */
enum { DKIM_DNS_FOUND = 0, DKIM_DNS_NOTFOUND, DKIM_DNS_ERROR };
/* Looks up the TXT record of name (SELECTOR._domainkey.DOMAIN, no final
 * dot) and puts its strings, joined, in txt. */
typedef int (*dkim_lookup_fn)(void *ctx, const char *name, struct buf *txt);

struct dkim_verdict {
	int result;
	enum dkim_alg alg;
	char d[DKIM_DOMAIN_MAX + 1];
	char s[DKIM_DOMAIN_MAX + 1];
	char i[DKIM_DOMAIN_MAX + 66];
	char b[24];	    /* header.b: the first characters of b= */
	int testing;	    /* the key has t=y */
	const char *reason; /* static text; "" for pass */
};

/* Verifies up to limit signatures of the message (data, len: header and
 * body as stored, CRLF or LF) at time now; returns how many verdicts it
 * wrote (at most max); *seen (when not NULL) gets the number of
 * DKIM-Signature fields, so the caller can tell that some were past the
 * limit. */
size_t dkim_verify(const char *data, size_t len, dkim_lookup_fn lookup,
		   void *ctx, long long now, size_t limit,
		   struct dkim_verdict *out, size_t max, size_t *seen);

/* Whoever signs: a private key (RSA or Ed25519; its type gives a=), the
 * d= domain and the selector. */
struct dkim_signer {
	EVP_PKEY *key;
	const char *domain;
	const char *selector;
};

/* Appends "DKIM-Signature: ...\r\n" for the message to field: 0, or -1
 * with a reason in err (an unusable key, a message whose header cannot
 * be read). */
int dkim_sign(const char *data, size_t len, const struct dkim_signer *s,
	      long long now, struct buf *field, struct buf *err);

/* The a= of a key: DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256, or 0
 * for a key DKIM cannot use. */
int dkim_key_alg(EVP_PKEY *key);

/* The public half of key as the p= of a key record (base64 of the
 * SubjectPublicKeyInfo for RSA, of the 32 raw bytes for Ed25519), and
 * the record "v=DKIM1; k=...; p=..." in record. */
int dkim_key_record(EVP_PKEY *key, struct buf *record);

#endif
