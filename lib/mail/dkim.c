/*
 * dkim - DKIM verification and signing over OpenSSL EVP; see dkim.h.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/x509.h>

#include "base64.h"
#include "dkim.h"
#include "dkim_canon.h"
#include "xalloc.h"

#define DKIM_RSA_MIN_BITS 1024

const char *
dkim_result_name(int result)
{
	static const char *const names[] = {
	    "none",   "pass",	   "fail",	"neutral",
	    "policy", "temperror", "permerror",
	};

	if (result < 0 || result > DKIM_PERMERROR)
		return "none";
	return names[result];
}

int
dkim_key_alg(EVP_PKEY *key)
{
	if (key == NULL)
		return 0;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return DKIM_ALG_RSA_SHA256;
	case EVP_PKEY_ED25519:
		return DKIM_ALG_ED25519_SHA256;
	}
	return 0;
}

static int
sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 &&
		       n == 32
		   ? 0
		   : -1;
}

/* The body hash of the canonical body, cut at l (-1: whole); -1 when l
 * is past the end of the body. */
static int
body_hash(const struct dkim_msg *m, int relaxed, long long l,
	  unsigned char out[32])
{
	struct buf canon = BUF_INIT;
	size_t n;
	int r;

	dkim_canon_body(relaxed, m->body, m->body_len, &canon);
	n = canon.len;
	if (l >= 0) {
		if ((unsigned long long)l > n) {
			buf_free(&canon);
			return -1;
		}
		n = (size_t)l;
	}
	r = sha256(canon.data ? canon.data : "", n, out);
	buf_free(&canon);
	return r;
}

/* Signs or verifies the header hash input: RSA signs it with SHA-256
 * (PKCS#1 v1.5); Ed25519 signs its SHA-256 hash (RFC 8463 3). */
