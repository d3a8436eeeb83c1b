/*
 * dkim_parse - DKIM tag lists, DKIM-Signature values and key records;
 * see dkim_parse.h.
 *
 * RFC 6376 3.2 is strict about names and value characters and lenient
 * about folding white space; so is this parser.  Values are handed on
 * as offsets, so that the caller that must remove b= before hashing
 * (3.7) finds it exactly where the signer wrote it.
 */
#include <stdint.h>
#include <string.h>

#include "dkim_parse.h"

static int
is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags, size_t max,
		size_t *n)
{
	size_t i = 0, count = 0, k, end, start;

	*n = 0;
	for (;;) {
		while (i < len && is_fws((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		if (!is_alpha((unsigned char)s[i]) || count == max)
			return -1;
		k = 0;
		while (i < len &&
		       (is_alpha((unsigned char)s[i]) ||
			is_digit((unsigned char)s[i]) || s[i] == '_')) {
			if (k == DKIM_TAG_NAME_MAX)
				return -1;
			tags[count].name[k++] = s[i++];
		}
		tags[count].name[k] = '\0';
		while (i < len && is_fws((unsigned char)s[i]))
			i++;
		if (i == len || s[i] != '=')
			return -1;
		i++;
		while (i < len && is_fws((unsigned char)s[i]))
			i++;
		start = end = i;
		while (i < len && s[i] != ';') {
			unsigned char c = (unsigned char)s[i];

			if (!is_fws(c)) {
				if (c < 0x21 || c > 0x7e)
					return -1;
				end = i + 1;
			}
			i++;
		}
		tags[count].val_off = start;
		tags[count].val_len = end - start;
		for (k = 0; k < count; k++)
			if (strcmp(tags[k].name, tags[count].name) == 0)
				return -1;
		count++;
		if (i == len)
			break;
		i++; /* the ';' */
	}
	*n = count;
	return 0;
}

long
dkim_base64(const char *s, size_t len, unsigned char *out, size_t max)
{
	uint32_t acc = 0;
	size_t i, bits = 0, n = 0, pad = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i], v;

		if (is_fws(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1; /* data after padding */
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (is_digit(c))
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)n;
}

/* 1 when v (len bytes) equals word, ignoring case. */
static int
word_is(const char *v, size_t len, const char *word)
{
	size_t i;

	if (strlen(word) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (lower((unsigned char)v[i]) != word[i])
			return 0;
	return 1;
}

/* 1 when the colon-separated list v holds word (FWS around items). */
static int
list_has(const char *v, size_t len, const char *word)
{
	size_t i = 0, a, b;

	while (i <= len) {
		a = i;
		while (i < len && v[i] != ':')
			i++;
		b = i;
		while (a < b && is_fws((unsigned char)v[a]))
			a++;
		while (b > a && is_fws((unsigned char)v[b - 1]))
			b--;
		if (word_is(v + a, b - a, word))
			return 1;
		i++;
	}
	return 0;
}

/* A domain name or selector: letters, digits, '-', '_' and dots between
 * non-empty labels; copied in lower case.  0, or -1. */
static int
copy_domain(const char *v, size_t len, char *out, size_t outlen)
{
	size_t i, label = 0;

	if (len == 0 || len >= outlen || len > DKIM_DOMAIN_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)v[i];

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = (char)lower(c);
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* Decimal digits, at most max_digits of them: 0 and *out, or -1. */
static int
number(const char *v, size_t len, size_t max_digits, long long *out)
{
	long long n = 0;
	size_t i;

	if (len == 0)
		return -1;
	/* Leading zeros do not count against the bound. */
	while (len > 1 && v[0] == '0') {
		v++;
		len--;
	}
	if (len > max_digits)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)v[i]))
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

static const struct dkim_tag *
find(const struct dkim_tag *tags, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tags[i].name, name) == 0)
			return &tags[i];
	return NULL;
}

/* h=: header names separated by ':' with FWS around them. */
static int
parse_h(const char *v, size_t len, struct dkim_sig *sig)
{
	size_t i = 0, a, b, k;
	int from = 0;

	sig->nh = 0;
	while (i <= len) {
		a = i;
		while (i < len && v[i] != ':')
			i++;
		b = i;
		while (a < b && is_fws((unsigned char)v[a]))
			a++;
		while (b > a && is_fws((unsigned char)v[b - 1]))
			b--;
		if (b == a || b - a > DKIM_HNAME_MAX || sig->nh == DKIM_H_MAX)
			return -1;
		for (k = a; k < b; k++) {
			int c = (unsigned char)v[k];

			if (c < 0x21 || c > 0x7e || c == ':')
				return -1;
			sig->h[sig->nh][k - a] = (char)lower(c);
		}
		sig->h[sig->nh][b - a] = '\0';
		if (strcmp(sig->h[sig->nh], "from") == 0)
			from = 1;
		sig->nh++;
		i++;
	}
	return from ? 0 : -1;
}

#define FAIL(code, text)                                                       \
	do {                                                                   \
		*why = (text);                                                 \
		return (code);                                                 \
	} while (0)

int
dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig,
	       const char **why)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const struct dkim_tag *t;
	size_t n, k, j;
	long r;

	memset(sig, 0, sizeof(*sig));
	sig->l = sig->t = sig->x = -1;
	*why = "";
	if (dkim_tags_parse(value, len, tags, DKIM_TAGS_MAX, &n) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "signature syntax error");
	for (const char *req = "v\0a\0b\0bh\0d\0h\0s\0"; *req;
	     req += strlen(req) + 1)
		if (find(tags, n, req) == NULL)
			FAIL(DKIM_PARSE_PERMERROR,
			     "signature missing required tag");
