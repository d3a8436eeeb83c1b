/*
 * map_ldap - ldap: tables (ldap_table(5)): "ldap:/etc/panacea/x.cf", a
 * configuration file (lib/map_cf) naming LDAP servers, a search and the
 * attributes that are the result; OpenLDAP's libldap is loaded at the
 * first open (lib/map_dl).
 *
 * Settings, with Postfix's defaults: server_host (localhost; a list of
 * "host", "host:port" or ldap://, ldaps://, ldapi:// URLs, tried in
 * order by libldap), server_port (389), timeout (10 s, for connecting
 * and for each search), search_base (required; %-expansions with RFC
 * 4514 escaping), query_filter (mailacceptinggeneralid=%s; RFC 4515
 * escaping), result_attribute (maildrop), terminal_result_attribute
 * (when an entry has one, only those count), result_format, domain,
 * expansion_limit, size_limit ($expansion_limit), scope (sub, one,
 * base), bind (yes/simple, no/none), bind_dn, bind_pw, version (3),
 * dereference (0-3), chase_referrals (0), start_tls (no).  Not
 * implemented, and so refused at open rather than silently different:
 * special_result_attribute and leaf_result_attribute (DN and URL
 * recursion), bind = sasl.
 *
 * The connection (and the bind) is made at the first lookup and kept.
 * A server that is down, drops the connection, or does not answer
 * within timeout is a lookup error (temporary), after one more try on a
 * new connection when the old one broke.  A search base that does not
 * exist is "not found", as in Postfix; too many entries (size_limit) is
 * an error.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <ldap.h>

#include "map_cf.h"
#include "map_dl.h"
#include "map_int.h"
#include "map_query.h"
#include "map_session.h"
#include "strutil.h"
#include "xalloc.h"

#ifndef MAP_SONAME_LDAP
#define MAP_SONAME_LDAP "libldap-2.5.so.0"
#endif

static struct {
	__typeof__(ldap_initialize) *initialize;
	__typeof__(ldap_set_option) *set_option;
	__typeof__(ldap_sasl_bind_s) *sasl_bind_s;
	__typeof__(ldap_search_ext_s) *search_ext_s;
	__typeof__(ldap_first_entry) *first_entry;
	__typeof__(ldap_next_entry) *next_entry;
	__typeof__(ldap_get_values_len) *get_values_len;
	__typeof__(ldap_value_free_len) *value_free_len;
	__typeof__(ldap_msgfree) *msgfree;
	__typeof__(ldap_unbind_ext_s) *unbind_ext_s;
	__typeof__(ldap_err2string) *err2string;
	__typeof__(ldap_start_tls_s) *start_tls_s;
} ld;
static const char *const ld_names[] = {
    "ldap_initialize",	   "ldap_set_option",	  "ldap_sasl_bind_s",
    "ldap_search_ext_s",   "ldap_first_entry",	  "ldap_next_entry",
    "ldap_get_values_len", "ldap_value_free_len", "ldap_msgfree",
    "ldap_unbind_ext_s",   "ldap_err2string",	  "ldap_start_tls_s",
};
static int ld_loaded;

static const char *const ldap_known[] = {
    "server_host",
    "server_port",
    "timeout",
    "search_base",
    "query_filter",
    "result_format",
    "domain",
    "result_attribute",
    "terminal_result_attribute",
    "special_result_attribute",
    "leaf_result_attribute",
    "scope",
    "bind",
    "bind_dn",
    "bind_pw",
    "expansion_limit",
    "size_limit",
    "dereference",
    "chase_referrals",
    "version",
    "start_tls",
    NULL,
};

struct ldap_table {
	char *urls;	/* space separated, for ldap_initialize */
	char *base;	/* search_base template */
	char **attrs;	/* result then terminal attributes, NULL ended */
	size_t nresult; /* how many of attrs are result_attribute */
	int scope, bind, version, deref, referrals, start_tls;
	long timeout, size_limit;
	char *bind_dn, *bind_pw;
	struct map_query q;
	struct map_session s; /* an LDAP (map_session.h) */
};

#define LD(t) ((LDAP *)(t)->s.conn)

static int
cf_error(struct buf *err, const char *path, const char *name, const char *why)
{
	buf_set(err, "");
	buf_printf(err, "%s: %s: %s", path, name, why);
	return -1;
}

