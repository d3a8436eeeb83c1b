/*
 * map_mysql - mysql: tables (mysql_table(5)): "mysql:/etc/panacea/x.cf",
 * a configuration file (lib/map_cf) naming MySQL or MariaDB servers and a
 * query; MariaDB's Connector/C (libmariadb) is loaded at the first open
 * (lib/map_dl).
 *
 * Settings: hosts ("host", "host:port", "inet:host:port" or
 * "unix:/path/socket"; the unix ones first, then the others from one
 * that depends on the process, as Postfix spreads them), user, password,
 * dbname, query (required), result_format, domain, expansion_limit
 * (lib/map_query), option_file and option_group (default "client": my.cnf
 * is read as Postfix 3.2 reads it), require_result_set (default yes: a
 * statement that returns no result set, as a stored procedure may, is an
 * error; no: "not found").  The tls_* settings are refused at open rather
 * than ignored: a connection Panacea cannot protect as asked must not be
 * made in clear.  The key is quoted with mysql_real_escape_string for
 * the connection's character set; every non-NULL field of every row of
 * every result set is a value.
 *
 * As for pgsql: the connection is opened at the first lookup and kept;
 * connecting, sending and reading are bounded by MYSQL_TIMEOUT_S; a
 * server that refuses, drops the connection or does not answer is a
 * lookup error, after one more try on a new connection when the old one
 * broke.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>

#include "map_cf.h"
#include "map_dl.h"
#include "map_int.h"
#include "map_query.h"
#include "map_session.h"
#include "strutil.h"
#include "xalloc.h"

#ifndef MAP_SONAME_MARIADB
#define MAP_SONAME_MARIADB "libmariadb.so.3"
#endif

#define MYSQL_TIMEOUT_S 10

static struct {
	__typeof__(mysql_init) *init;
	__typeof__(mysql_options) *options;
	__typeof__(mysql_real_connect) *real_connect;
	__typeof__(mysql_error) *error;
	__typeof__(mysql_errno) *errnum;
	__typeof__(mysql_close) *close;
	__typeof__(mysql_real_escape_string) *real_escape_string;
	__typeof__(mysql_real_query) *real_query;
	__typeof__(mysql_store_result) *store_result;
	__typeof__(mysql_field_count) *field_count;
	__typeof__(mysql_num_fields) *num_fields;
	__typeof__(mysql_fetch_row) *fetch_row;
	__typeof__(mysql_fetch_lengths) *fetch_lengths;
	__typeof__(mysql_free_result) *free_result;
	__typeof__(mysql_next_result) *next_result;
} my;
static const char *const my_names[] = {
    "mysql_init",
    "mysql_options",
    "mysql_real_connect",
    "mysql_error",
    "mysql_errno",
    "mysql_close",
    "mysql_real_escape_string",
    "mysql_real_query",
    "mysql_store_result",
    "mysql_field_count",
    "mysql_num_fields",
    "mysql_fetch_row",
    "mysql_fetch_lengths",
    "mysql_free_result",
    "mysql_next_result",
};
static int my_loaded;

static const char *const mysql_known[] = {
    "hosts",
    "user",
    "password",
    "dbname",
    "query",
    "result_format",
    "domain",
    "expansion_limit",
    "option_file",
    "option_group",
    "require_result_set",
    "tls_cert_file",
    "tls_key_file",
    "tls_CAfile",
    "tls_CApath",
    "tls_verify_cert",
    "tls_ciphers",
    NULL,
};

struct my_host {
	char *host, *socket;
	unsigned port;
};

struct mysql_table {
	struct my_host *hosts;
	size_t nhosts, nunix, next;
	char *user, *password, *dbname, *option_file, *option_group;
	int require_result_set;
	struct map_query q;
	struct map_session s; /* a MYSQL (map_session.h) */
	int quote_failed;
};

#define MY(t) ((MYSQL *)(t)->s.conn)