#define V(tag) (value + (tag)->val_off), (tag)->val_len
	t = find(tags, n, "v");
	if (!word_is(V(t), "1"))
		FAIL(DKIM_PARSE_UNSUPPORTED, "incompatible version");
	t = find(tags, n, "a");
	if (word_is(V(t), "rsa-sha256"))
		sig->alg = DKIM_ALG_RSA_SHA256;
	else if (word_is(V(t), "ed25519-sha256"))
		sig->alg = DKIM_ALG_ED25519_SHA256;
	else
		FAIL(DKIM_PARSE_UNSUPPORTED, "unsupported algorithm");
	if ((t = find(tags, n, "c")) != NULL) {
		const char *v = value + t->val_off, *slash;
		size_t vl = t->val_len, hl;

		slash = memchr(v, '/', vl);
		hl = slash ? (size_t)(slash - v) : vl;
		if (word_is(v, hl, "relaxed"))
			sig->hcanon = DKIM_CANON_RELAXED;
		else if (!word_is(v, hl, "simple"))
			FAIL(DKIM_PARSE_UNSUPPORTED,
			     "unsupported canonicalization");
		if (slash) {
			if (word_is(slash + 1, vl - hl - 1, "relaxed"))
				sig->bcanon = DKIM_CANON_RELAXED;
			else if (!word_is(slash + 1, vl - hl - 1, "simple"))
				FAIL(DKIM_PARSE_UNSUPPORTED,
				     "unsupported canonicalization");
		}
	}
	if ((t = find(tags, n, "q")) != NULL && !list_has(V(t), "dns/txt"))
		FAIL(DKIM_PARSE_UNSUPPORTED, "unsupported query method");
	t = find(tags, n, "d");
	if (copy_domain(V(t), sig->d, sizeof(sig->d)) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad d= domain");
	t = find(tags, n, "s");
	if (copy_domain(V(t), sig->s, sizeof(sig->s)) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad s= selector");
	t = find(tags, n, "h");
	if (parse_h(V(t), sig) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "h= does not sign From");
	t = find(tags, n, "bh");
	r = dkim_base64(V(t), sig->bh, sizeof(sig->bh));
	if (r <= 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad bh= value");
	sig->bhlen = (size_t)r;
	t = find(tags, n, "b");
	r = dkim_base64(V(t), sig->b, sizeof(sig->b));
	if (r <= 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad b= value");
	sig->blen = (size_t)r;
	for (k = j = 0; k < t->val_len && j < 8; k++)
		if (!is_fws((unsigned char)value[t->val_off + k]))
			sig->b_text[j++] = value[t->val_off + k];
	sig->b_text[j] = '\0';
	if ((t = find(tags, n, "i")) != NULL) {
		const char *v = value + t->val_off, *at;
		size_t dl, il = strlen(sig->d);
		char dom[DKIM_DOMAIN_MAX + 1];

		at = memchr(v, '@', t->val_len);
		if (at == NULL || t->val_len >= sizeof(sig->i) ||
		    (size_t)(at - v) > 64)
			FAIL(DKIM_PARSE_PERMERROR, "bad i= identity");
		if (copy_domain(at + 1, t->val_len - (size_t)(at - v) - 1, dom,
				sizeof(dom)) < 0)
			FAIL(DKIM_PARSE_PERMERROR, "bad i= identity");
		dl = strlen(dom);
		/* i= must be d= or a subdomain of it (3.5). */
		if (!(strcmp(dom, sig->d) == 0 ||
		      (dl > il && dom[dl - il - 1] == '.' &&
		       strcmp(dom + dl - il, sig->d) == 0)))
			FAIL(DKIM_PARSE_PERMERROR, "i= not within d=");
		memcpy(sig->i, v, t->val_len);
		sig->i[t->val_len] = '\0';
	} else {
		sig->i[0] = '@';
		strcpy(sig->i + 1, sig->d);
	}
	if ((t = find(tags, n, "l")) != NULL && number(V(t), 18, &sig->l) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad l= value");
	if ((t = find(tags, n, "t")) != NULL && number(V(t), 12, &sig->t) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad t= value");
	if ((t = find(tags, n, "x")) != NULL && number(V(t), 12, &sig->x) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad x= value");
	if (sig->t >= 0 && sig->x >= 0 && sig->x < sig->t)
		FAIL(DKIM_PARSE_PERMERROR, "x= before t=");
	return DKIM_PARSE_OK;
}

int
dkim_key_parse(const char *txt, size_t len, struct dkim_key *key,
	       const char **why)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const struct dkim_tag *t;
	size_t n;
	long r;

	memset(key, 0, sizeof(*key));
	key->k = DKIM_KEY_RSA;
	*why = "";
	if (dkim_tags_parse(txt, len, tags, DKIM_TAGS_MAX, &n) < 0)
		FAIL(DKIM_PARSE_PERMERROR, "key record syntax error");
	if ((t = find(tags, n, "v")) != NULL &&
	    (t != &tags[0] || !word_is(txt + t->val_off, t->val_len, "dkim1")))
		FAIL(DKIM_PARSE_PERMERROR, "bad key record version");
	if ((t = find(tags, n, "h")) != NULL &&
	    !list_has(txt + t->val_off, t->val_len, "sha256"))
		FAIL(DKIM_PARSE_UNSUPPORTED, "key excludes sha256");
	if ((t = find(tags, n, "k")) != NULL) {
		if (word_is(txt + t->val_off, t->val_len, "ed25519"))
			key->k = DKIM_KEY_ED25519;
		else if (!word_is(txt + t->val_off, t->val_len, "rsa"))
			FAIL(DKIM_PARSE_UNSUPPORTED, "unknown key type");
	}
	if ((t = find(tags, n, "s")) != NULL &&
	    !list_has(txt + t->val_off, t->val_len, "*") &&
	    !list_has(txt + t->val_off, t->val_len, "email"))
		FAIL(DKIM_PARSE_UNSUPPORTED, "key not for email");
	if ((t = find(tags, n, "t")) != NULL) {
		key->testing = list_has(txt + t->val_off, t->val_len, "y");
		key->strict = list_has(txt + t->val_off, t->val_len, "s");
	}
	if ((t = find(tags, n, "p")) == NULL)
		FAIL(DKIM_PARSE_PERMERROR, "key record without p=");
	if (t->val_len == 0) {
		key->revoked = 1;
		FAIL(DKIM_PARSE_PERMERROR, "key revoked");
	}
	r = dkim_base64(txt + t->val_off, t->val_len, key->p, sizeof(key->p));
	if (r <= 0)
		FAIL(DKIM_PARSE_PERMERROR, "bad p= value");
	key->plen = (size_t)r;
	return DKIM_PARSE_OK;
}

int
dkim_sig_b_span(const char *value, size_t len, size_t *off, size_t *vlen)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const struct dkim_tag *t;
	size_t n;

	if (dkim_tags_parse(value, len, tags, DKIM_TAGS_MAX, &n) < 0 ||
	    (t = find(tags, n, "b")) == NULL)
		return -1;
	/* The value with the white space around it (3.7): from after the
	 * '=' to the ';' or the end. */
	*off = t->val_off;
	while (*off > 0 && value[*off - 1] != '=')
		(*off)--;
	*vlen = t->val_off + t->val_len - *off;
	while (*off + *vlen < len && value[*off + *vlen] != ';')
		(*vlen)++;
	return 0;
}
