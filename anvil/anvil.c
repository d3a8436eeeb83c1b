/*
 * anvil - counts clients' connections and request rates across smtpd
 * processes, as Postfix's anvil(8).  Protocol: lib/anvil_proto.h;
 * counting: anvil.h; the administrator's view: man/anvil.8.
 *
 * Service: "anvil unix - - y - 1 anvil": private, unprivileged
 * (mail_owner), chrooted to the queue directory, one process.  Its only
 * peers are those that reach private/ (mail_owner's daemons, root); it
 * opens no file after the jail, never the queue, and keeps its counts in
 * memory only (a restart forgets them, as Postfix's does).
 *
 * Serving: one process, every connection in lib/events.c's loop, never
 * blocking on a peer.  An smtpd process keeps its connection for its
 * life; each connection has an input buffer bounded by
 * ANVIL_PROTO_LIST_MAX, is answered one request at a time, and is closed
 * on a malformed list or at end of file.  The connects a connection made
 * and did not take back are taken back when it closes, so an smtpd that
 * dies leaves no client counted.  Long-lived (the counts are its state):
 * no idle or max_use exit.
 *
 * Every anvil_status_update_time, and at exit, it logs the peaks since
 * the last report (anvil.h).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anvil.h"
#include "anvil_proto.h"
#include "conf.h"
#include "daemon.h"
#include "event_conn.h"
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "xalloc.h"

#define ANVIL_CONN_MAX 1000  /* smtpd processes at once */
#define ANVIL_CONN_IDENTS 16 /* connects one connection may hold */

struct conn {
	struct event_conn *ec;
	char *idents[ANVIL_CONN_IDENTS]; /* connects not taken back */
};

static long long rate_time_unit; /* anvil_rate_time_unit, seconds */
static long long status_update_time;
static struct anvil_table *table;
static int nconns;

static const struct conf_bind anvil_params[] = {
    CONF_BIND_TIME("anvil_rate_time_unit", &rate_time_unit),
    CONF_BIND_TIME("anvil_status_update_time", &status_update_time),
    CONF_BIND_END,
};

static void
log_line(const char *line, void *ctx)
{
	(void)ctx;
	msg_info("%s", line);
}

static void
report(void)
{
	anvil_table_report(table, io_now_ms(), time(NULL), log_line, NULL);
}

static void
status_timer(void *ctx)
{
	(void)ctx;
	report();
	event_timer_add(status_update_time * 1000, status_timer, NULL);
}

/* Forgets idle clients once a time unit, so the table holds only the
 * clients of the last unit and those still connected. */
static void
expire_timer(void *ctx)
{
	(void)ctx;
	anvil_table_expire(table, io_now_ms());
	event_timer_add(rate_time_unit * 1000, expire_timer, NULL);
}

static void
anvil_pre_jail(void)
{
	/* The "at" times of the statistics need the zone, which the jail
	 * cannot read. */
	tzset();
	table = anvil_table_new(rate_time_unit * 1000);
}

static void
anvil_post_jail(void)
{
	event_timer_add(status_update_time * 1000, status_timer, NULL);
	event_timer_add(rate_time_unit * 1000, expire_timer, NULL);
}

/* --- connections ----------------------------------------------------- */

static void
conn_closed(struct event_conn *ec)
{
	struct conn *c = event_conn_ctx(ec);
	long long now = io_now_ms();

	for (int i = 0; i < ANVIL_CONN_IDENTS; i++)
		if (c->idents[i]) {
			(void)anvil_table_disconnect(table, c->idents[i], now);
			xfree(c->idents[i]);
		}
	xfree(c);
	if (--nconns == 0)
		daemon_report_idle();
}

/* Records a connect of ident on c; -1 when c holds too many. */
static int
conn_hold(struct conn *c, const char *ident)
{
	for (int i = 0; i < ANVIL_CONN_IDENTS; i++)
		if (c->idents[i] == NULL) {
			c->idents[i] = xstrdup(ident);
			return 0;
		}
	return -1;
}

