/*
 * smtpd_anvil - smtpd's client of the anvil service; see smtpd_anvil.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anvil_proto.h"
#include "attr.h"
#include "conf.h"
#include "daemon.h"
#include "iostuff.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_anvil.h"
#include "sock.h"
#include "xalloc.h"

struct smtpd_anvil_config smtpd_anvil_cfg;

static struct match_list *exceptions;
static char *socket_path;
static int anvil_fd = -1;
static unsigned anvil_gen;	/* connections made to anvil */
static long long down_until_ms; /* no new attempt before */

/* The session's state (one session a process). */
static int prepared;	       /* active and ident are this session's */
static int active;	       /* the session tells anvil */
static int connected;	       /* anvil counts its connection */
static unsigned connected_gen; /* on connection number */
static char ident[ANVIL_IDENT_MAX + 1];

static int
any_limit(void)
{
	const struct smtpd_anvil_config *c = &smtpd_anvil_cfg;

	return c->conn_count_limit > 0 || c->conn_rate_limit > 0 ||
	       c->msg_rate_limit > 0 || c->rcpt_rate_limit > 0 ||
	       c->newtls_rate_limit > 0 || c->auth_rate_limit > 0;
}

void
smtpd_anvil_init(void)
{
	struct buf err = BUF_INIT;

	if (!any_limit())
		return;
	/* By default, $mynetworks as smtpd has it (mynetworks_style
	 * included): the list smtpd already opened. */
	if (!conf_is_set("smtpd_client_event_limit_exceptions")) {
		exceptions = smtpd_cfg.mynetworks;
		return;
	}
	exceptions = match_list_open("smtpd_client_event_limit_exceptions",
				     smtpd_anvil_cfg.exceptions, &err);
	if (exceptions == NULL)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

void
smtpd_anvil_post_jail(const char *queue_dir)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s", queue_dir, ANVIL_SERVICE);
	socket_path = buf_steal(&path);
}

static void
disconnect_service(void)
{
	if (anvil_fd >= 0)
		close(anvil_fd);
	anvil_fd = -1;
}

/* One request and its reply on the kept connection; 0, or -1 with err
 * set and the connection closed. */
static int
transact(enum anvil_request_type type, struct anvil_reply *rep, struct buf *err)
{
	struct anvil_request req = {type, ident};
	struct attr_list out = ATTR_LIST_INIT, in = ATTR_LIST_INIT;
	int r = -1;

	anvil_request_encode(&req, &out);
	if (attr_send(anvil_fd, &out, ANVIL_CLIENT_TIMEOUT_MS) < 0 ||
	    attr_recv(anvil_fd, &in, ANVIL_PROTO_LIST_MAX,
		      ANVIL_CLIENT_TIMEOUT_MS) < 0) {
		buf_puts(err, errno == ECONNRESET || errno == EPIPE
				  ? "connection closed"
			      : errno == ETIMEDOUT ? "no answer"
						   : strerror(errno));
	} else {
		memset(rep, 0, sizeof(*rep));
		if (anvil_reply_decode(&in, rep, err) < 0)
			buf_puts(err, " (bad reply)");
		else
			r = 0;
	}
	attr_list_free(&out);
	attr_list_free(&in);
	if (r < 0)
		disconnect_service();
	return r;
}

/* Asks anvil about the session's ident; 0 and *rep, or -1: anvil is not
 * there (warned once, and not asked again for a while). */
static int
ask(enum anvil_request_type type, struct anvil_reply *rep)
{
	struct buf err = BUF_INIT;
	int fresh = 0;

	if (anvil_fd < 0 && io_now_ms() < down_until_ms)
		return -1;
	for (;;) {
		if (anvil_fd < 0) {
			anvil_fd = sock_connect_unix(socket_path,
						     ANVIL_CLIENT_TIMEOUT_MS);
			if (anvil_fd < 0) {
				buf_printf(&err, "connect: %s",
					   strerror(errno));
				break;
			}
			fresh = 1;
			anvil_gen++;
		}
		buf_reset(&err);
		if (transact(type, rep, &err) == 0) {
			buf_free(&err);
			return 0;
		}
		/* A kept connection that broke: anvil was restarted. */
		if (fresh || strcmp(buf_cstr(&err), "connection closed") != 0)
			break;
	}
	msg_warn("%s service: %s: client limits are off for %d s",
		 ANVIL_SERVICE, buf_cstr(&err), ANVIL_CLIENT_RETRY_MS / 1000);
	down_until_ms = io_now_ms() + ANVIL_CLIENT_RETRY_MS;
	buf_free(&err);
	return -1;
}

/* Does the session talk to anvil?  Decided once a session. */
static int
session_active(const struct smtpd_session *ss)
{
	struct buf err = BUF_INIT;
	int rc;

	if (prepared)
		return active;
	prepared = 1;
	active = 0;
	connected = 0;
	/* Local submission is not a network client. */
	if (!any_limit() || ss->local_uid >= 0)
		return 0;
	/* Postfix does not extend this list's domains to subdomains. */
	rc = match_list_client(exceptions, ss->client_name, ss->client_addr, 0,
			       &err);
	if (rc < 0)
		msg_warn("smtpd_client_event_limit_exceptions: lookup of "
			 "%s[%s]: %s",
			 ss->client_name, ss->client_addr, buf_cstr(&err));
	buf_free(&err);
	if (rc > 0)
		return 0;
	snprintf(ident, sizeof(ident), "%s:%s", daemon_service_name(),
		 ss->client_addr);
	active = 1;
	return 1;
}

