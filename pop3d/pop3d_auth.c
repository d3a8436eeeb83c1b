/*
 * pop3d_auth - the AUTHORIZATION state: CAPA, STLS (RFC 2595), USER/PASS
 * (RFC 1939), APOP, AUTH (RFC 5034).
 *
 * Credentials are checked only by the auth service (private/auth,
 * lib/auth_client.h): pop3d forwards USER/PASS, the APOP digest with its
 * timestamp, and the SASL exchange, and learns the outcome, the user's
 * name and a ticket (want_ticket), which pop3d_relay.c hands to
 * pop3session.  One connection to the service a session, made at the
 * first need; its parameters (addresses, plaintext allowed, TLS bits)
 * are sent again after STLS.  A service that is down answers "-ERR
 * [SYS/TEMP]" and CAPA then lists no SASL.  Plaintext passwords
 * (USER/PASS, PLAIN, LOGIN) are refused before TLS unless the client is
 * in pop3d_plaintext_auth_networks (loopback by default), with a -ERR
 * that says so; CAPA then offers neither USER nor the plaintext
 * mechanisms (the service leaves them out too: allow_plaintext).  A
 * failed login is answered "-ERR [AUTH] Authentication failed" after
 * pop3d_auth_failure_delay, the same for an unknown user and a wrong
 * password, and logged with the client address; at
 * pop3d_auth_failure_limit failures the connection is closed.  After STLS
 * the state starts over (a USER given before is forgotten), and
 * plaintext buffered after the STLS command is discarded before the
 * handshake (CVE-2011-0411).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "daemon.h"
#include "msg.h"
#include "pop3d.h"
#include "strutil.h"
#include "xalloc.h"

#define PLAIN_REFUSED                                                          \
	"-ERR [AUTH] Plaintext authentication is not allowed without TLS: "    \
	"use STLS or POP3S"
#define AUTH_SERVICE "auth"   /* private/auth */
#define AUTH_TIMEOUT_MS 10000 /* a request to the auth service */

void
pop3d_auth_session_end(struct pop3d_session *ss)
{
	if (ss->auth)
		auth_client_free(ss->auth);
	ss->auth = NULL;
	buf_free(&ss->mechs);
}

/* 1 when the auth service is connected and knows this session's
 * parameters as they are now (after STLS they change); 0, logged, when
 * it cannot be reached. */
static int
auth_ready(struct pop3d_session *ss)
{
	struct auth_client_params p = {
	    .service = "pop",
	    .client_address = ss->client_addr,
	    .client_port = *ss->client_port ? ss->client_port : NULL,
	    .server_address = *ss->server_addr ? ss->server_addr : NULL,
	    .server_port = *ss->server_port ? ss->server_port : NULL,
	    .allow_plaintext = pop3d_plain_allowed(ss),
	    .external_ssf = ss->tls_on ? (unsigned)ss->tls_info.cipher_bits : 0,
	};
	struct buf path = BUF_INIT, err = BUF_INIT;

	if (ss->auth != NULL && ss->auth_tls == ss->tls_on)
		return 1;
	if (ss->auth == NULL) {
		buf_printf(&path, "%s/private/%s", daemon_queue_dir(),
			   AUTH_SERVICE);
		ss->auth =
		    auth_client_connect(buf_cstr(&path), AUTH_TIMEOUT_MS, &err);
	}
	buf_reset(&ss->mechs);
	if (ss->auth == NULL ||
	    auth_client_mechs(ss->auth, &p, &ss->mechs, &err) < 0) {
		msg_warn("authentication is unavailable: %s", buf_cstr(&err));
		pop3d_auth_session_end(ss);
		buf_free(&path);
		buf_free(&err);
		return 0;
	}
	ss->auth_tls = ss->tls_on;
	buf_free(&path);
	buf_free(&err);
	return 1;
}

static void
flush_if_idle(struct pop3d_session *ss)
{
	if (stream_pending(&ss->s) == 0)
		(void)stream_flush(&ss->s);
}