/* Takes back a connect of ident that c made; -1 when it made none. */
static int
conn_release(struct conn *c, const char *ident)
{
	for (int i = 0; i < ANVIL_CONN_IDENTS; i++)
		if (c->idents[i] && strcmp(c->idents[i], ident) == 0) {
			xfree(c->idents[i]);
			c->idents[i] = NULL;
			return 0;
		}
	return -1;
}

static void
answer(struct conn *c, const struct anvil_request *req, struct anvil_reply *rep)
{
	static const enum anvil_rate kinds[ANVIL_REQ_COUNT] = {
	    [ANVIL_REQ_MESSAGE] = ANVIL_RATE_MAIL,
	    [ANVIL_REQ_RECIPIENT] = ANVIL_RATE_RCPT,
	    [ANVIL_REQ_NEWTLS] = ANVIL_RATE_NEWTLS,
	    [ANVIL_REQ_NEWTLS_REPORT] = ANVIL_RATE_NEWTLS,
	    [ANVIL_REQ_AUTH] = ANVIL_RATE_AUTH,
	};
	long long now = io_now_ms();
	int count, rate;

	switch (req->type) {
	case ANVIL_REQ_CONNECT:
		if (conn_hold(c, req->ident) < 0) {
			msg_warn("more than %d connects on one connection: "
				 "%s refused",
				 ANVIL_CONN_IDENTS, req->ident);
			rep->status = -1;
			return;
		}
		anvil_table_connect(table, req->ident, now, &count, &rate);
		rep->count = count;
		rep->rate = rate;
		return;
	case ANVIL_REQ_DISCONNECT:
		if (conn_release(c, req->ident) < 0 ||
		    anvil_table_disconnect(table, req->ident, now) < 0) {
			msg_warn("disconnect of %s without a connect",
				 req->ident);
			rep->status = -1;
		}
		return;
	default:
		rep->rate = anvil_table_event(
		    table, req->ident, kinds[req->type],
		    req->type != ANVIL_REQ_NEWTLS_REPORT, now);
		return;
	}
}

/* Answers the request at the start of in, if it is whole; -1 when the
 * connection must close. */
static int
conn_request(struct event_conn *ec, struct buf *inbuf, struct buf *outbuf)
{
	struct conn *c = event_conn_ctx(ec);
	struct attr_list in = ATTR_LIST_INIT, out = ATTR_LIST_INIT;
	struct anvil_request req;
	struct anvil_reply rep;
	struct buf why = BUF_INIT;
	size_t used = 0;
	int rc;

	rc = event_conn_attr_request(inbuf, ANVIL_PROTO_LIST_MAX, &in, &used);
	if (rc <= 0) {
		attr_list_free(&in);
		return rc;
	}
	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	if (anvil_request_decode(&in, &req, &why) < 0) {
		msg_warn("bad request: %s", buf_cstr(&why));
		rep.status = -1;
	} else {
		answer(c, &req, &rep);
		if (msg_verbose)
			msg_info("%s %s: status=%lld count=%lld rate=%lld",
				 anvil_request_name(req.type), req.ident,
				 rep.status, rep.count, rep.rate);
	}
	anvil_reply_encode(&rep, &out);
	attr_encode(&out, outbuf);
	anvil_request_free(&req);
	attr_list_free(&in);
	attr_list_free(&out);
	buf_free(&why);
	buf_consume(inbuf, used);
	return 0;
}

static const struct event_conn_ops conn_ops = {
    .request = conn_request,
    .closed = conn_closed,
};

static void
anvil_serve(int fd)
{
	struct conn *c;

	if (nconns >= ANVIL_CONN_MAX) {
		msg_warn("%d connections already: new connection closed",
			 ANVIL_CONN_MAX);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	/* Busy while a client is connected, so that master counts this
	 * process as used and starts a new one at once should it die. */
	if (nconns++ == 0)
		daemon_report_busy();
	c->ec = event_conn_new(fd, &conn_ops, c, 0);
}

static void
anvil_pre_exit(void)
{
	report();
	anvil_table_free(table);
	table = NULL;
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_EVENT,
	    .flags = DAEMON_FLAG_NO_IDLE_EXIT,
	    .params = anvil_params,
	    .pre_jail = anvil_pre_jail,
	    .post_jail = anvil_post_jail,
	    .serve = anvil_serve,
	    .pre_exit = anvil_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
