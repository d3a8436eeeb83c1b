/*
 * map_pgsql - pgsql: tables (pgsql_table(5)): "pgsql:/etc/panacea/x.cf",
 * a configuration file (lib/map_cf) naming PostgreSQL servers and a
 * query; libpq is loaded at the first open (lib/map_dl).
 *
 * Settings: hosts (a list of "host", "host:port", "inet:host:port",
 * "unix:/socket/directory" or a postgresql:// URI; tried from one that
 * differs from process to process and connection to connection, to
 * spread the load as Postfix's random order does), user, password, dbname,
 * query (required: Panacea has no select_field/table/where_field),
 * result_format, domain, expansion_limit (lib/map_query).  The key is quoted
 * with PQescapeStringConn, which knows the connection's encoding and
 * standard_conforming_strings; a key the server's encoding refuses is a
 * lookup error.  Every field of every row that is not NULL is a value
 * (result_format, comma-joined); no row, or only empty values, is "not
 * found".
 *
 * The connection is opened at the first lookup and kept.  Connecting
 * and each query are bounded by PGSQL_TIMEOUT_S; a server that refuses,
 * breaks the connection or does not answer in time is a lookup error
 * (temporary: the caller defers, never bounces or says "unknown"), after
 * one more try on a new connection when the broken one was an old one
 * (the server restarted in between) and on each other host.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "map_cf.h"
#include "map_dl.h"
#include "map_int.h"
#include "map_query.h"
#include "map_session.h"
#include "strutil.h"
#include "xalloc.h"

#ifndef MAP_SONAME_PQ
#define MAP_SONAME_PQ "libpq.so.5"
#endif

#define PGSQL_TIMEOUT_S 10
#define PGSQL_STR(x) #x
#define PGSQL_XSTR(x) PGSQL_STR(x)

static struct {
	__typeof__(PQconnectdbParams) *connectdbParams;
	__typeof__(PQstatus) *status;
	__typeof__(PQerrorMessage) *errorMessage;
	__typeof__(PQfinish) *finish;
	__typeof__(PQsocket) *socket;
	__typeof__(PQsendQuery) *sendQuery;
	__typeof__(PQconsumeInput) *consumeInput;
	__typeof__(PQisBusy) *isBusy;
	__typeof__(PQgetResult) *getResult;
	__typeof__(PQresultStatus) *resultStatus;
	__typeof__(PQresultErrorMessage) *resultErrorMessage;
	__typeof__(PQntuples) *ntuples;
	__typeof__(PQnfields) *nfields;
	__typeof__(PQgetvalue) *getvalue;
	__typeof__(PQgetisnull) *getisnull;
	__typeof__(PQclear) *clear;
	__typeof__(PQescapeStringConn) *escapeStringConn;
} pq;
static const char *const pq_names[] = {
    "PQconnectdbParams",  "PQstatus",	    "PQerrorMessage",	    "PQfinish",
    "PQsocket",		  "PQsendQuery",    "PQconsumeInput",	    "PQisBusy",
    "PQgetResult",	  "PQresultStatus", "PQresultErrorMessage", "PQntuples",
    "PQnfields",	  "PQgetvalue",	    "PQgetisnull",	    "PQclear",
    "PQescapeStringConn",
};
static int pq_loaded;

static const char *const pgsql_known[] = {
    "hosts",	     "user",   "password",	  "dbname", "query",
    "result_format", "domain", "expansion_limit", NULL,
};

struct pg_host {
	char *host, *port, *uri;
};

struct pgsql {
	struct pg_host *hosts;
	size_t nhosts;
	char *user, *password, *dbname;
	struct map_query q;
	struct map_session s; /* a PGconn (map_session.h) */
	size_t tries;	      /* connections made: where the next starts */
	int quote_failed;
};

#define PG(p) ((PGconn *)(p)->s.conn)

/* A libpq message on one line: its newlines (and the tabs after them)
 * become spaces, the trailing ones go. */
static void
pg_error(struct buf *err, const char *what, const char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && strchr("\n\t ", msg[n - 1]))
		n--;
	buf_set(err, "");
	buf_printf(err, "%s: ", what);
	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '\n' || msg[i] == '\t') {
			if (err->len && err->data[err->len - 1] != ' ')
				buf_putc(err, ' ');
		} else {
			buf_putc(err, msg[i]);
		}
	}
}

