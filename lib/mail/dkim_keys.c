/*
 * dkim_keys - OpenDKIM's KeyTable and SigningTable; see dkim_keys.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/pem.h>

#include "dkim_canon.h"
#include "dkim_keys.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

struct key_entry {
	char *name, *domain, *selector, *path;
	EVP_PKEY *key;
};

struct sign_entry {
	char *pattern, *keyname;
	struct key_entry *key;
};

struct dkim_keys {
	int refile;
	size_t nkeys, nsign;
	struct key_entry *keys;
	struct sign_entry *sign;
};

/* Reads a table's lines as (first word, rest) pairs into fn. */
static int
read_table(const char *path,
	   int (*fn)(void *, char *, char *, long, struct buf *), void *ctx,
	   struct buf *err)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	long lineno = 0;

	if (fp == NULL) {
		buf_printf(err, "open %s: %m", path);
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p, *key, *val;

		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		key = str_trim(line);
		if (*key == '\0')
			continue;
		val = key + strcspn(key, " \t");
		if (*val)
			*val++ = '\0';
		val = str_trim(val);
		if (*val == '\0') {
			buf_printf(err, "%s, line %ld: no value for \"%s\"",
				   path, lineno, key);
			fclose(fp);
			return -1;
		}
		if (fn(ctx, key, val, lineno, err) < 0) {
			buf_printf(err, " (%s, line %ld)", path, lineno);
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

static int
add_key(void *ctx, char *name, char *val, long lineno, struct buf *err)
{
	struct dkim_keys *k = ctx;
	char *sel = strchr(val, ':'), *path;
	struct key_entry *e;

	(void)lineno;
	path = sel ? strchr(sel + 1, ':') : NULL;
	if (sel == NULL || path == NULL || sel == val || path == sel + 1 ||
	    path[1] != '/') {
		buf_printf(err, "key \"%s\": expected DOMAIN:SELECTOR:/path",
			   name);
		return -1;
	}
	*sel++ = '\0';
	*path++ = '\0';
	k->keys = xreallocarray(k->keys, k->nkeys + 1, sizeof(*k->keys));
	e = &k->keys[k->nkeys++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->domain = xstrdup(val);
	e->selector = xstrdup(sel);
	e->path = xstrdup(path);
	str_lower(e->domain);
	str_lower(e->selector);
	return 0;
}

static int
add_sign(void *ctx, char *pattern, char *val, long lineno, struct buf *err)
{
	struct dkim_keys *k = ctx;
	struct sign_entry *e;

	(void)lineno;
	(void)err;
	k->sign = xreallocarray(k->sign, k->nsign + 1, sizeof(*k->sign));
	e = &k->sign[k->nsign++];
	e->pattern = xstrdup(pattern);
	str_lower(e->pattern);
	e->keyname = xstrdup(val);
	e->key = NULL;
	return 0;
}

static EVP_PKEY *
read_key(const char *path, struct buf *err)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *key;

	if (fp == NULL) {
		buf_printf(err, "open %s: %m", path);
		return NULL;
	}
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL)
		buf_printf(err, "%s: not a PEM private key", path);
	else if (dkim_key_alg(key) == 0) {
		buf_printf(err, "%s: neither an RSA nor an Ed25519 key", path);
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

struct dkim_keys *
dkim_keys_load(const char *key_table, const char *signing_table,
	       struct buf *err)
{
	struct dkim_keys *k = xcalloc(1, sizeof(*k));
	size_t i, j;

	if (strncmp(signing_table, "refile:", 7) == 0) {
		k->refile = 1;
		signing_table += 7;
	} else if (strncmp(signing_table, "file:", 5) == 0) {
		signing_table += 5;
	}
	if (strncmp(key_table, "file:", 5) == 0)
		key_table += 5;
	if (read_table(key_table, add_key, k, err) < 0 ||
	    read_table(signing_table, add_sign, k, err) < 0)
		goto fail;
	for (i = 0; i < k->nsign; i++) {
		for (j = 0; j < k->nkeys; j++)
			if (strcmp(k->keys[j].name, k->sign[i].keyname) == 0)
				break;
		if (j == k->nkeys) {
			buf_printf(err, "%s: key \"%s\" is not in %s",
				   signing_table, k->sign[i].keyname,
				   key_table);
			goto fail;
		}
		k->sign[i].key = &k->keys[j];
		if (k->keys[j].key == NULL &&
		    (k->keys[j].key = read_key(k->keys[j].path, err)) == NULL)
			goto fail;
	}
	return k;
fail:
	dkim_keys_free(k);
	return NULL;
}

void
dkim_keys_free(struct dkim_keys *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nkeys; i++) {
		xfree(k->keys[i].name);
		xfree(k->keys[i].domain);
		xfree(k->keys[i].selector);
		xfree(k->keys[i].path);
		EVP_PKEY_free(k->keys[i].key);
	}
	for (i = 0; i < k->nsign; i++) {
		xfree(k->sign[i].pattern);
		xfree(k->sign[i].keyname);
	}
	xfree(k->keys);
	xfree(k->sign);
	xfree(k);
}

int
dkim_wildcard(const char *p, const char *s)
{
	/* Iterative glob with one backtrack point: linear enough for
	 * the short strings of a signing table. */
	const char *star = NULL, *mark = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p && (*p == *s ||
				  (*p >= 'A' && *p <= 'Z' && *p + 32 == *s) ||
				  (*s >= 'A' && *s <= 'Z' && *s + 32 == *p))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Every line with pattern key (plain lookup), in order. */
static size_t
collect(const struct dkim_keys *k, const char *pattern, const char *domain,
	struct dkim_signer *out, char (*domains)[254], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < k->nsign && n < max; i++) {
		const struct key_entry *e = k->sign[i].key;

		if (strcmp(k->sign[i].pattern, pattern) != 0)
			continue;
		out[n].key = e->key;
		out[n].selector = e->selector;
		if (strcmp(e->domain, "%") == 0) {
			snprintf(domains[n], 254, "%s", domain);
			out[n].domain = domains[n];
		} else {
			out[n].domain = e->domain;
		}
		n++;
	}
	return n;
}

size_t
dkim_keys_find(const struct dkim_keys *k, const char *address,
	       struct dkim_signer *out, char (*domains)[254], size_t max)
{
	const char *at = strrchr(address, '@'), *d;
	size_t i, n;

	if (k == NULL || at == NULL || at[1] == '\0' || strlen(at + 1) > 253)
		return 0;
	if (k->refile) {
		for (i = 0; i < k->nsign; i++)
			if (dkim_wildcard(k->sign[i].pattern, address))
				return collect(k, k->sign[i].pattern, at + 1,
					       out, domains, max);
		return 0;
	}
	if ((n = collect(k, address, at + 1, out, domains, max)) > 0 ||
	    (n = collect(k, at + 1, at + 1, out, domains, max)) > 0)
		return n;
	for (d = strchr(at + 1, '.'); d; d = strchr(d + 1, '.'))
		if ((n = collect(k, d, at + 1, out, domains, max)) > 0)
			return n;
	return 0;
}

int
dkim_from_address(const char *value, size_t len, char *out, size_t outlen)
{
	const char *lt = memchr(value, '<', len), *gt;
	size_t i, n = 0;
	int depth = 0, quoted = 0;

	if (lt) {
		gt = memchr(lt, '>', len - (size_t)(lt - value));
		if (gt == NULL)
			return -1;
		value = lt + 1;
		len = (size_t)(gt - lt - 1);
	}
	for (i = 0; i < len; i++) {
		int c = (unsigned char)value[i];

		if (quoted) {
			if (c == '"')
				quoted = 0;
		} else if (c == '"') {
			quoted = 1;
		} else if (c == '(') {
			depth++;
			continue;
		} else if (c == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (!quoted &&
		    (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (!quoted && c == ',')
			break; /* the first of a list */
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
	return n > 0 && strchr(out, '@') ? 0 : -1;
}

/* 1 when m already has a signature of d= and s= (a reinjection). */
static int
signed_by(const struct dkim_msg *m, const struct dkim_signer *s)
{
	static struct dkim_sig sig;
	const char *why;

	for (size_t j = 0; j < m->nfields; j++) {
		const struct dkim_field *f = &m->f[j];

		if (dkim_field_is(f, "dkim-signature") &&
		    dkim_sig_parse(f->p + f->colon + 1, f->len - f->colon - 1,
				   &sig, &why) == DKIM_PARSE_OK &&
		    strcasecmp(sig.d, s->domain) == 0 &&
		    strcasecmp(sig.s, s->selector) == 0)
			return 1;
	}
	return 0;
}

size_t
dkim_keys_sign(const struct dkim_keys *k, const char *data, size_t len,
	       const char *sender, const char *id, struct buf *out)
{
	struct dkim_signer s[DKIM_KEYS_SIGNERS];
	char domains[DKIM_KEYS_SIGNERS][254], from[512] = "";
	struct buf err = BUF_INIT;
	struct dkim_msg m;
	size_t n, i, done = 0;

	if (dkim_msg_split(data, len, &m) < 0) {
		msg_warn("%s: DKIM: too many header fields to sign", id);
		return 0;
	}
	for (i = 0; i < m.nfields; i++)
		if (dkim_field_is(&m.f[i], "from")) {
			dkim_from_address(m.f[i].p + m.f[i].colon + 1,
					  m.f[i].len - m.f[i].colon - 1, from,
					  sizeof(from));
			break;
		}
	if (from[0] == '\0' && sender)
		snprintf(from, sizeof(from), "%s", sender);
	n = dkim_keys_find(k, from, s, domains, DKIM_KEYS_SIGNERS);
	for (i = 0; i < n; i++) {
		if (signed_by(&m, &s[i]))
			continue;
		buf_reset(&err);
		if (dkim_sign(data, len, &s[i], (long long)time(NULL), out,
			      &err) < 0) {
			msg_warn("%s: DKIM: cannot sign for %s: %s", id, from,
				 buf_cstr(&err));
		} else {
			msg_info("%s: DKIM-Signature field added (d=%s, "
				 "s=%s)",
				 id, s[i].domain, s[i].selector);
			done++;
		}
	}
	dkim_msg_free(&m);
	buf_free(&err);
	return done;
}
