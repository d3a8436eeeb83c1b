/*
 * pop3d - the Panacea POP3 front (RFC 1939, RFC 2449 CAPA, RFC 2595
 * STLS, RFC 8314 POP3S, RFC 5034 AUTH): everything before login.  Module
 * map and privileges: pop3d.h; after login: pop3session/.
 *
 * Runs under master on the daemon skeleton, one client at a time
 * (DAEMON_SINGLE), as mail_owner and chrooted (it refuses root), on inet
 * services:
 *	pop3        inet n - y - - pop3d
 *	pop3s       inet n - y - - pop3d -o pop3d_tls_wrappermode=yes
 *	pop3session unix - n n - - pop3session
 *	auth        unix - n n - 1 auth
 * Before the drop it loads the TLS certificate and key
 * (pop3d_tls_cert_file/key_file, by default smtpd's).  A session:
 * implicit TLS (POP3S) or STLS, the greeting (with an APOP timestamp when
 * pop3d_apop_enable is set), AUTHORIZATION (pop3d_auth.c, credentials
 * through private/auth), then at login the hand-off: the client's
 * socket itself without TLS, else a socketpair and the relay
 * (pop3d_relay.c).  Replies are written in order and flushed only when
 * no pipelined command is waiting (RFC 2449 PIPELINING).  A read waits at
 * most pop3d_timeout (RFC 1939's ten-minute autologout).
 *
 * Log lines (Postfix's prefix, Dovecot-like fields, one line per event,
 * the client address in each, for fail2ban; the login and logout lines
 * come from pop3session's session process):
 *	connect from NAME[IP]     (NAME: lib/mail/peer_name.h, or unknown)
 *	auth failed: user=<NAME>, method=USER, rip=IP[, tls] (REASON)
 *	too many authentication failures: rip=IP
 *	disconnect from NAME[IP] (before login)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "dns.h"
#include "iostuff.h"
#include "msg.h"
#include "peer_name.h"
#include "pop3_io.h"
#include "pop3d.h"
#include "priv.h"
#include "sock.h"
#include "xalloc.h"

struct pop3d_config pop3d_cfg;

/* Replies. */

void
pop3d_reply(struct pop3d_session *ss, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stream_line_vprintf(&ss->s, fmt, ap);
	va_end(ap);
}

void
pop3d_printable(char *dst, size_t size, const char *src)
{
	tls_copy_printable(dst, size, src ? src : "");
}

const char *
pop3d_method_name(const char *method)
{
	return strcmp(method, "USER") == 0 ? "PLAIN" : method;
}

/* The line Dovecot's pop3-login writes when a client leaves without
 * logging in, in its shape, so that fail2ban's dovecot filter (and the
 * panacea-pop3d filter built on it) counts failed logins:
 *   REASON (auth failed, N attempts in S secs): user=<U>, method=M,
 *	rip=IP, lip=IP[, TLS]
 *   REASON (no auth attempts in S secs): user=<>, rip=IP, lip=IP[, TLS]
 * REASON: "Aborted login" (QUIT), "Disconnected" (the client closed),
 * "Disconnected: Inactivity", "Disconnected: Too many invalid commands",
 * "Disconnected: Too many authentication failures". */
static void
pop3d_end_log(struct pop3d_session *ss)
{
	long long secs = (io_now_ms() - ss->started_ms) / 1000;
	const char *reason = ss->end_reason ? ss->end_reason : "Disconnected";
	const char *tls = ss->tls_on ? ", TLS" : "";

	if (ss->logged_in)
		return;
	if (ss->failures > 0)
		msg_info("%s (auth failed, %d attempts in %lld secs): "
			 "user=<%s>, method=%s, rip=%s, lip=%s%s",
			 reason, ss->failures, secs, ss->tried_user,
			 ss->tried_method, ss->client_addr, ss->server_addr,
			 tls);
	else
		msg_info("%s (no auth attempts in %lld secs): user=<%s>, "
			 "rip=%s, lip=%s%s",
			 reason, secs, ss->tried_user, ss->client_addr,
			 ss->server_addr, tls);
}

int
pop3d_plain_allowed(const struct pop3d_session *ss)
{
	return ss->tls_on ||
	       cidr_list_match(&pop3d_cfg.plain_nets,
			       (const struct sockaddr *)&ss->peer);
}

/* Configuration. */

/* Parameters as read; pop3d_cfg holds what is derived from them. */
static struct {
	const char *tls_cert, *tls_key, *myhostname, *plain_nets;
	const char *dns_nameservers;
	long long timeout, fail_delay, fail_limit, login_delay;
} raw;