static int
cf_choice(const struct map_cf *cf, const char *path, const char *name,
	  const char *dflt, const char *const *words, const int *codes,
	  int *out, struct buf *err)
{
	const char *v = map_cf_str(cf, name, dflt);

	for (int i = 0; words[i]; i++) {
		if (str_casecmp(v, words[i]) == 0) {
			*out = codes[i];
			return 0;
		}
	}
	buf_set(err, "");
	buf_printf(err, "%s: %s: unknown value \"%s\"", path, name, v);
	return -1;
}

/* server_host and server_port as ldap_initialize's URL list. */
static char *
ldap_urls(const char *hosts, long port)
{
	struct buf urls = BUF_INIT;
	char **list = str_split(hosts, ", \t", NULL);
	char *out;

	for (char **h = list; *h; h++) {
		if (urls.len)
			buf_putc(&urls, ' ');
		if (strstr(*h, "://"))
			buf_puts(&urls, *h);
		else if (strchr(*h, ':'))
			buf_printf(&urls, "ldap://%s", *h);
		else
			buf_printf(&urls, "ldap://%s:%ld", *h, port);
	}
	str_list_free(list);
	out = xstrdup(buf_cstr(&urls));
	buf_free(&urls);
	return out;
}

static int
ldap_config(struct ldap_table *t, const struct map_cf *cf, const char *path,
	    struct buf *err)
{
	static const char *const scopes[] = {"sub", "one", "base", NULL};
	static const int scope_codes[] = {LDAP_SCOPE_SUBTREE,
					  LDAP_SCOPE_ONELEVEL, LDAP_SCOPE_BASE};
	static const char *const binds[] = {"yes",  "simple", "no",
					    "none", "sasl",   NULL};
	static const int bind_codes[] = {1, 1, 0, 0, 2};
	static const char *const yesno[] = {"yes",   "true", "1", "no",
					    "false", "0",    NULL};
	static const int yesno_codes[] = {1, 1, 1, 0, 0, 0};
	static const char *const unsupported[] = {
	    "special_result_attribute", "leaf_result_attribute", NULL};
	const char *base = map_cf_str(cf, "search_base", "");
	struct buf why = BUF_INIT;
	char **result, **terminal;
	long port, v;
	int nr, nt;

