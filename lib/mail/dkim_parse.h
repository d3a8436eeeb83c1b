/*
 * dkim_parse - the text of DKIM (RFC 6376, RFC 8463): tag lists
 * (section 3.2), the DKIM-Signature header field (3.5) and the key
 * record published at SELECTOR._domainkey.DOMAIN (3.6.1).
 *
 * Pure and bounded: no allocation, no I/O; every output has a fixed
 * size (DKIM_TAGS_MAX tags, DKIM_H_MAX signed header names, decoded
 * signatures and keys of at most DKIM_B_MAX and DKIM_P_MAX bytes), and
 * anything that does not fit is a syntax error.  Fuzzed by
 * tests/fuzz/fuzz_dkim.c.
 */
#ifndef PANACEA_DKIM_PARSE_H
#define PANACEA_DKIM_PARSE_H

#include <stddef.h>

#define DKIM_TAGS_MAX 32     /* tags in one list */
#define DKIM_TAG_NAME_MAX 16 /* bytes of a tag name */
#define DKIM_H_MAX 64	     /* names in h= */
#define DKIM_HNAME_MAX 64    /* bytes of one header name in h= */
#define DKIM_DOMAIN_MAX 253
#define DKIM_B_MAX 1024 /* decoded b=: an 8192-bit RSA signature */
#define DKIM_P_MAX 2048 /* decoded p=: an 8192-bit RSA key in DER */
#define DKIM_BH_MAX 64

/* One tag of a tag list: offsets into the text given to the parser. */
struct dkim_tag {
	char name[DKIM_TAG_NAME_MAX + 1];
	size_t val_off; /* first byte of the value (after FWS) */
	size_t val_len; /* without trailing FWS */
};

/* Parses a tag-list: 0 and *n tags, or -1 for a syntax error (a
 * duplicate tag, a bad name or value character, more than max tags).
 * An empty list and a trailing ';' are allowed. */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags,
		    size_t max, size_t *n);

/* Results of parsing: a signature or key record we cannot use because
 * it is broken is a permerror; one written for something we do not
 * implement (another version, algorithm, canonicalisation or query
 * method) is neutral, as RFC 6376 6.1.1 lets a verifier ignore it. */
enum {
	DKIM_PARSE_OK = 0,
	DKIM_PARSE_PERMERROR = -1,
	DKIM_PARSE_UNSUPPORTED = -2,
};

enum dkim_alg { DKIM_ALG_RSA_SHA256 = 1, DKIM_ALG_ED25519_SHA256 };
enum dkim_canon { DKIM_CANON_SIMPLE = 0, DKIM_CANON_RELAXED };

struct dkim_sig {
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	char d[DKIM_DOMAIN_MAX + 1]; /* lower case */
	char s[DKIM_DOMAIN_MAX + 1]; /* selector, lower case */
	char i[DKIM_DOMAIN_MAX + 66];
	size_t nh;
	char h[DKIM_H_MAX][DKIM_HNAME_MAX + 1];
	unsigned char b[DKIM_B_MAX];
	size_t blen;
	char b_text[24]; /* the first base64 characters, for header.b */
	unsigned char bh[DKIM_BH_MAX];
	size_t bhlen;
	long long l, t, x; /* -1 when absent */
};

/* Parses the value of a DKIM-Signature field (everything after the
 * colon).  why gets a short reason for anything but DKIM_PARSE_OK. */
int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig,
		   const char **why);

enum dkim_key_type { DKIM_KEY_RSA = 1, DKIM_KEY_ED25519 };

struct dkim_key {
	enum dkim_key_type k;
	int revoked; /* p= empty */
	int testing; /* t=y */
	int strict;  /* t=s: i= must be d= exactly */
	unsigned char p[DKIM_P_MAX];
	size_t plen;
};

/* Parses a key record (the strings of the TXT record joined).  why gets
 * a reason for anything but DKIM_PARSE_OK. */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key,
		   const char **why);

/* Decodes base64 that may carry folding white space (b=, bh=, p=) into
 * at most max bytes: the decoded length, or -1. */
long dkim_base64(const char *s, size_t len, unsigned char *out, size_t max);

/* The offsets of the b= value inside a DKIM-Signature field value, for
 * removing it before hashing (section 3.7): 0, or -1 when the value is
 * not a tag list or has no b=. */
int dkim_sig_b_span(const char *value, size_t len, size_t *off, size_t *vlen);

#endif
