/*
 * ps_session - one client of postscreen, from accept to hand-off or
 * disconnect (POSTSCREEN_README, "Quick tests" and "Tests before the 220
 * SMTP server greeting").
 *
 *  1. CONNECT is logged; postscreen_access_list decides: permit hands
 *     the client to smtpd at once (ALLOWLISTED), reject applies
 *     postscreen_denylist_action (DENYLISTED), dunno goes on.
 *  2. A client that is not denylisted and whose cache entry is still good
 *     for every enabled test is handed off (PASS OLD).
 *  3. Otherwise the tests run in parallel for postscreen_greet_wait: the
 *     "220-" teaser (postscreen_greet_banner) is sent, the DNSBL lookups
 *     start (ps_dnsbl.c), and any byte the client sends before the wait
 *     is over is a PREGREET (peeked, not read: a client that is handed
 *     off anyway keeps its bytes for smtpd).  At the end of the wait the
 *     DNSBL score is compared with postscreen_dnsbl_threshold.
 *  4. A failed test with "drop" ends the session at once with a 521
 *     reply; with "enforce" the client gets the dummy SMTP engine below;
 *     with "ignore" it is handed off, but not allowlisted.  A client that
 *     passed every test is allowlisted (PASS NEW, the cache) and handed
 *     off in the same connection: its "220-" teaser and smtpd's "220"
 *     greeting make one multi-line reply.
 *
 * The hand-off connects to smtpd's pass service (private/SERVICE,
 * smtpd_service_name) and sends the client's descriptor (SCM_RIGHTS);
 * smtpd serves the connection itself and sees the real client.
 *
 * The dummy SMTP engine (a failed test with "enforce") answers HELO,
 * EHLO, MAIL, RSET, NOOP and QUIT, refuses every RCPT with the failed
 * test's reply (logged as NOQUEUE: reject: RCPT with the helo, sender and
 * recipient), DATA and BDAT with 554 (no valid recipients) and anything
 * else with 502; it ends the session after postscreen_command_count_limit
 * commands or postscreen_command_time_limit without a full line.  It
 * announces no extension but ENHANCEDSTATUSCODES and 8BITMIME, and runs
 * none of Postfix's deep protocol tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "events.h"
#include "iostuff.h"
#include "maps.h"
#include "msg.h"
#include "postscreen.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

struct ps_config ps_cfg;

/* Bytes of a pregreet that are logged, and of one dummy engine line. */
#define PS_PREGREET_LOG_MAX 100
#define PS_LINE_MAX 2048
#define PS_HANDOFF_TIMEOUT_MS 5000

struct ps_sess {
	int fd;
	char addr[INET6_ADDRSTRLEN];
	int port;
	long long start_ms;
	unsigned long timer;
	/* DNSBL lookups */
	int dns_fd;
	int dns_pid;
	int dns_done;
	struct buf dns_line;
	int score;
	char zone[DNS_NAME_MAX + 2];
	/* results */
	int denylisted;
	int pregreet;
	char *reply; /* enforce: the RCPT reply */
	/* dummy SMTP engine */
	struct buf in;
	int ncmd;
	char *helo;   /* escaped for the log */
	char *sender; /* escaped for the log */
	struct ps_sess *prev, *next;
};

/* Every session, so that a DNSBL lookup child can close the clients'
 * sockets it inherits: a copy there would keep a connection open after
 * postscreen or smtpd closed it. */
static struct ps_sess *ps_sessions;

static void
ps_close_clients(void)
{
	for (struct ps_sess *s = ps_sessions; s != NULL; s = s->next) {
		if (s->fd >= 0)
			close(s->fd);
		if (s->dns_fd >= 0)
			close(s->dns_fd);
	}
}