/* A failed login: logged at once (fail2ban counts each), answered after
 * the delay, and the last one closes the connection. */
static void
auth_failed(struct pop3d_session *ss, const char *user, const char *method,
	    const char *reason)
{
	char name[SASL_AUTH_NAME_MAX + 1];
	const char *tried = auth_client_attempted_user(ss->auth);

	/* SASL: the name is in the client's responses (auth_client.h). */
	pop3d_printable(name, sizeof(name),
			user && *user ? user
			: tried	      ? tried
				      : "");
	msg_info("auth failed: user=<%s>, method=%s, rip=%s%s (%s)", name,
		 pop3d_method_name(method), ss->client_addr,
		 ss->tls_on ? ", tls" : "",
		 reason && *reason ? reason : "authentication failed");
	snprintf(ss->tried_user, sizeof(ss->tried_user), "%s", name);
	snprintf(ss->tried_method, sizeof(ss->tried_method), "%s",
		 pop3d_method_name(method));
	ss->failures++;
	(void)stream_flush(&ss->s);
	if (pop3d_cfg.fail_delay > 0)
		sleep((unsigned)pop3d_cfg.fail_delay);
	pop3d_reply(ss, "-ERR [AUTH] Authentication failed");
	if (ss->failures >= pop3d_cfg.fail_limit) {
		msg_info("too many authentication failures: rip=%s",
			 ss->client_addr);
		ss->end_reason =
		    "Disconnected: Too many authentication failures";
		ss->quit = 1;
	}
	xfree(ss->user_arg);
	ss->user_arg = NULL;
}

static int
auth_unavailable(struct pop3d_session *ss)
{
	if (auth_ready(ss))
		return 0;
	pop3d_reply(ss, "-ERR [SYS/TEMP] Authentication is unavailable now");
	return 1;
}

/* A login the auth service accepted: to pop3session with its ticket. */
static void
logged_in(struct pop3d_session *ss, const char *method)
{
	const char *ticket = auth_client_ticket(ss->auth);

	if (ticket == NULL || *ticket == '\0') {
		msg_warn("the auth service accepted a login without a ticket");
		pop3d_reply(ss, "-ERR [SYS/TEMP] Authentication is "
				"unavailable now, try again later");
		ss->quit = 1;
		return;
	}
	pop3d_login(ss, ticket, method);
}

static void
capa_line(void *arg, const char *text)
{
	pop3d_reply(arg, "%s", text);
}

/* Before login: the list of every state, and USER, SASL and STLS when
 * they are offered (lib/pop3_cmd.h: one list for both sides). */
static void
pop3d_capa(struct pop3d_session *ss)
{
	struct pop3_capa capa = {
	    .login_delay = pop3d_cfg.login_delay,
	    .user = pop3d_plain_allowed(ss),
	    .sasl = auth_ready(ss) && ss->mechs.len > 0 ? buf_cstr(&ss->mechs)
							: NULL,
	    .stls = pop3d_cfg.tls != NULL && !ss->tls_on,
	};

	pop3_capa(&capa, capa_line, ss);
}

static void
do_stls(struct pop3d_session *ss)
{
	struct buf err = BUF_INIT;

	if (pop3d_cfg.tls == NULL || ss->tls_on) {
		pop3d_reply(ss, ss->tls_on ? "-ERR TLS is already active"
					   : "-ERR STLS is not available");
		return;
	}
	pop3d_reply(ss, "+OK Begin TLS negotiation");
	(void)stream_flush(&ss->s);
	/* CVE-2011-0411: what was pipelined in clear is not a command. */
	stream_discard_input(&ss->s);
	if (tls_server_start(pop3d_cfg.tls, &ss->s, &ss->tls_info, &err) < 0) {
		msg_info("STLS handshake failed: rip=%s: %s", ss->client_addr,
			 buf_cstr(&err));
		ss->quit = 1;
		buf_free(&err);
		return;
	}
	ss->tls_on = 1;
	xfree(ss->user_arg);
	ss->user_arg = NULL;
	buf_free(&err);
}