/* Every parameter pop3d reads (conf.h, conf_bind). */
static const struct conf_bind pop3d_params[] = {
    CONF_BIND_STR("pop3d_tls_cert_file", &raw.tls_cert),
    CONF_BIND_STR("pop3d_tls_key_file", &raw.tls_key),
    CONF_BIND_BOOL("pop3d_tls_wrappermode", &pop3d_cfg.wrappermode),
    CONF_BIND_STR("myhostname", &raw.myhostname),
    CONF_BIND_BOOL("pop3d_apop_enable", &pop3d_cfg.apop),
    CONF_BIND_TIME("pop3d_timeout", &raw.timeout),
    CONF_BIND_TIME("pop3d_auth_failure_delay", &raw.fail_delay),
    CONF_BIND_INT("pop3d_auth_failure_limit", &raw.fail_limit),
    CONF_BIND_TIME("pop3d_login_delay", &raw.login_delay),
    CONF_BIND_STR("pop3d_plaintext_auth_networks", &raw.plain_nets),
    CONF_BIND_BOOL("pop3d_peername_lookup", &pop3d_cfg.peername_lookup),
    CONF_BIND_STR("dns_nameservers", &raw.dns_nameservers),
    CONF_BIND_END,
};

static void
tls_setup(void)
{
	const char *cert = raw.tls_cert;
	const char *key = raw.tls_key;
	struct buf err = BUF_INIT;

	if (*cert == '\0') {
		if (pop3d_cfg.wrappermode)
			msg_fatal("pop3d_tls_wrappermode is set but "
				  "pop3d_tls_cert_file is not");
		return;
	}
	pop3d_cfg.tls = tls_server_ctx_new(cert, *key ? key : cert, &err);
	if (pop3d_cfg.tls == NULL)
		msg_fatal("cannot load TLS certificate and key: %s",
			  buf_cstr(&err));
	buf_free(&err);
}

static void
pop3d_pre_jail(void)
{
	const char *type = daemon_service_type();
	struct buf err = BUF_INIT;

	if (type != NULL && strcmp(type, "inet") != 0)
		msg_fatal("pop3d is the POP3 front and serves inet services "
			  "only; the session service is the program "
			  "pop3session (\"pop3session unix - n n - - "
			  "pop3session\")");
	pop3d_cfg.myhostname = xstrdup(raw.myhostname);
	pop3d_cfg.timeout_ms = (int)raw.timeout * 1000;
	pop3d_cfg.fail_delay = (int)raw.fail_delay;
	pop3d_cfg.fail_limit = (int)raw.fail_limit;
	pop3d_cfg.login_delay = (int)raw.login_delay;
	if (cidr_list_parse(raw.plain_nets, &pop3d_cfg.plain_nets, &err) < 0)
		msg_fatal("pop3d_plaintext_auth_networks: %s", buf_cstr(&err));
	tls_setup();
	/* The jail has no /etc: the hosts file and resolv.conf now. */
	peer_name_init();
	if (pop3d_cfg.peername_lookup &&
	    dns_init(raw.dns_nameservers, &err) < 0)
		msg_warn("DNS resolver: %s; client names come from %s only",
			 buf_cstr(&err), PEER_HOSTS_PATH);
	buf_free(&err);
}

static void
pop3d_post_jail(void)
{
	/* Rule 3 of DESIGN.md: root never parses a client's bytes. */
	if (priv_is_root())
		msg_fatal("pop3d reads clients' bytes and must not run as "
			  "root (services: unpriv y or -)");
}

static void
pop3d_pre_exit(void)
{
	if (pop3d_cfg.tls)
		tls_ctx_free(pop3d_cfg.tls);
	pop3d_cfg.tls = NULL;
}

/* Reading commands. */

int
pop3d_getline(struct pop3d_session *ss, size_t max)
{
	switch (pop3_read_line(&ss->s, &ss->line, max)) {
	case POP3_READ_LINE:
		return 1;
	case POP3_READ_TIMEOUT:
		msg_info("disconnect: timeout, rip=%s", ss->client_addr);
		ss->end_reason = "Disconnected: Inactivity";
		return 0;
	case POP3_READ_LOST:
		msg_info("disconnect from %s[%s]", ss->client_name,
			 ss->client_addr);
		return 0;
	default:
		return 0;
	}
}

/* The session. */

