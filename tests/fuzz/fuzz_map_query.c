/*
 * fuzz_map_query - libFuzzer target for the query expansion of the
 * directory tables (lib/map_query): the input's first line is a
 * template, the rest the key.
 *
 * Beyond "no crash, no leak": a template that map_query_check accepts
 * expands; with LDAP filter quoting the key adds no '(' ')' '*' or NUL
 * to the filter (the filter's structure is the template's alone), and
 * with DN quoting no unescaped ',' '+' or '='; the key is asked
 * (map_query_wanted) exactly when the template's expansion is not
 * suppressed; the result format joins at most expansion_limit values
 * and never more than MAPS_VALUE_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "map_query.h"
#include "maps.h"

static size_t
count_in(const char *s, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

/* Unescaped c in a DN. */
static size_t
count_dn(const char *s, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else
			n += s[i] == c;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	struct buf tmpl = BUF_INIT, key = BUF_INIT, out = BUF_INIT,
		   err = BUF_INIT;
	struct map_query q;
	long count = 0;
	int r;

	if (nl == NULL || memchr(data, '\0', size) != NULL)
		return 0;
	buf_append(&tmpl, data, (size_t)(nl - (const char *)data));
	buf_append(&key, nl + 1, size - (size_t)(nl + 1 - (const char *)data));
	if (key.len == 0 || key.len > MAPS_KEY_MAX)
		goto out;
	if (map_query_check(buf_cstr(&tmpl), 0, &err) == 0) {
		r = map_query_expand(buf_cstr(&tmpl), buf_cstr(&key),
				     map_quote_ldap_filter, NULL, &out, &err);
		if (r < -1 || r > 1 || (r < 0 && err.len == 0))
			abort();
		if (r > 0) {
			for (const char *c = "()*"; *c; c++)
				if (count_in(out.data, out.len, *c) !=
				    count_in(tmpl.data, tmpl.len, *c))
					abort();
			if (strlen(buf_cstr(&out)) != out.len)
				abort();
		}
		/* Whether the key is asked agrees with the expansion. */
		memset(&q, 0, sizeof(q));
		q.query = (char *)buf_cstr(&tmpl);
		q.result_format = "%s";
		if (r >= 0 && map_query_wanted(&q, buf_cstr(&key), &err) != r)
			abort();
		r = map_query_expand(buf_cstr(&tmpl), buf_cstr(&key),
				     map_quote_ldap_dn, NULL, &out, &err);
		if (r > 0 && count_in(tmpl.data, tmpl.len, '\\') == 0)
			for (const char *c = ",+="; *c; c++)
				if (count_dn(out.data, out.len, *c) !=
				    count_in(tmpl.data, tmpl.len, *c))
					abort();
	}
	if (map_query_check(buf_cstr(&tmpl), 1, &err) == 0) {
		memset(&q, 0, sizeof(q));
		q.query = "%s";
		q.result_format = (char *)buf_cstr(&tmpl);
		q.expansion_limit = 2;
		buf_reset(&out);
		/* A failure is the expansion limit (two values) or the
		 * result's own bound, MAPS_VALUE_MAX, which a long format
		 * repeating a long key reaches first. */
		for (int i = 0; i < 4; i++)
			if (map_query_add(&q, buf_cstr(&key), buf_cstr(&key),
					  &out, &count, &err) < 0 &&
			    count != 2 &&
			    strstr(buf_cstr(&err), "too long") == NULL)
				abort();
		if (count > 2 || out.len > MAPS_VALUE_MAX)
			abort();
	}
out:
	buf_free(&tmpl);
	buf_free(&key);
	buf_free(&out);
	buf_free(&err);
	return 0;
}