static void
do_user(struct pop3d_session *ss)
{
	if (!pop3d_plain_allowed(ss)) {
		pop3d_reply(ss, PLAIN_REFUSED);
		msg_info("plaintext login refused before TLS: rip=%s",
			 ss->client_addr);
		return;
	}
	xfree(ss->user_arg);
	ss->user_arg = xstrdup(ss->cmd.arg1);
	pop3d_reply(ss, "+OK");
}

static void
tempfail(struct pop3d_session *ss, const struct buf *reason)
{
	msg_warn("authentication unavailable: %s", buf_cstr(reason));
	pop3d_reply(ss, "-ERR [SYS/TEMP] Authentication is unavailable now, "
			"try again later");
}

static void
do_pass(struct pop3d_session *ss)
{
	struct buf reason = BUF_INIT;
	enum sasl_auth_result r;

	if (ss->user_arg == NULL) {
		pop3d_reply(ss, "-ERR USER first");
		return;
	}
	if (!pop3d_plain_allowed(ss)) {
		pop3d_reply(ss, PLAIN_REFUSED);
		return;
	}
	if (auth_unavailable(ss))
		return;
	r = auth_client_checkpass(ss->auth, ss->user_arg, ss->cmd.arg1, 1,
				  &reason);
	/* The password is no longer needed anywhere. */
	explicit_bzero(ss->cmd.buf.data, ss->cmd.buf.len);
	explicit_bzero(ss->line.data, ss->line.len);
	if (r == SASL_AUTH_OK)
		logged_in(ss, "USER");
	else if (r == SASL_AUTH_TEMPFAIL)
		tempfail(ss, &reason);
	else
		auth_failed(ss, ss->user_arg, "USER", buf_cstr(&reason));
	xfree(ss->user_arg);
	ss->user_arg = NULL;
	buf_free(&reason);
}

static void
do_apop(struct pop3d_session *ss)
{
	struct buf reason = BUF_INIT;
	enum sasl_auth_result r;
	char *user;

	if (!pop3d_cfg.apop || !*ss->apop_stamp) {
		pop3d_reply(ss, "-ERR APOP is not enabled");
		return;
	}
	if (auth_unavailable(ss))
		return;
	user = xstrdup(ss->cmd.arg1);
	r = auth_client_apop(ss->auth, user, ss->apop_stamp, ss->cmd.arg2, 1,
			     &reason);
	if (r == SASL_AUTH_OK)
		logged_in(ss, "APOP");
	else if (r == SASL_AUTH_TEMPFAIL)
		tempfail(ss, &reason);
	else
		auth_failed(ss, user, "APOP",
			    reason.len ? buf_cstr(&reason)
				       : "digest mismatch or no such user");
	xfree(user);
	buf_free(&reason);
}

/* One response line of an exchange: 1 with the decoded bytes in out, 0
 * cancelled ("*"), -1 bad base64, -2 the session ended. */
static int
sasl_response(struct pop3d_session *ss, struct buf *out)
{
	if (!pop3d_getline(ss, POP3_AUTH_LINE_MAX))
		return -2;
	if (ss->line.len == 1 && ss->line.data[0] == '*')
		return 0;
	buf_reset(out);
	if (base64_decode(out, ss->line.data, ss->line.len,
			  POP3_AUTH_LINE_MAX) < 0)
		return -1;
	return 1;
}

static int
plaintext_mech(const char *mech)
{
	return str_casecmp(mech, "PLAIN") == 0 ||
	       str_casecmp(mech, "LOGIN") == 0;
}

static void
auth_list(struct pop3d_session *ss)
{
	char **list;

	pop3d_reply(ss, "+OK");
	list = str_split(buf_cstr(&ss->mechs), " ", NULL);
	for (char **p = list; *p; p++)
		if (**p)
			pop3d_reply(ss, "%s", *p);
	str_list_free(list);
	pop3d_reply(ss, ".");
}