static void ps_send(struct ps_sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Replies are short and the client has read nothing yet that could fill
 * its socket buffer; a reply that does not fit is cut, as a client that
 * does not read gets nothing better. */
static void
ps_send(struct ps_sess *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_line_vprintf(&b, fmt, ap);
	va_end(ap);
	(void)send(s->fd, buf_cstr(&b), b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&b);
}

static double
ps_elapsed(const struct ps_sess *s)
{
	return (double)(io_now_ms() - s->start_ms) / 1000.0;
}

static void
ps_free(struct ps_sess *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		ps_sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->timer)
		event_timer_cancel(s->timer);
	if (s->fd >= 0) {
		event_fd_remove(s->fd);
		close(s->fd);
	}
	if (s->dns_fd >= 0) {
		event_fd_remove(s->dns_fd);
		close(s->dns_fd);
	}
	ps_dnsbl_end(s->dns_pid);
	buf_free(&s->dns_line);
	buf_free(&s->in);
	xfree(s->reply);
	xfree(s->helo);
	xfree(s->sender);
	xfree(s);
}

/* postscreen ends the session itself.  What the client sent and nobody
 * read (a peeked pregreet) is drained first: closing a socket with
 * unread input resets the connection, and the client would lose the
 * last reply. */
static void
ps_disconnect(struct ps_sess *s)
{
	char sink[4096];

	msg_info("DISCONNECT [%s]:%d", s->addr, s->port);
	(void)shutdown(s->fd, SHUT_WR);
	for (int i = 0; i < 16; i++)
		if (recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	ps_free(s);
}

/* Gives the connection to smtpd's pass service; the session is over for
 * postscreen either way. */
static void
ps_handoff(struct ps_sess *s)
{
	int conn;

	if (s->fd >= 0)
		event_fd_remove(s->fd);
	conn = sock_connect_unix(ps_cfg.smtpd_socket, PS_HANDOFF_TIMEOUT_MS);
	if (conn < 0 || sock_send_fd(conn, s->fd) < 0) {
		msg_warn("cannot hand [%s]:%d to service %s: %m", s->addr,
			 s->port, ps_cfg.smtpd_socket);
		msg_info("NOQUEUE: reject: CONNECT from [%s]:%d: all server "
			 "ports busy",
			 s->addr, s->port);
		ps_send(s, "421 4.3.2 All server ports are busy");
	}
	if (conn >= 0)
		close(conn);
	ps_free(s);
}

/* A test failed with enforce: keep the first reason's reply, but a
 * DNSBL's names the list, which the client can act on. */
static void
ps_enforce(struct ps_sess *s, const char *reply, int replace)
{
	if (s->reply == NULL || replace) {
		xfree(s->reply);
		s->reply = xstrdup(reply);
	}
}

/* The dummy SMTP engine. */

static void ps_dummy_read(int fd, int events, void *ctx);

static void
ps_dummy_timeout(void *ctx)
{
	struct ps_sess *s = ctx;

	s->timer = 0;
	ps_send(s, "421 4.4.2 %s Error: timeout exceeded", ps_cfg.myhostname);
	ps_disconnect(s);
}

static void
ps_dummy_arm(struct ps_sess *s)
{
	if (s->timer)
		event_timer_cancel(s->timer);
	s->timer = event_timer_add(ps_cfg.command_time_limit * 1000,
				   ps_dummy_timeout, s);
}

/* One command line (CRLF removed); 1 when the session is over. */
static int
ps_dummy_command(struct ps_sess *s, const char *line)
{
	char verb[16];
	size_t n = strcspn(line, " ");
	char *rcpt;

	if (++s->ncmd > ps_cfg.command_count_limit) {
		ps_send(s, "421 4.7.0 %s Error: too many commands",
			ps_cfg.myhostname);
		return 1;
	}
	snprintf(verb, sizeof(verb), "%.*s", (int)(n < 15 ? n : 15), line);
	if (str_casecmp(verb, "HELO") == 0 || str_casecmp(verb, "EHLO") == 0) {
		xfree(s->helo);
		s->helo = ps_log_text(line[n] ? line + n + 1 : "",
				      line[n] ? strlen(line + n + 1) : 0);
		if (str_casecmp(verb, "HELO") == 0)
			ps_send(s, "250 %s", ps_cfg.myhostname);
		else
			ps_send(s,
				"250-%s\r\n250-ENHANCEDSTATUSCODES\r\n250 "
				"8BITMIME",
				ps_cfg.myhostname);
	} else if (str_casecmp(verb, "MAIL") == 0) {
		xfree(s->sender);
		s->sender = ps_path_arg(line);
		ps_send(s, "250 2.1.0 Ok");
	} else if (str_casecmp(verb, "RCPT") == 0) {
		rcpt = ps_path_arg(line);
		msg_info("NOQUEUE: reject: RCPT from [%s]:%d: %s; from=<%s>, "
			 "to=<%s>, proto=ESMTP, helo=<%s>",
			 s->addr, s->port, s->reply, s->sender ? s->sender : "",
			 rcpt, s->helo ? s->helo : "");
		ps_send(s, "%s", s->reply);
		xfree(rcpt);
	} else if (str_casecmp(verb, "DATA") == 0 ||
		   str_casecmp(verb, "BDAT") == 0) {
		ps_send(s, "554 5.5.1 Error: no valid recipients");
	} else if (str_casecmp(verb, "RSET") == 0) {
		xfree(s->sender);
		s->sender = NULL;
		ps_send(s, "250 2.0.0 Ok");
	} else if (str_casecmp(verb, "NOOP") == 0) {
		ps_send(s, "250 2.0.0 Ok");
	} else if (str_casecmp(verb, "QUIT") == 0) {
		ps_send(s, "221 2.0.0 Bye");
		return 1;
	} else {
		ps_send(s, "502 5.5.2 Error: command not recognized");
	}
	return 0;
}

static void
ps_dummy_read(int fd, int events, void *ctx)
{
	struct ps_sess *s = ctx;
	char chunk[1024];
	ssize_t n;
	char *nl;
	int lines = 0;

	(void)events;
	n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		ps_disconnect(s);
		return;
	}
	buf_append(&s->in, chunk, (size_t)n);
	for (;;) {
		size_t len, l;
		char *line;
		int over;

		nl = s->in.len ? memchr(s->in.data, '\n', s->in.len) : NULL;
		if (nl == NULL && s->in.len <= PS_LINE_MAX)
			break;
		len = nl ? (size_t)(nl - s->in.data) : PS_LINE_MAX;
		line = xstrndup(s->in.data, len);
		l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[l - 1] = '\0';
		buf_consume(&s->in, nl ? len + 1 : len);
		over = ps_dummy_command(s, line);
		xfree(line);
		if (over) {
			ps_disconnect(s);
			return;
		}
		lines++;
	}
	/* The time limit is for a whole line: bytes alone do not renew it. */
	if (lines > 0)
		ps_dummy_arm(s);
}