	for (int i = 0; unsupported[i]; i++)
		if (*map_cf_str(cf, unsupported[i], ""))
			return cf_error(err, path, unsupported[i],
					"not implemented by Panacea");
	if (*base == '\0')
		return cf_error(err, path, "search_base", "not set");
	if (map_query_check(base, 0, &why) < 0) {
		cf_error(err, path, "search_base", buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	if (map_query_init(&t->q, cf, path, "query_filter",
			   "mailacceptinggeneralid=%s", err) < 0)
		return -1;
	if (map_cf_int(cf, "server_port", 389, 1, 65535, &port, err) < 0 ||
	    map_cf_int(cf, "timeout", 10, 1, 3600, &t->timeout, err) < 0 ||
	    map_cf_int(cf, "size_limit", t->q.expansion_limit, 0, 1000000,
		       &t->size_limit, err) < 0 ||
	    map_cf_int(cf, "version", 3, 2, 3, &v, err) < 0)
		return -1;
	t->version = (int)v;
	if (map_cf_int(cf, "dereference", 0, 0, 3, &v, err) < 0)
		return -1;
	t->deref = (int)v;
	if (map_cf_int(cf, "chase_referrals", 0, 0, 1, &v, err) < 0)
		return -1;
	t->referrals = (int)v;
	if (cf_choice(cf, path, "scope", "sub", scopes, scope_codes, &t->scope,
		      err) < 0 ||
	    cf_choice(cf, path, "bind", "yes", binds, bind_codes, &t->bind,
		      err) < 0 ||
	    cf_choice(cf, path, "start_tls", "no", yesno, yesno_codes,
		      &t->start_tls, err) < 0)
		return -1;
	if (t->bind == 2)
		return cf_error(err, path, "bind",
				"sasl is not implemented by Panacea");
	t->urls = ldap_urls(map_cf_str(cf, "server_host", "localhost"), port);
	if (*t->urls == '\0')
		return cf_error(err, path, "server_host", "empty");
	t->base = xstrdup(base);
	t->bind_dn = xstrdup(map_cf_str(cf, "bind_dn", ""));
	t->bind_pw = xstrdup(map_cf_str(cf, "bind_pw", ""));
	result = str_split(map_cf_str(cf, "result_attribute", "maildrop"),
			   ", \t", &nr);
	terminal = str_split(map_cf_str(cf, "terminal_result_attribute", ""),
			     ", \t", &nt);
	if (nr + nt == 0) {
		str_list_free(result);
		str_list_free(terminal);
		return cf_error(err, path, "result_attribute", "empty");
	}
	t->attrs = xcalloc((size_t)(nr + nt) + 1, sizeof(char *));
	for (int i = 0; i < nr; i++)
		t->attrs[i] = xstrdup(result[i]);
	for (int i = 0; i < nt; i++)
		t->attrs[nr + i] = xstrdup(terminal[i]);
	t->nresult = (size_t)nr;
	str_list_free(result);
	str_list_free(terminal);
	return 0;
}

static int
ldap_open(struct map *m, const char *name, struct buf *err)
{
	struct ldap_table *t = xcalloc(1, sizeof(*t));
	struct map_cf *cf;
	int r;

	m->data = t;
	if ((cf = map_cf_read("ldap", name, ldap_known, &m->watch, err)) ==
	    NULL)
		return -1;
	r = ldap_config(t, cf, name, err);
	map_cf_free(cf);
	if (r < 0)
		return -1;
	if (!ld_loaded &&
	    map_dl_load(MAP_SONAME_LDAP, "libldap", ld_names, (void **)&ld,
			sizeof(ld_names) / sizeof(*ld_names), err) < 0) {
		buf_printf(err, " (table ldap:%s)", name);
		return -1;
	}
	ld_loaded = 1;
	return 0;
}

static void
ld_error(struct buf *err, const char *what, int rc)
{
	buf_set(err, "");
	buf_printf(err, "%s: %s", what, ld.err2string(rc));
}

static void
ld_drop(void *table)
{
	struct ldap_table *t = table;

	if (LD(t))
		ld.unbind_ext_s(LD(t), NULL, NULL);
	t->s.conn = NULL;
}

/* A new connection, bound as configured; 0, or -1 with err. */
static int
ld_connect(void *table, struct buf *err)
{
	struct ldap_table *t = table;
	struct timeval tv = {.tv_sec = t->timeout};
	LDAP *conn = NULL;
	int rc;

	if ((rc = ld.initialize(&conn, t->urls)) != LDAP_SUCCESS) {
		ld_error(err, "bad server_host", rc);
		return -1;
	}
	t->s.conn = conn;
	ld.set_option(LD(t), LDAP_OPT_PROTOCOL_VERSION, &t->version);
	ld.set_option(LD(t), LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ld.set_option(LD(t), LDAP_OPT_TIMEOUT, &tv);
	ld.set_option(LD(t), LDAP_OPT_DEREF, &t->deref);
	/* A boolean option is on for any pointer but NULL; LDAP_OPT_ON
	 * would link liblber's own. */
	ld.set_option(LD(t), LDAP_OPT_REFERRALS,
		      t->referrals ? (void *)&t->referrals : LDAP_OPT_OFF);
	if (t->start_tls &&
	    (rc = ld.start_tls_s(LD(t), NULL, NULL)) != LDAP_SUCCESS) {
		ld_error(err, "STARTTLS failed", rc);
		ld_drop(t);
		return -1;
	}
	if (t->bind) {
		struct berval cred = {.bv_val = t->bind_pw,
				      .bv_len = strlen(t->bind_pw)};

		rc = ld.sasl_bind_s(LD(t), t->bind_dn, LDAP_SASL_SIMPLE, &cred,
				    NULL, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			ld_error(err, "bind failed", rc);
			ld_drop(t);
			return -1;
		}
	}
	return 0;
}

/* Adds the values of attrs[from, to) of entry e; 1 when it had any. */
static int
ld_values(struct ldap_table *t, LDAPMessage *e, size_t from, size_t to,
	  const char *key, struct buf *value, long *count, struct buf *err,
	  int *failed)
{
	int any = 0;

	for (size_t i = from; i < to && !*failed; i++) {
		struct berval **vals = ld.get_values_len(LD(t), e, t->attrs[i]);

		for (int j = 0; vals && vals[j] && !*failed; j++) {
			char *s;

			/* A value with a NUL byte is no address. */
			if (memchr(vals[j]->bv_val, '\0', vals[j]->bv_len))
				continue;
			s = xstrndup(vals[j]->bv_val, vals[j]->bv_len);
			any = 1;
			if (map_query_add(&t->q, key, s, value, count, err) < 0)
				*failed = 1;
			xfree(s);
		}
		if (vals)
			ld.value_free_len(vals);
	}
	return any;
}

/* 1 found, 0 not, -1 error, -2 the connection failed (err). */
static int
ld_search(struct ldap_table *t, const char *base, const char *filter,
	  const char *key, struct buf *value, struct buf *err)
{
	struct timeval tv = {.tv_sec = t->timeout};
	LDAPMessage *res = NULL;
	size_t nattrs = t->nresult;
	long count = 0;
	int rc, failed = 0;

	while (t->attrs[nattrs])
		nattrs++;
	buf_reset(value);
	rc = ld.search_ext_s(LD(t), base, t->scope, filter, t->attrs, 0, NULL,
			     NULL, &tv, (int)t->size_limit, &res);
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
	    rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY) {
		if (res)
			ld.msgfree(res);
		ld_error(err, "search failed", rc);
		return -2;
	}
	if (rc == LDAP_NO_SUCH_OBJECT) {
		if (res)
			ld.msgfree(res);
		return 0;
	}
	if (rc != LDAP_SUCCESS) {
		if (res)
			ld.msgfree(res);
		ld_error(err, "search failed", rc);
		return -1;
	}
	for (LDAPMessage *e = ld.first_entry(LD(t), res); e && !failed;
	     e = ld.next_entry(LD(t), e)) {
		if (nattrs > t->nresult &&
		    ld_values(t, e, t->nresult, nattrs, key, value, &count, err,
			      &failed))
			continue;
		ld_values(t, e, 0, t->nresult, key, value, &count, err,
			  &failed);
	}
	ld.msgfree(res);
	return failed ? -1 : value->len > 0;
}

/* What one try of a lookup asks: the expanded base and filter. */
struct ld_query {
	const char *base, *filter, *key;
};

static int
ldap_try(void *table, void *ctx, struct buf *found, struct buf *err)
{
	const struct ld_query *lq = ctx;

	return ld_search(table, lq->base, lq->filter, lq->key, found, err);
}

static const struct map_session_ops ld_session = {ld_connect, ldap_try,
						  ld_drop};

static int
ldap_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	struct ldap_table *t = m->data;
	struct buf base = BUF_INIT, filter = BUF_INIT, found = BUF_INIT;
	struct ld_query lq;
	int r;

	if ((r = map_query_wanted(&t->q, key, err)) <= 0)
		return r;
	if ((r = map_query_expand(t->base, key, map_quote_ldap_dn, NULL, &base,
				  err)) > 0 &&
	    (r = map_query_expand(t->q.query, key, map_quote_ldap_filter, NULL,
				  &filter, err)) > 0) {
		lq = (struct ld_query){buf_cstr(&base), buf_cstr(&filter), key};
		r = map_session_lookup(&t->s, &ld_session, t, &lq, &found, err);
	}
	if (r > 0)
		buf_set(value, buf_cstr(&found));
	buf_free(&base);
	buf_free(&filter);
	buf_free(&found);
	return r;
}

static void
ldap_close(struct map *m)
{
	struct ldap_table *t = m->data;

	if (t == NULL)
		return;
	if (ld_loaded && map_session_mine(&t->s))
		ld_drop(t);
	xfree(t->urls);
	xfree(t->base);
	str_list_free(t->attrs);
	xfree(t->bind_dn);
	if (t->bind_pw)
		memset(t->bind_pw, 0, strlen(t->bind_pw));
	xfree(t->bind_pw);
	map_query_free(&t->q);
	xfree(t);
}

const struct map_type map_type_ldap = {"ldap", MAP_T_FOLD, ldap_open,
				       ldap_lookup, ldap_close};
