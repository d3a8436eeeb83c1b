/*
 * map_query - query templates, result formats and the domain filter of
 * the directory tables; see map_query.h.
 *
 * One expansion routine serves both kinds of template: for a query the
 * lower-case codes are parts of the key (quoted), for a result_format
 * they are parts of the value found and the upper-case ones and digits
 * the key (not quoted: the result is not a query).  Whether a key has
 * the parts a result_format needs is found by expanding it once with a
 * stand-in value that has them all, so the rule lives in one place.
 */
#include <ctype.h>
#include <string.h>

#include "map_query.h"
#include "maps.h"
#include "match_list.h"
#include "xalloc.h"

struct parts {
	const char *all, *local, *domain; /* domain NULL: no '@' */
	size_t all_len, local_len;
};

static void
parts_split(const char *s, struct parts *p)
{
	const char *at = strrchr(s, '@');

	p->all = s;
	p->all_len = strlen(s);
	p->local = s;
	p->local_len = at ? (size_t)(at - s) : p->all_len;
	p->domain = at ? at + 1 : NULL;
}

/* Label n (1 = the rightmost) of domain; 0 when there are fewer or it
 * is empty. */
static int
domain_label(const char *domain, int n, const char **label, size_t *len)
{
	const char *end = domain + strlen(domain), *p = end;

	for (int i = 1;; i++) {
		const char *start = p;

		while (start > domain && start[-1] != '.')
			start--;
		if (i == n) {
			*label = start;
			*len = (size_t)(p - start);
			return *len > 0;
		}
		if (start == domain)
			return 0;
		p = start - 1;
	}
}

static void
put(struct buf *out, const char *s, size_t len, map_quote_fn quote, void *ctx)
{
	if (quote)
		quote(out, s, len, ctx);
	else
		buf_append(out, s, len);
}

/* Expands tmpl into out (appended); val NULL for a query template.
 * 1 done, 0 a part is missing (the key or value is skipped). */
static int
expand(const char *tmpl, const struct parts *key, const struct parts *val,
       map_quote_fn quote, void *ctx, struct buf *out)
{
	for (const char *t = tmpl; *t; t++) {
		const struct parts *src;
		const char *label;
		size_t len;
		int c;

		if (*t != '%') {
			buf_putc(out, *t);
			continue;
		}
		c = *++t;
		if (c == '\0')
			break; /* map_query_check refused it */
		if (c == '%') {
			buf_putc(out, '%');
			continue;
		}
		if (c >= '1' && c <= '9') {
			if (key->domain == NULL ||
			    !domain_label(key->domain, c - '0', &label, &len))
				return 0;
			put(out, label, len, quote, ctx);
			continue;
		}
		src = val && islower(c) ? val : key;
		switch (tolower(c)) {
		case 's':
			if (src->all_len == 0)
				return 0;
			put(out, src->all, src->all_len, quote, ctx);
			break;
		case 'u':
			if (src->local_len == 0)
				return 0;
			put(out, src->local, src->local_len, quote, ctx);
			break;
		case 'd':
			if (src->domain == NULL || *src->domain == '\0')
				return 0;
			put(out, src->domain, strlen(src->domain), quote, ctx);
			break;
		}
	}
	return 1;
}

int
map_query_check(const char *tmpl, int result, struct buf *err)
{
	for (const char *t = tmpl; *t; t++) {
		if (*t != '%')
			continue;
		t++;
		if (*t == '\0' || strchr("%sudSUD123456789", *t) == NULL) {
			buf_set(err, "");
			buf_printf(err,
				   "invalid %%-expansion \"%%%.1s\" in \"%s\" "
				   "(%s)",
				   t, tmpl,
				   result ? "%%, %s, %u, %d, %S, %U, %D, %1-%9"
					  : "%%, %s, %u, %d, %1-%9");
			return -1;
		}
	}
	return 0;
}