static void
ps_dummy_start(struct ps_sess *s)
{
	ps_send(s, "220 %s", ps_cfg.smtpd_banner);
	event_fd_set(s->fd, EVENT_READ, ps_dummy_read, s);
	ps_dummy_arm(s);
}

/* The tests before the greeting. */

static void
ps_dnsbl_readable(int fd, int events, void *ctx)
{
	struct ps_sess *s = ctx;
	char chunk[PS_DNSBL_RESULT_MAX];
	ssize_t n;

	(void)events;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && s->dns_line.len + (size_t)n < PS_DNSBL_RESULT_MAX) {
		buf_append(&s->dns_line, chunk, (size_t)n);
		return;
	}
	/* End of file (or a line too long): the child is done. */
	event_fd_remove(fd);
	close(fd);
	s->dns_fd = -1;
	ps_dnsbl_end(s->dns_pid);
	s->dns_pid = 0;
	if (ps_dnsbl_result_parse(buf_cstr(&s->dns_line), &s->score, s->zone,
				  sizeof(s->zone)) == 0)
		s->dns_done = 1;
	else
		msg_warn("DNSBL lookups of [%s]:%d gave no result", s->addr,
			 s->port);
}

/* The name a DNSBL is shown as (postscreen_dnsbl_reply_map). */
static void
ps_dnsbl_name(const char *zone, struct buf *out)
{
	struct buf err = BUF_INIT;
	int rc = 0;

	if (ps_cfg.reply_map != NULL &&
	    (rc = maps_lookup(ps_cfg.reply_map, zone, out, &err)) < 0)
		msg_warn("postscreen_dnsbl_reply_map: lookup of %s: %s", zone,
			 buf_cstr(&err));
	if (rc <= 0) {
		buf_reset(out);
		buf_puts(out, zone);
	}
	buf_free(&err);
}