static void
identify(struct pop3d_session *ss)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof(ss->peer);

	snprintf(ss->client_addr, sizeof(ss->client_addr), "unknown");
	snprintf(ss->client_name, sizeof(ss->client_name), "unknown");
	if (getpeername(ss->fd, (struct sockaddr *)&ss->peer, &len) == 0 &&
	    (ss->peer.ss_family == AF_INET || ss->peer.ss_family == AF_INET6)) {
		sock_addr_text((struct sockaddr *)&ss->peer, ss->client_addr,
			       sizeof(ss->client_addr));
		snprintf(ss->client_port, sizeof(ss->client_port), "%d",
			 sock_addr_port((struct sockaddr *)&ss->peer));
		if (pop3d_cfg.peername_lookup)
			peer_name(ss->client_addr, 1, ss->client_name,
				  sizeof(ss->client_name), NULL);
	}
	len = sizeof(me);
	if (getsockname(ss->fd, (struct sockaddr *)&me, &len) == 0 &&
	    (me.ss_family == AF_INET || me.ss_family == AF_INET6)) {
		sock_addr_text((struct sockaddr *)&me, ss->server_addr,
			       sizeof(ss->server_addr));
		snprintf(ss->server_port, sizeof(ss->server_port), "%d",
			 sock_addr_port((struct sockaddr *)&me));
	}
}

static void
greeting(struct pop3d_session *ss)
{
	if (pop3d_cfg.apop) {
		unsigned rnd = 0;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (read(fd, &rnd, sizeof(rnd)) != sizeof(rnd))
				rnd = (unsigned)clock();
			close(fd);
		}
		snprintf(ss->apop_stamp, sizeof(ss->apop_stamp),
			 "<%ld.%lld.%08x@%s>", (long)getpid(),
			 (long long)time(NULL), rnd, pop3d_cfg.myhostname);
		pop3d_reply(ss, "+OK Panacea POP3 server ready %s",
			    ss->apop_stamp);
	} else {
		pop3d_reply(ss, "+OK Panacea POP3 server ready");
	}
}

static void
command(struct pop3d_session *ss, int *junk)
{
	struct buf reply = BUF_INIT;
	int r = pop3_cmd_take(ss->line.data, ss->line.len, ss->state, junk,
			      &ss->cmd, &reply);

	if (r == POP3_TAKE_RUN) {
		pop3d_auth_command(ss);
	} else {
		pop3d_reply(ss, "%s", buf_cstr(&reply));
		if (r == POP3_TAKE_HANG_UP) {
			pop3d_reply(ss, POP3_JUNK_REPLY);
			msg_info("disconnect: too many bad commands, rip=%s",
				 ss->client_addr);
			ss->end_reason =
			    "Disconnected: Too many invalid commands";
			ss->quit = 1;
		}
	}
	buf_free(&reply);
}

static void
session_end(struct pop3d_session *ss)
{
	/* A socket handed off is the session's: not a byte more from here
	 * (nothing is buffered for it; the skeleton closes our copy). */
	if (!ss->handed_off) {
		(void)stream_flush(&ss->s);
		tls_stop(&ss->s, !stream_error(&ss->s));
	}
	stream_free(&ss->s);
	pop3d_auth_session_end(ss);
	pop3_cmd_free(&ss->cmd);
	buf_free(&ss->line);
	xfree(ss->user_arg);
}

static void
pop3d_serve(int fd)
{
	struct pop3d_session ss;
	struct buf err = BUF_INIT;
	int junk = 0;

	memset(&ss, 0, sizeof(ss));
	ss.fd = fd;
	ss.state = POP3_AUTHORIZATION;
	ss.started_ms = io_now_ms();
	identify(&ss);
	msg_info("connect from %s[%s]", ss.client_name, ss.client_addr);
	stream_init(&ss.s, fd, pop3d_cfg.timeout_ms);
	if (pop3d_cfg.wrappermode) {
		if (tls_server_start(pop3d_cfg.tls, &ss.s, &ss.tls_info, &err) <
		    0) {
			msg_info("TLS handshake failed: rip=%s: %s",
				 ss.client_addr, buf_cstr(&err));
			ss.quit = 1;
		} else {
			ss.tls_on = 1;
		}
	}
	if (!ss.quit)
		greeting(&ss);
	while (!ss.quit && pop3d_getline(&ss, POP3_AUTH_LINE_MAX))
		command(&ss, &junk);
	pop3d_end_log(&ss);
	session_end(&ss);
	buf_free(&err);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .params = pop3d_params,
	    .pre_jail = pop3d_pre_jail,
	    .post_jail = pop3d_post_jail,
	    .serve = pop3d_serve,
	    .pre_exit = pop3d_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