static void
host_parse(const char *text, struct pg_host *h)
{
	const char *colon;

	memset(h, 0, sizeof(*h));
	if (str_has_prefix(text, "postgresql://") ||
	    str_has_prefix(text, "postgres://")) {
		h->uri = xstrdup(text);
		return;
	}
	if (str_has_prefix(text, "unix:")) {
		h->host = xstrdup(text + 5);
		return;
	}
	if (str_has_prefix(text, "inet:"))
		text += 5;
	if (text[0] == '[' && (colon = strchr(text, ']')) != NULL) {
		h->host = xstrndup(text + 1, (size_t)(colon - text - 1));
		if (colon[1] == ':')
			h->port = xstrdup(colon + 2);
		return;
	}
	if ((colon = strrchr(text, ':')) != NULL &&
	    strchr(text, ':') == colon) {
		h->host = xstrndup(text, (size_t)(colon - text));
		h->port = xstrdup(colon + 1);
		return;
	}
	h->host = xstrdup(text);
}

static int
pgsql_open(struct map *m, const char *name, struct buf *err)
{
	struct pgsql *p = xcalloc(1, sizeof(*p));
	struct map_cf *cf;
	char **hosts;
	int n, r = -1;

	m->data = p;
	if ((cf = map_cf_read("pgsql", name, pgsql_known, &m->watch, err)) ==
	    NULL)
		return -1;
	if (map_query_init(&p->q, cf, name, "query", NULL, err) < 0)
		goto out;
	hosts = str_split(map_cf_str(cf, "hosts", "localhost"), ", \t", &n);
	if (n == 0) {
		str_list_free(hosts);
		buf_set(err, "");
		buf_printf(err, "%s: hosts is empty", name);
		goto out;
	}
	p->hosts = xcalloc((size_t)n, sizeof(*p->hosts));
	for (int i = 0; i < n; i++)
		host_parse(hosts[i], &p->hosts[p->nhosts++]);
	str_list_free(hosts);
	if (map_cf_str(cf, "user", NULL))
		p->user = xstrdup(map_cf_str(cf, "user", NULL));
	if (map_cf_str(cf, "password", NULL))
		p->password = xstrdup(map_cf_str(cf, "password", NULL));
	if (map_cf_str(cf, "dbname", NULL))
		p->dbname = xstrdup(map_cf_str(cf, "dbname", NULL));
	if (!pq_loaded &&
	    map_dl_load(MAP_SONAME_PQ, "libpq5", pq_names, (void **)&pq,
			sizeof(pq_names) / sizeof(*pq_names), err) < 0) {
		buf_printf(err, " (table pgsql:%s)", name);
		goto out;
	}
	pq_loaded = 1;
	r = 0;
out:
	map_cf_free(cf);
	return r;
}

/* Connects to one of the hosts; 0, or -1 with err (the last host's). */
static int
pg_connect(void *table, struct buf *err)
{
	struct pgsql *p = table;
	size_t start = ((size_t)getpid() + p->tries++) % p->nhosts;

	for (size_t i = 0; i < p->nhosts; i++) {
		const struct pg_host *h = &p->hosts[(start + i) % p->nhosts];
		const char *keys[10], *vals[10];
		int k = 0;

#define KV(a, b)                                                               \
	do {                                                                   \
		keys[k] = (a);                                                 \
		vals[k++] = (b);                                               \
	} while (0)
		if (h->uri)
			KV("dbname", h->uri);
		if (h->host)
			KV("host", h->host);
		if (h->port)
			KV("port", h->port);
		if (p->dbname)
			KV("dbname", p->dbname);
		if (p->user)
			KV("user", p->user);
		if (p->password)
			KV("password", p->password);
		KV("connect_timeout", PGSQL_XSTR(PGSQL_TIMEOUT_S));
		KV("application_name", "panacea");
		KV(NULL, NULL);
#undef KV
		p->s.conn = pq.connectdbParams(keys, vals, h->uri != NULL);
		if (PG(p) && pq.status(PG(p)) == CONNECTION_OK)
			return 0;
		pg_error(err, "cannot connect",
			 PG(p) ? pq.errorMessage(PG(p)) : "out of memory");
		if (PG(p))
			pq.finish(PG(p));
		p->s.conn = NULL;
	}
	return -1;
}

static void
pg_quote(struct buf *out, const char *s, size_t len, void *ctx)
{
	struct pgsql *p = ctx;
	char *tmp = xmalloc(2 * len + 1);
	int bad = 0;
	size_t n = pq.escapeStringConn(PG(p), tmp, s, len, &bad);

	if (bad)
		p->quote_failed = 1;
	else
		buf_append(out, tmp, n);
	xfree(tmp);
}