static int
sig_op(EVP_PKEY *key, int verify, const struct buf *input, unsigned char *sig,
       size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char hash[32];
	const unsigned char *msg = (const unsigned char *)input->data;
	size_t msglen = input->len;
	const EVP_MD *md = EVP_sha256();
	int ok;

	if (ctx == NULL)
		return -1;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		if (sha256(input->data ? input->data : "", input->len, hash) <
		    0) {
			EVP_MD_CTX_free(ctx);
			return -1;
		}
		msg = hash;
		msglen = sizeof(hash);
		md = NULL;
	}
	if (msg == NULL)
		msg = (const unsigned char *)"";
	if (verify)
		ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
		     EVP_DigestVerify(ctx, sig, *siglen, msg, msglen) == 1;
	else
		ok = EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
		     EVP_DigestSign(ctx, sig, siglen, msg, msglen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* The public key of a key record, or NULL. */
static EVP_PKEY *
record_key(const struct dkim_key *k)
{
	const unsigned char *p = k->p;
	EVP_PKEY *key;

	if (k->k == DKIM_KEY_ED25519)
		return k->plen == 32 ? EVP_PKEY_new_raw_public_key(
					   EVP_PKEY_ED25519, NULL, k->p, 32)
				     : NULL;
	/* SubjectPublicKeyInfo, as everyone publishes; RFC 6376 3.6.1
	 * also names the bare RSAPublicKey. */
	key = d2i_PUBKEY(NULL, &p, (long)k->plen);
	if (key == NULL) {
		p = k->p;
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)k->plen);
	}
	if (key && (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
		    p != k->p + k->plen)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

/* The verdict of one signature field f of m. */
static void
verify_one(const struct dkim_msg *m, const struct dkim_field *f,
	   dkim_lookup_fn lookup, void *ctx, long long now,
	   struct dkim_verdict *v)
{
	struct dkim_sig *sig = xmalloc(sizeof(*sig));
	struct dkim_key *key = xmalloc(sizeof(*key));
	struct buf name = BUF_INIT, txt = BUF_INIT, field = BUF_INIT,
		   input = BUF_INIT;
	const char *value = f->p + f->colon + 1, *why;
	size_t vlen = f->len - f->colon - 1, boff, blen, siglen;
	unsigned char bh[32];
	EVP_PKEY *pk = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	v->reason = "";
#define VERDICT(res, text)                                                     \
	do {                                                                   \
		v->result = (res);                                             \
		v->reason = (text);                                            \
		goto done;                                                     \
	} while (0)
	r = dkim_sig_parse(value, vlen, sig, &why);
	/* What could be read is reported even for a bad signature. */
	memcpy(v->d, sig->d, sizeof(v->d));
	memcpy(v->s, sig->s, sizeof(v->s));
	memcpy(v->i, sig->i, sizeof(v->i));
	memcpy(v->b, sig->b_text, sizeof(v->b));
	v->alg = sig->alg;
	if (r == DKIM_PARSE_UNSUPPORTED)
		VERDICT(DKIM_NEUTRAL, why);
	if (r != DKIM_PARSE_OK)
		VERDICT(DKIM_PERMERROR, why);
	if (sig->x >= 0 && now > sig->x)
		VERDICT(DKIM_PERMERROR, "signature expired");
	buf_printf(&name, "%s._domainkey.%s", sig->s, sig->d);
	if (name.len > DKIM_DOMAIN_MAX)
		VERDICT(DKIM_PERMERROR, "key name too long");
	switch (lookup(ctx, buf_cstr(&name), &txt)) {
	case DKIM_DNS_FOUND:
		break;
	case DKIM_DNS_NOTFOUND:
		VERDICT(DKIM_PERMERROR, "no key for signature");
	default:
		VERDICT(DKIM_TEMPERROR, "key lookup failed");
	}
	r = dkim_key_parse(txt.data ? txt.data : "", txt.len, key, &why);
	if (r == DKIM_PARSE_UNSUPPORTED)
		VERDICT(DKIM_NEUTRAL, why);
	if (r != DKIM_PARSE_OK)
		VERDICT(DKIM_PERMERROR, why);
	v->testing = key->testing;
	if ((key->k == DKIM_KEY_ED25519) !=
	    (sig->alg == DKIM_ALG_ED25519_SHA256))
		VERDICT(DKIM_PERMERROR, "key type does not match a=");
	if (key->strict) {
		const char *at = strchr(sig->i, '@');

		if (at == NULL || strcmp(at + 1, sig->d) != 0)
			VERDICT(DKIM_PERMERROR, "i= is a subdomain under t=s");
	}
	if ((pk = record_key(key)) == NULL)
		VERDICT(DKIM_PERMERROR, "bad public key");
	if (key->k == DKIM_KEY_RSA && EVP_PKEY_get_bits(pk) < DKIM_RSA_MIN_BITS)
		VERDICT(DKIM_POLICY, "RSA key shorter than 1024 bits");
	if (body_hash(m, sig->bcanon == DKIM_CANON_RELAXED, sig->l, bh) < 0)
		VERDICT(DKIM_PERMERROR, "l= past the end of the body");
	if (sig->bhlen != sizeof(bh) || memcmp(bh, sig->bh, sizeof(bh)) != 0)
		VERDICT(DKIM_FAIL, "body hash mismatch");
	/* The signature field with its b= value removed (3.7). */
	if (dkim_sig_b_span(value, vlen, &boff, &blen) < 0)
		VERDICT(DKIM_PERMERROR, "signature syntax error");
	boff += (size_t)(value - f->p);
	buf_append(&field, f->p, boff);
	buf_append(&field, f->p + boff + blen, f->len - boff - blen);
	dkim_header_input(m, sig->hcanon == DKIM_CANON_RELAXED,
			  (const char(*)[65])sig->h, sig->nh, field.data,
			  field.len, &input);
	siglen = sig->blen;
	if (sig_op(pk, 1, &input, sig->b, &siglen) < 0)
		VERDICT(DKIM_FAIL, "signature did not verify");
	v->result = DKIM_PASS;
done:
	EVP_PKEY_free(pk);
	buf_free(&name);
	buf_free(&txt);
	buf_free(&field);
	buf_free(&input);
	xfree(sig);
	xfree(key);
#undef VERDICT
}

size_t
dkim_verify(const char *data, size_t len, dkim_lookup_fn lookup, void *ctx,
	    long long now, size_t limit, struct dkim_verdict *out, size_t max,
	    size_t *seen)
{
	struct dkim_msg m;
	size_t n = 0, count = 0;

	if (seen)
		*seen = 0;
	if (dkim_msg_split(data, len, &m) < 0) {
		/* Too many fields to index: every signature would be
		 * guesswork; one permerror says so. */
		if (max > 0) {
			memset(&out[0], 0, sizeof(out[0]));
			out[0].result = DKIM_PERMERROR;
			out[0].reason = "header too large to verify";
			return 1;
		}
		return 0;
	}
	for (size_t j = 0; j < m.nfields; j++) {
		if (!dkim_field_is(&m.f[j], "dkim-signature"))
			continue;
		count++;
		if (n < limit && n < max)
			verify_one(&m, &m.f[j], lookup, ctx, now, &out[n++]);
	}
	if (seen)
		*seen = count;
	dkim_msg_free(&m);
	return n;
}

/* RFC 6376 5.4.1's list and the fields that say what the body is; the
 * first four are over-signed. */
static const char *const sign_fields[] = {
    "from",
    "to",
    "subject",
    "date",
    "cc",
    "reply-to",
    "sender",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "resent-date",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
};
#define OVERSIGNED 4

/* Appends text to the field being built, folding first when the line
 * would pass 76 columns. */
static void
fold_add(struct buf *f, size_t *col, const char *text, size_t len, int sep)
{
	if (*col + len + 1 > 76) {
		buf_append(f, "\r\n\t", 3);
		*col = 1;
	} else if (sep) {
		buf_putc(f, ' ');
		(*col)++;
	}
	buf_append(f, text, len);
	*col += len;
}

int
dkim_sign(const char *data, size_t len, const struct dkim_signer *s,
	  long long now, struct buf *field, struct buf *err)
{
	struct dkim_msg m;
	struct buf f = BUF_INIT, tmp = BUF_INIT, input = BUF_INIT,
		   b64 = BUF_INIT;
	char h[DKIM_H_MAX][65];
	size_t nh = 0, col, k, j, siglen;
	unsigned char bh[32], *sig = NULL;
	int alg = dkim_key_alg(s->key), rc = -1;

	if (alg == 0) {
		buf_puts(err, "key is neither RSA nor Ed25519");
		return -1;
	}
	if (dkim_msg_split(data, len, &m) < 0) {
		buf_puts(err, "too many header fields to sign");
		return -1;
	}
	for (k = 0; k < sizeof(sign_fields) / sizeof(sign_fields[0]); k++) {
		size_t times = k < OVERSIGNED ? 1 : 0;

		for (j = 0; j < m.nfields; j++)
			if (dkim_field_is(&m.f[j], sign_fields[k]))
				times++;
		for (; times > 0 && nh < DKIM_H_MAX; times--)
			strcpy(h[nh++], sign_fields[k]);
	}
	if (body_hash(&m, 1, -1, bh) < 0) {
		buf_puts(err, "cannot hash the body");
		goto out;
	}
	buf_printf(&f, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=%s;",
		   alg == DKIM_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256",
		   s->domain);
	col = f.len;
	buf_printf(&tmp, "s=%s;", s->selector);
	fold_add(&f, &col, tmp.data, tmp.len, 1);
	buf_reset(&tmp);
	buf_printf(&tmp, "t=%lld;", now);
	fold_add(&f, &col, tmp.data, tmp.len, 1);
	for (k = 0; k < nh; k++) {
		buf_reset(&tmp);
		buf_printf(&tmp, "%s%s%s", k == 0 ? "h=" : "", h[k],
			   k + 1 < nh ? ":" : ";");
		fold_add(&f, &col, tmp.data, tmp.len, k == 0);
	}
	buf_reset(&tmp);
	buf_puts(&tmp, "bh=");
	base64_encode(&tmp, bh, sizeof(bh));
	buf_putc(&tmp, ';');
	fold_add(&f, &col, tmp.data, tmp.len, 1);
	fold_add(&f, &col, "b=", 2, 1);
	/* The field as it is now, b= empty, is what the signature covers. */
	dkim_header_input(&m, 1, (const char(*)[65])h, nh, f.data, f.len,
			  &input);
	if (EVP_PKEY_get_size(s->key) <= 0) {
		buf_puts(err, "unusable key");
		goto out;
	}
	siglen = (size_t)EVP_PKEY_get_size(s->key);
	sig = xmalloc(siglen);
	if (sig_op(s->key, 0, &input, sig, &siglen) < 0) {
		buf_puts(err, "signing failed");
		goto out;
	}
	base64_encode(&b64, sig, siglen);
	for (k = 0; k < b64.len;) {
		size_t room = col < 76 ? 76 - col : 0, n;

		if (room < 8) {
			buf_append(&f, "\r\n\t", 3);
			col = 1;
			continue;
		}
		n = b64.len - k < room ? b64.len - k : room;
		buf_append(&f, b64.data + k, n);
		col += n;
		k += n;
	}
	buf_append(&f, "\r\n", 2);
	buf_append(field, f.data, f.len);
	rc = 0;
out:
	xfree(sig);
	buf_free(&f);
	buf_free(&tmp);
	buf_free(&input);
	buf_free(&b64);
	dkim_msg_free(&m);
	return rc;
}

int
dkim_key_record(EVP_PKEY *key, struct buf *record)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	int derlen;

	switch (dkim_key_alg(key)) {
	case DKIM_ALG_ED25519_SHA256:
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 ||
		    rawlen != 32)
			return -1;
		buf_puts(record, "v=DKIM1; k=ed25519; p=");
		base64_encode(record, raw, rawlen);
		return 0;
	case DKIM_ALG_RSA_SHA256:
		derlen = i2d_PUBKEY(key, &der);
		if (derlen <= 0)
			return -1;
		buf_puts(record, "v=DKIM1; k=rsa; p=");
		base64_encode(record, der, (size_t)derlen);
		OPENSSL_free(der);
		return 0;
	}
	return -1;
}