/* Asks about one rate: the rate, or 0 when not limited or anvil is
 * not there. */
static long long
rate_of(const struct smtpd_session *ss, enum anvil_request_type type,
	long long limit)
{
	struct anvil_reply rep;

	if (limit <= 0 || !session_active(ss) || ask(type, &rep) < 0 ||
	    rep.status != 0)
		return 0;
	return rep.rate;
}

static void
over(const struct smtpd_session *ss, const char *what, long long value)
{
	msg_warn("%s limit exceeded: %lld from %s[%s] for service %s", what,
		 value, ss->client_name, ss->client_addr,
		 daemon_service_name());
}

int
smtpd_anvil_connect(struct smtpd_session *ss)
{
	const struct smtpd_anvil_config *c = &smtpd_anvil_cfg;
	struct anvil_reply rep;

	if (!session_active(ss) || ask(ANVIL_REQ_CONNECT, &rep) < 0 ||
	    rep.status != 0)
		return 0;
	connected = 1;
	connected_gen = anvil_gen;
	if (c->conn_count_limit > 0 && rep.count > c->conn_count_limit)
		over(ss, "Connection concurrency", rep.count);
	else if (c->conn_rate_limit > 0 && rep.rate > c->conn_rate_limit)
		over(ss, "Connection rate", rep.rate);
	else
		return 0;
	smtpd_reply(ss, "421 4.7.0 %s Error: too many connections from %s",
		    smtpd_cfg.myhostname, ss->client_addr);
	stream_flush(&ss->s);
	return -1;
}

void
smtpd_anvil_disconnect(struct smtpd_session *ss)
{
	struct anvil_reply rep;
	struct buf err = BUF_INIT;

	(void)ss;
	/* When the connection the connect went on is gone (or turns out
	 * closed now), so is what anvil counted on it. */
	if (connected && anvil_fd >= 0 && connected_gen == anvil_gen &&
	    transact(ANVIL_REQ_DISCONNECT, &rep, &err) < 0 &&
	    strcmp(buf_cstr(&err), "connection closed") != 0)
		msg_warn("%s service: %s", ANVIL_SERVICE, buf_cstr(&err));
	buf_free(&err);
	prepared = active = connected = 0;
}

/* Counts one event of type; over limit, replies "REPLY from ADDR", warns
 * "WHAT limit exceeded" and returns -1. */
static int
rate_check(struct smtpd_session *ss, enum anvil_request_type type,
	   long long limit, const char *what, const char *reply)
{
	long long rate = rate_of(ss, type, limit);

	if (rate <= limit)
		return 0;
	over(ss, what, rate);
	smtpd_reply(ss, "%s from %s", reply, ss->client_addr);
	return -1;
}

int
smtpd_anvil_mail(struct smtpd_session *ss)
{
	return rate_check(ss, ANVIL_REQ_MESSAGE, smtpd_anvil_cfg.msg_rate_limit,
			  "Message delivery request rate",
			  "450 4.7.1 Error: too much mail");
}

int
smtpd_anvil_rcpt(struct smtpd_session *ss)
{
	return rate_check(
	    ss, ANVIL_REQ_RECIPIENT, smtpd_anvil_cfg.rcpt_rate_limit,
	    "Recipient address rate", "450 4.7.1 Error: too many recipients");
}

int
smtpd_anvil_auth(struct smtpd_session *ss)
{
	return rate_check(ss, ANVIL_REQ_AUTH, smtpd_anvil_cfg.auth_rate_limit,
			  "AUTH command rate",
			  "450 4.7.1 Error: too many AUTH commands");
}

int
smtpd_anvil_starttls(struct smtpd_session *ss)
{
	long long limit = smtpd_anvil_cfg.newtls_rate_limit;
	long long rate = rate_of(ss, ANVIL_REQ_NEWTLS_REPORT, limit);

	/* A report counts nothing: at the limit, no handshake is worth
	 * making. */
	if (limit <= 0 || rate < limit)
		return 0;
	over(ss, "New TLS session rate", rate);
	smtpd_reply(ss, "454 4.7.0 Error: too many new TLS sessions from %s",
		    ss->client_addr);
	return -1;
}

int
smtpd_anvil_newtls(struct smtpd_session *ss)
{
	long long limit = smtpd_anvil_cfg.newtls_rate_limit;
	long long rate = rate_of(ss, ANVIL_REQ_NEWTLS, limit);

	if (rate <= limit)
		return 0;
	over(ss, "New TLS session rate", rate);
	smtpd_reply(ss, "421 4.7.0 %s Error: too many new TLS sessions from %s",
		    smtpd_cfg.myhostname, ss->client_addr);
	stream_flush(&ss->s);
	return -1;
}