static void
ps_greet_done(void *ctx)
{
	struct ps_sess *s = ctx;
	struct buf name = BUF_INIT, reply = BUF_INIT;
	int dnsbl_failed = 0;
	time_t now = time(NULL);

	s->timer = 0;
	event_fd_remove(s->fd);
	if (ps_cfg.sites.count > 0 && s->dns_done &&
	    s->score >= ps_cfg.dnsbl_threshold) {
		dnsbl_failed = 1;
		msg_info("DNSBL rank %d for [%s]:%d", s->score, s->addr,
			 s->port);
		ps_dnsbl_name(s->zone[0] != '-' ? s->zone : "unknown", &name);
		switch (ps_cfg.dnsbl_action) {
		case PS_ACT_DROP:
			ps_send(s,
				"521 5.7.1 Service unavailable; client [%s] "
				"blocked using %s",
				s->addr, buf_cstr(&name));
			buf_free(&name);
			ps_disconnect(s);
			return;
		case PS_ACT_ENFORCE:
			buf_printf(&reply,
				   "550 5.7.1 Service unavailable; client "
				   "[%s] blocked using %s",
				   s->addr, buf_cstr(&name));
			ps_enforce(s, buf_cstr(&reply), 1);
			break;
		}
	}
	buf_free(&name);
	buf_free(&reply);
	if (s->reply != NULL) {
		ps_dummy_start(s);
		return;
	}
	/* Allowlisted only when every test ran and passed. */
	if (!s->denylisted && !s->pregreet && !dnsbl_failed &&
	    (ps_cfg.sites.count == 0 || s->dns_done)) {
		msg_info("PASS NEW [%s]:%d", s->addr, s->port);
		ps_cache_put(s->addr, (long long)now + ps_cfg.greet_ttl,
			     ps_cfg.sites.count > 0
				 ? (long long)now + ps_cfg.dnsbl_ttl
				 : 0);
	}
	ps_handoff(s);
}

static void
ps_early_readable(int fd, int events, void *ctx)
{
	struct ps_sess *s = ctx;
	struct buf text = BUF_INIT;
	char chunk[PS_PREGREET_LOG_MAX + 1];
	ssize_t n;

	(void)events;
	/* Peeked: what the client sent stays for smtpd (or the dummy
	 * engine). */
	n = recv(fd, chunk, sizeof(chunk), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		msg_info("HANGUP after %.2f from [%s]:%d in tests before SMTP "
			 "handshake",
			 ps_elapsed(s), s->addr, s->port);
		ps_disconnect(s);
		return;
	}
	/* One PREGREET a session; the rest of the wait is for DNSBL. */
	event_fd_remove(fd);
	s->pregreet = 1;
	ps_escape(&text, chunk, (size_t)n, PS_PREGREET_LOG_MAX);
	msg_info("PREGREET %zd after %.2f from [%s]:%d: %s", n, ps_elapsed(s),
		 s->addr, s->port, buf_cstr(&text));
	buf_free(&text);
	switch (ps_cfg.greet_action) {
	case PS_ACT_DROP:
		ps_send(s, "521 5.5.1 Protocol error");
		ps_disconnect(s);
		return;
	case PS_ACT_ENFORCE:
		ps_enforce(s, "550 5.3.2 Service currently unavailable", 0);
		break;
	}
}

