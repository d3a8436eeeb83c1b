/*
 * map_query - what the directory tables (pgsql:, mysql:, ldap:) share:
 * the query template with the lookup key put in, the result_format
 * applied to each value found, the domain filter and the expansion
 * limit, with Postfix's semantics (pgsql_table(5), ldap_table(5)).
 *
 * In a query template (query, query_filter, search_base):
 *   %%  a '%';  %s the key;  %u the local part of a key user@domain, the
 *   whole key when it has no '@';  %d the domain of user@domain;  %1 ..
 *   %9 the labels of the domain from the right (%1 = "com");  %S %U %D
 *   the same as %s %u %d.  Every part of the key goes through the type's
 *   quoting (SQL string quoting, RFC 4515 filter or RFC 4514 DN
 *   escaping), so a key cannot change the query's structure.
 * In result_format (default "%s"), %s %u %d are the value found (a value
 * that is empty, has an empty local part for %u or no domain for %d is
 * skipped), %S %U %D %1 .. %9 the key, not quoted.
 * A key the templates need a part of that it lacks (no domain for %d or
 * %1, an empty local part for %u, fewer labels than %3 needs) is not
 * looked up: not found, without asking the server.  So is a key outside
 * the "domain" list when there is one (then only user@domain keys with a
 * non-empty user and a listed domain are asked; the list is a match
 * list: names, /files, type:tables).  Values are joined with commas;
 * more than expansion_limit of them (0: no limit) is a lookup error.
 * Any other '%' sequence is an error when the table is opened.
 */
#ifndef PANACEA_MAP_QUERY_H
#define PANACEA_MAP_QUERY_H

#include <stddef.h>

#include "buf.h"
#include "map_cf.h"

/* An expanded query longer than this is a lookup error. */
#define MAP_QUERY_MAX (256 * 1024)

/* Appends s[0..len) to out in the form the query language needs. */
typedef void (*map_quote_fn)(struct buf *out, const char *s, size_t len,
			     void *ctx);

struct match_list;

struct map_query {
	char *query;
	char *result_format;
	struct match_list *domain; /* NULL: every key */
	long expansion_limit;
};

/* Reads query_param (its default dflt_query; NULL: the file must set
 * it), result_format, domain and expansion_limit from cf and checks the
 * templates; 0, or -1 with err ("FILE: name: reason"). */
int map_query_init(struct map_query *q, const struct map_cf *cf,
		   const char *path, const char *query_param,
		   const char *dflt_query, struct buf *err);
void map_query_free(struct map_query *q);

/* Checks the '%' sequences of a template (result: a result_format);
 * 0, or -1 with err. */
int map_query_check(const char *tmpl, int result, struct buf *err);

/* Whether key is to be asked at all (the domain list and what the
 * templates need of the key): 1 yes, 0 no (not found), -1 a domain
 * table failed (err). */
int map_query_wanted(const struct map_query *q, const char *key,
		     struct buf *err);

/* Expands the query template tmpl for key into out (replaced), quoting
 * each part of the key with quote; 1, 0 when the key lacks a part the
 * template needs, -1 with err when the query would exceed
 * MAP_QUERY_MAX. */
int map_query_expand(const char *tmpl, const char *key, map_quote_fn quote,
		     void *ctx, struct buf *out, struct buf *err);

/* Adds one value found for key to the result in out (comma separated),
 * through result_format, counting it in *count; 0, or -1 with err when
 * the expansion limit or MAPS_VALUE_MAX is passed. */
int map_query_add(const struct map_query *q, const char *key, const char *value,
		  struct buf *out, long *count, struct buf *err);

/* Quoting for LDAP: an RFC 4515 filter value ('*', '(', ')', '\' and
 * control bytes as \XX) and an RFC 4514 DN attribute value. */
void map_quote_ldap_filter(struct buf *out, const char *s, size_t len,
			   void *ctx);
void map_quote_ldap_dn(struct buf *out, const char *s, size_t len, void *ctx);

#endif