int
map_query_init(struct map_query *q, const struct map_cf *cf, const char *path,
	       const char *query_param, const char *dflt_query, struct buf *err)
{
	const char *query = map_cf_str(cf, query_param, dflt_query);
	const char *fmt = map_cf_str(cf, "result_format", "%s");
	const char *domain = map_cf_str(cf, "domain", "");
	struct buf why = BUF_INIT;

	memset(q, 0, sizeof(*q));
	if (query == NULL || *query == '\0') {
		buf_set(err, "");
		buf_printf(err, "%s: %s is not set", path, query_param);
		return -1;
	}
	if (map_query_check(query, 0, &why) < 0 ||
	    (query_param = "result_format",
	     map_query_check(fmt, 1, &why) < 0)) {
		buf_set(err, "");
		buf_printf(err, "%s: %s: %s", path, query_param,
			   buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	q->query = xstrdup(query);
	q->result_format = xstrdup(fmt);
	if (*domain &&
	    (q->domain = match_list_open("domain", domain, err)) == NULL) {
		map_query_free(q);
		return -1;
	}
	if (map_cf_int(cf, "expansion_limit", 0, 0, 1000000,
		       &q->expansion_limit, err) < 0) {
		map_query_free(q);
		return -1;
	}
	return 0;
}

void
map_query_free(struct map_query *q)
{
	xfree(q->query);
	xfree(q->result_format);
	match_list_free(q->domain);
	memset(q, 0, sizeof(*q));
}

int
map_query_wanted(const struct map_query *q, const char *key, struct buf *err)
{
	struct buf scratch = BUF_INIT;
	struct parts k, any;
	int r;

	parts_split(key, &k);
	if (q->domain) {
		if (k.domain == NULL || k.local_len == 0 || *k.domain == '\0')
			return 0;
		if ((r = match_list_domain(q->domain, k.domain, 0, err)) <= 0)
			return r;
	}
	parts_split("x@x", &any);
	r = expand(q->query, &k, NULL, NULL, NULL, &scratch) &&
	    expand(q->result_format, &k, &any, NULL, NULL, &scratch);
	buf_free(&scratch);
	return r;
}

int
map_query_expand(const char *tmpl, const char *key, map_quote_fn quote,
		 void *ctx, struct buf *out, struct buf *err)
{
	struct parts k;
	int r;

	parts_split(key, &k);
	buf_reset(out);
	r = expand(tmpl, &k, NULL, quote, ctx, out);
	if (r > 0 && out->len > MAP_QUERY_MAX) {
		buf_set(err, "");
		buf_printf(err, "query too long (%zu bytes, limit %d)",
			   out->len, MAP_QUERY_MAX);
		return -1;
	}
	return r;
}

int
map_query_add(const struct map_query *q, const char *key, const char *value,
	      struct buf *out, long *count, struct buf *err)
{
	struct buf one = BUF_INIT;
	struct parts k, v;
	int r = 0;

	parts_split(key, &k);
	parts_split(value, &v);
	if (!expand(q->result_format, &k, &v, NULL, NULL, &one) || one.len == 0)
		goto out;
	if (q->expansion_limit > 0 && *count >= q->expansion_limit) {
		buf_set(err, "");
		buf_printf(err, "more than expansion_limit (%ld) values",
			   q->expansion_limit);
		r = -1;
		goto out;
	}
	if (out->len + one.len + 1 > MAPS_VALUE_MAX) {
		buf_set(err, "result too long");
		r = -1;
		goto out;
	}
	if (out->len > 0)
		buf_putc(out, ',');
	buf_append(out, one.data, one.len);
	(*count)++;
out:
	buf_free(&one);
	return r;
}

void
map_quote_ldap_filter(struct buf *out, const char *s, size_t len, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || strchr("*()\\", c))
			buf_printf(out, "\\%02x", c);
		else
			buf_putc(out, c);
	}
}

void
map_quote_ldap_dn(struct buf *out, const char *s, size_t len, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\%02x", c);
		else if (strchr("\"+,;<>\\=#", c) ||
			 (c == ' ' && (i == 0 || i + 1 == len)))
			buf_printf(out, "\\%c", c);
		else
			buf_putc(out, c);
	}
}