static void
ps_tests_start(struct ps_sess *s)
{
	s->start_ms = io_now_ms();
	if (*ps_cfg.greet_banner)
		ps_send(s, "220-%s", ps_cfg.greet_banner);
	if (ps_cfg.sites.count > 0) {
		s->dns_fd = ps_dnsbl_start(&ps_cfg.sites, s->addr, &s->dns_pid,
					   ps_close_clients);
		if (s->dns_fd >= 0)
			event_fd_set(s->dns_fd, EVENT_READ, ps_dnsbl_readable,
				     s);
	}
	event_fd_set(s->fd, EVENT_READ, ps_early_readable, s);
	s->timer = event_timer_add(ps_cfg.greet_wait * 1000, ps_greet_done, s);
}

/* 1 when the cache holds a good entry for every enabled test. */
static int
ps_cached(const struct ps_sess *s)
{
	long long greet, dnsbl, now = (long long)time(NULL);

	if (ps_cache_get(s->addr, &greet, &dnsbl) <= 0)
		return 0;
	return greet > now && (ps_cfg.sites.count == 0 || dnsbl > now);
}

static int
ps_endpoint(int fd, int peer, char *addr, size_t len, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
		  : getsockname(fd, (struct sockaddr *)&ss, &sl)) != 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -1;
	sock_addr_text((struct sockaddr *)&ss, addr, len);
	*port = sock_addr_port((struct sockaddr *)&ss);
	return 0;
}

void
ps_session_start(int fd)
{
	struct ps_sess *s = xcalloc(1, sizeof(*s));
	char laddr[INET6_ADDRSTRLEN];
	int lport;

	s->fd = fd;
	s->dns_fd = -1;
	s->next = ps_sessions;
	if (ps_sessions)
		ps_sessions->prev = s;
	ps_sessions = s;
	if (ps_endpoint(fd, 1, s->addr, sizeof(s->addr), &s->port) < 0 ||
	    ps_endpoint(fd, 0, laddr, sizeof(laddr), &lport) < 0) {
		msg_warn("cannot identify a client (not a TCP connection?): "
			 "closed");
		ps_free(s);
		return;
	}
	msg_info("CONNECT from [%s]:%d to [%s]:%d", s->addr, s->port, laddr,
		 lport);
	switch (ps_access_eval(ps_cfg.access, s->addr)) {
	case PS_ACCESS_PERMIT:
		msg_info("%s [%s]:%d",
			 ps_cfg.respectful_logging ? "ALLOWLISTED"
						   : "WHITELISTED",
			 s->addr, s->port);
		ps_handoff(s);
		return;
	case PS_ACCESS_REJECT:
		s->denylisted = 1;
		msg_info("%s [%s]:%d",
			 ps_cfg.respectful_logging ? "DENYLISTED"
						   : "BLACKLISTED",
			 s->addr, s->port);
		if (ps_cfg.denylist_action == PS_ACT_DROP) {
			ps_send(s, "521 5.3.2 %s Service currently unavailable",
				ps_cfg.myhostname);
			ps_disconnect(s);
			return;
		}
		if (ps_cfg.denylist_action == PS_ACT_ENFORCE)
			ps_enforce(s, "550 5.3.2 Service currently unavailable",
				   0);
		break;
	case PS_ACCESS_DUNNO:
		if (ps_cached(s)) {
			msg_info("PASS OLD [%s]:%d", s->addr, s->port);
			ps_handoff(s);
			return;
		}
		break;
	}
	ps_tests_start(s);
}