static int
host_parse(const char *text, struct my_host *h, struct buf *err)
{
	const char *colon;
	char *end;
	unsigned long port;

	memset(h, 0, sizeof(*h));
	if (str_has_prefix(text, "unix:")) {
		h->socket = xstrdup(text + 5);
		return 0;
	}
	if (str_has_prefix(text, "inet:"))
		text += 5;
	if ((colon = strrchr(text, ':')) == NULL) {
		h->host = xstrdup(text);
		return 0;
	}
	port = strtoul(colon + 1, &end, 10);
	if (colon == text || *end || port == 0 || port > 65535) {
		buf_set(err, "");
		buf_printf(err, "hosts: bad host \"%s\"", text);
		return -1;
	}
	h->host = xstrndup(text, (size_t)(colon - text));
	h->port = (unsigned)port;
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int
mysql_config(struct mysql_table *t, const struct map_cf *cf, const char *path,
	     struct buf *err)
{
	static const char *const tls[] = {
	    "tls_cert_file",   "tls_key_file", "tls_CAfile", "tls_CApath",
	    "tls_verify_cert", "tls_ciphers",  NULL};
	const char *rrs = map_cf_str(cf, "require_result_set", "yes");
	struct buf why = BUF_INIT;
	char **hosts;
	int n;

	for (int i = 0; tls[i]; i++) {
		if (*map_cf_str(cf, tls[i], "")) {
			buf_set(err, "");
			buf_printf(err, "%s: %s: not implemented by Panacea",
				   path, tls[i]);
			return -1;
		}
	}
	if (map_query_init(&t->q, cf, path, "query", NULL, err) < 0)
		return -1;
	if (str_casecmp(rrs, "yes") != 0 && str_casecmp(rrs, "no") != 0) {
		buf_set(err, "");
		buf_printf(err,
			   "%s: require_result_set: \"%s\" is not yes or no",
			   path, rrs);
		return -1;
	}
	t->require_result_set = str_casecmp(rrs, "yes") == 0;
	hosts = str_split(map_cf_str(cf, "hosts", "localhost"), ", \t", &n);
	t->hosts = xcalloc((size_t)n + 1, sizeof(*t->hosts));
	/* The unix sockets first, as Postfix tries them. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			if ((pass == 0) != str_has_prefix(hosts[i], "unix:"))
				continue;
			if (host_parse(hosts[i], &t->hosts[t->nhosts], &why) <
			    0) {
				buf_set(err, "");
				buf_printf(err, "%s: %s", path, buf_cstr(&why));
				buf_free(&why);
				str_list_free(hosts);
				return -1;
			}
			t->nhosts++;
			t->nunix += pass == 0;
		}
	}
	str_list_free(hosts);
	if (t->nhosts == 0) {
		buf_set(err, "");
		buf_printf(err, "%s: hosts is empty", path);
		return -1;
	}
	t->next = (size_t)getpid();
	t->user = dup_or_null(map_cf_str(cf, "user", NULL));
	t->password = dup_or_null(map_cf_str(cf, "password", NULL));
	t->dbname = dup_or_null(map_cf_str(cf, "dbname", NULL));
	t->option_file = dup_or_null(map_cf_str(cf, "option_file", NULL));
	t->option_group = dup_or_null(map_cf_str(cf, "option_group", "client"));
	return 0;
}

static int
mysql_open(struct map *m, const char *name, struct buf *err)
{
	struct mysql_table *t = xcalloc(1, sizeof(*t));
	struct map_cf *cf;
	int r;

	m->data = t;
	if ((cf = map_cf_read("mysql", name, mysql_known, &m->watch, err)) ==
	    NULL)
		return -1;
	r = mysql_config(t, cf, name, err);
	map_cf_free(cf);
	if (r < 0)
		return -1;
	if (!my_loaded &&
	    map_dl_load(MAP_SONAME_MARIADB, "libmariadb3", my_names,
			(void **)&my, sizeof(my_names) / sizeof(*my_names),
			err) < 0) {
		buf_printf(err, " (table mysql:%s)", name);
		return -1;
	}
	my_loaded = 1;
	return 0;
}

/* Is errno e a connection that failed (as against a query)? */
static int
my_conn_error(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONN_HOST_ERROR || e == CR_CONNECTION_ERROR ||
	       e == CR_UNKNOWN_HOST || e == CR_SERVER_LOST_EXTENDED;
}

static void
my_error(struct buf *err, const char *what, MYSQL *c)
{
	buf_set(err, "");
	buf_printf(err, "%s: %s", what, c ? my.error(c) : "out of memory");
}

static void
my_drop(void *table)
{
	struct mysql_table *t = table;

	if (MY(t))
		my.close(MY(t));
	t->s.conn = NULL;
}

/* Connects to one of the hosts: the unix ones in order, then the
 * others from t->next on; 0, or -1 with err (the last host's). */
static int
my_connect(void *table, struct buf *err)
{
	struct mysql_table *t = table;
	unsigned timeout = MYSQL_TIMEOUT_S;
	size_t ninet = t->nhosts - t->nunix;

	for (size_t i = 0; i < t->nhosts; i++) {
		const struct my_host *h =
		    i < t->nunix ? &t->hosts[i]
				 : &t->hosts[t->nunix +
					     (t->next + i - t->nunix) % ninet];

		if ((t->s.conn = my.init(NULL)) == NULL) {
			my_error(err, "cannot connect", NULL);
			return -1;
		}
		my.options(MY(t), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
		my.options(MY(t), MYSQL_OPT_READ_TIMEOUT, &timeout);
		my.options(MY(t), MYSQL_OPT_WRITE_TIMEOUT, &timeout);
		if (t->option_file)
			my.options(MY(t), MYSQL_READ_DEFAULT_FILE,
				   t->option_file);
		if (t->option_group && *t->option_group)
			my.options(MY(t), MYSQL_READ_DEFAULT_GROUP,
				   t->option_group);
		if (my.real_connect(MY(t), h->host, t->user, t->password,
				    t->dbname, h->port, h->socket,
				    CLIENT_MULTI_RESULTS) != NULL) {
			t->next++;
			return 0;
		}
		my_error(err, "cannot connect", MY(t));
		my_drop(t);
	}
	return -1;
}

static void
my_quote(struct buf *out, const char *s, size_t len, void *ctx)
{
	struct mysql_table *t = ctx;
	char *tmp = xmalloc(2 * len + 1);
	unsigned long n =
	    my.real_escape_string(MY(t), tmp, s, (unsigned long)len);

	if (n == (unsigned long)-1)
		t->quote_failed = 1;
	else
		buf_append(out, tmp, n);
	xfree(tmp);
}

/* Runs sql: 1 found, 0 not, -1 an error of the query, -2 of the
 * connection (err). */
static int
my_run(struct mysql_table *t, const struct buf *sql, const char *key,
       struct buf *value, struct buf *err)
{
	long count = 0;
	int r = 0, sets = 0, more;

	buf_reset(value);
	if (my.real_query(MY(t), sql->data, (unsigned long)sql->len) != 0) {
		my_error(err, "query failed", MY(t));
		return my_conn_error(my.errnum(MY(t))) ? -2 : -1;
	}
	do {
		MYSQL_RES *res = my.store_result(MY(t));
		MYSQL_ROW row;

		if (res == NULL && my.field_count(MY(t)) != 0) {
			my_error(err, "cannot read the result", MY(t));
			return my_conn_error(my.errnum(MY(t))) ? -2 : -1;
		}
		if (res != NULL) {
			unsigned nf = my.num_fields(res);

			sets++;
			while (r >= 0 && (row = my.fetch_row(res)) != NULL) {
				unsigned long *lens = my.fetch_lengths(res);

				for (unsigned f = 0; r >= 0 && f < nf; f++) {
					char *v;

					/* NULL, or with a NUL: no value. */
					if (row[f] == NULL ||
					    memchr(row[f], '\0', lens[f]))
						continue;
					v = xstrndup(row[f], lens[f]);
					if (map_query_add(&t->q, key, v, value,
							  &count, err) < 0)
						r = -1;
					xfree(v);
				}
			}
			my.free_result(res);
		}
		if ((more = my.next_result(MY(t))) > 0) {
			my_error(err, "cannot read the result", MY(t));
			return my_conn_error(my.errnum(MY(t))) ? -2 : -1;
		}
	} while (more == 0);
	if (r >= 0 && sets == 0 && t->require_result_set) {
		buf_set(err, "the query returned no result set "
			     "(require_result_set = yes)");
		r = -1;
	}
	return r < 0 ? -1 : value->len > 0;
}

/* One try on the open session (map_session.h): the key quoted by the
 * server's own escaping, then the query. */
static int
mysql_try(void *table, void *key, struct buf *found, struct buf *err)
{
	struct mysql_table *t = table;
	struct buf sql = BUF_INIT;
	int r;

	t->quote_failed = 0;
	r = map_query_expand(t->q.query, key, my_quote, t, &sql, err);
	if (r > 0 && t->quote_failed) {
		buf_set(err, "the key cannot be quoted");
		r = -1;
	}
	if (r > 0)
		r = my_run(t, &sql, key, found, err);
	buf_free(&sql);
	return r;
}

static const struct map_session_ops my_session = {my_connect, mysql_try,
						  my_drop};

static int
mysql_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	struct mysql_table *t = m->data;
	struct buf found = BUF_INIT;
	int r;

	if ((r = map_query_wanted(&t->q, key, err)) <= 0)
		return r;
	r = map_session_lookup(&t->s, &my_session, t, (void *)key, &found, err);
	if (r > 0)
		buf_set(value, buf_cstr(&found));
	buf_free(&found);
	return r;
}

static void
mysql_close_table(struct map *m)
{
	struct mysql_table *t = m->data;

	if (t == NULL)
		return;
	if (my_loaded && map_session_mine(&t->s))
		my_drop(t);
	for (size_t i = 0; i < t->nhosts; i++) {
		xfree(t->hosts[i].host);
		xfree(t->hosts[i].socket);
	}
	xfree(t->hosts);
	xfree(t->user);
	if (t->password)
		memset(t->password, 0, strlen(t->password));
	xfree(t->password);
	xfree(t->dbname);
	xfree(t->option_file);
	xfree(t->option_group);
	map_query_free(&t->q);
	xfree(t);
}

const struct map_type map_type_mysql = {"mysql", MAP_T_FOLD, mysql_open,
					mysql_lookup, mysql_close_table};