/* Waits until the connection has a whole result; 0, or -1 (broken or
 * no answer by deadline). */
static int
pg_wait(PGconn *c, time_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = pq.socket(c), .events = POLLIN};
		time_t now = time(NULL);

		if (!pq.consumeInput(c))
			return -1;
		if (!pq.isBusy(c))
			return 0;
		if (now >= deadline ||
		    poll(&pfd, 1, (int)(deadline - now) * 1000) <= 0)
			return -1;
	}
}

/* Runs sql on PG(p): 1 found, 0 not, -1 an error of the query (err),
 * -2 of the connection (err). */
static int
pg_run(struct pgsql *p, const char *sql, const char *key, struct buf *value,
       struct buf *err)
{
	time_t deadline = time(NULL) + PGSQL_TIMEOUT_S;
	PGresult *res;
	long count = 0;
	int r = 0;

	buf_reset(value);
	if (!pq.sendQuery(PG(p), sql)) {
		pg_error(err, "cannot send the query", pq.errorMessage(PG(p)));
		return -2;
	}
	for (;;) {
		if (pg_wait(PG(p), deadline) < 0) {
			pg_error(err, "no answer to the query",
				 pq.errorMessage(PG(p))[0]
				     ? pq.errorMessage(PG(p))
				     : "timed out");
			return -2;
		}
		if ((res = pq.getResult(PG(p))) == NULL)
			break;
		if (r >= 0 && pq.resultStatus(res) == PGRES_TUPLES_OK) {
			for (int row = 0; r >= 0 && row < pq.ntuples(res);
			     row++)
				for (int f = 0; r >= 0 && f < pq.nfields(res);
				     f++)
					if (!pq.getisnull(res, row, f) &&
					    map_query_add(
						&p->q, key,
						pq.getvalue(res, row, f), value,
						&count, err) < 0)
						r = -1;
		} else if (r >= 0 && pq.resultStatus(res) != PGRES_COMMAND_OK) {
			pg_error(err, "query failed",
				 pq.resultErrorMessage(res));
			r = -1;
		}
		pq.clear(res);
	}
	if (pq.status(PG(p)) != CONNECTION_OK) {
		pg_error(err, "connection lost", pq.errorMessage(PG(p)));
		return -2;
	}
	return r < 0 ? -1 : value->len > 0;
}

/* One try on the open session (map_session.h): the key quoted by the
 * server's own escaping, then the query. */
static int
pgsql_try(void *table, void *key, struct buf *found, struct buf *err)
{
	struct pgsql *p = table;
	struct buf sql = BUF_INIT;
	int r;

	p->quote_failed = 0;
	r = map_query_expand(p->q.query, key, pg_quote, p, &sql, err);
	if (r > 0 && p->quote_failed) {
		buf_set(err, "the key cannot be quoted in the server's "
			     "encoding");
		r = -1;
	}
	if (r > 0)
		r = pg_run(p, buf_cstr(&sql), key, found, err);
	buf_free(&sql);
	return r;
}

static void
pg_drop(void *table)
{
	struct pgsql *p = table;

	pq.finish(PG(p));
	p->s.conn = NULL;
}

static const struct map_session_ops pg_session = {pg_connect, pgsql_try,
						  pg_drop};

static int
pgsql_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	struct pgsql *p = m->data;
	struct buf found = BUF_INIT;
	int r;

	if ((r = map_query_wanted(&p->q, key, err)) <= 0)
		return r;
	r = map_session_lookup(&p->s, &pg_session, p, (void *)key, &found, err);
	if (r > 0)
		buf_set(value, buf_cstr(&found));
	buf_free(&found);
	return r;
}

static void
pgsql_close(struct map *m)
{
	struct pgsql *p = m->data;

	if (p == NULL)
		return;
	if (map_session_mine(&p->s))
		pq.finish(PG(p));
	for (size_t i = 0; i < p->nhosts; i++) {
		xfree(p->hosts[i].host);
		xfree(p->hosts[i].port);
		xfree(p->hosts[i].uri);
	}
	xfree(p->hosts);
	xfree(p->user);
	if (p->password)
		memset(p->password, 0, strlen(p->password));
	xfree(p->password);
	xfree(p->dbname);
	map_query_free(&p->q);
	xfree(p);
}

const struct map_type map_type_pgsql = {"pgsql", MAP_T_FOLD, pgsql_open,
					pgsql_lookup, pgsql_close};