static void
do_auth(struct pop3d_session *ss)
{
	struct buf resp = BUF_INIT, chal = BUF_INIT, reason = BUF_INIT,
		   b64 = BUF_INIT;
	char mech[POP3_MECH_MAX + 1];
	enum sasl_auth_result r;
	int has_ir = ss->cmd.arg2 != NULL, got;

	if (auth_unavailable(ss))
		return;
	if (ss->cmd.arg1 == NULL) {
		auth_list(ss);
		return;
	}
	snprintf(mech, sizeof(mech), "%s", ss->cmd.arg1);
	for (char *p = mech; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (plaintext_mech(mech) && !pop3d_plain_allowed(ss)) {
		pop3d_reply(ss, PLAIN_REFUSED);
		msg_info("plaintext login refused before TLS: rip=%s",
			 ss->client_addr);
		goto done;
	}
	if (!auth_client_has_mech(ss->auth, mech)) {
		pop3d_reply(ss, "-ERR Unrecognized authentication type");
		goto done;
	}
	if (has_ir && strcmp(ss->cmd.arg2, "=") != 0 &&
	    base64_decode(&resp, ss->cmd.arg2, strlen(ss->cmd.arg2),
			  POP3_AUTH_LINE_MAX) < 0) {
		auth_failed(ss, "", mech, "malformed initial response");
		goto done;
	}
	r = auth_client_start(ss->auth, mech, has_ir ? resp.data : NULL,
			      has_ir ? resp.len : 0, 1, &chal, &reason);
	while (r == SASL_AUTH_CONTINUE) {
		buf_reset(&b64);
		base64_encode(&b64, chal.data, chal.len);
		pop3d_reply(ss, "+ %s", buf_cstr(&b64));
		flush_if_idle(ss);
		got = sasl_response(ss, &resp);
		if (got == -2) {
			auth_client_cancel(ss->auth);
			ss->quit = 1;
			goto done;
		}
		if (got == 0) {
			auth_client_cancel(ss->auth);
			pop3d_reply(ss, "-ERR AUTH cancelled");
			goto done;
		}
		if (got < 0) {
			auth_client_cancel(ss->auth);
			auth_failed(ss, "", mech, "malformed response");
			goto done;
		}
		buf_reset(&chal);
		r = auth_client_step(ss->auth, resp.data, resp.len, &chal,
				     &reason);
	}
	if (r == SASL_AUTH_OK)
		logged_in(ss, mech);
	else if (r == SASL_AUTH_TEMPFAIL)
		tempfail(ss, &reason);
	else if (r == SASL_AUTH_NOMECH)
		pop3d_reply(ss, "-ERR Unrecognized authentication type");
	else
		auth_failed(ss, "", mech, buf_cstr(&reason));
done:
	if (resp.data)
		explicit_bzero(resp.data, resp.len);
	buf_free(&resp);
	buf_free(&chal);
	buf_free(&reason);
	buf_free(&b64);
}

void
pop3d_auth_command(struct pop3d_session *ss)
{
	switch (ss->cmd.id) {
	case POP3_CMD_CAPA:
		pop3d_capa(ss);
		break;
	case POP3_CMD_STLS:
		do_stls(ss);
		break;
	case POP3_CMD_USER:
		do_user(ss);
		break;
	case POP3_CMD_PASS:
		do_pass(ss);
		break;
	case POP3_CMD_APOP:
		do_apop(ss);
		break;
	case POP3_CMD_AUTH:
		do_auth(ss);
		break;
	case POP3_CMD_QUIT:
		pop3d_reply(ss, "+OK Bye");
		ss->end_reason = "Aborted login";
		msg_info("disconnect from %s[%s]", ss->client_name,
			 ss->client_addr);
		ss->quit = 1;
		break;
	default:
		pop3d_reply(ss, "-ERR Not valid in this state");
		break;
	}
}
