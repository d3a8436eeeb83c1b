/*
 * smtpd_auth - STARTTLS (RFC 3207) and AUTH (RFC 4954) for smtpd.
 *
 * STARTTLS: the plaintext that a client pipelined after the command is
 * discarded before the handshake (CVE-2011-0411), and afterwards the
 * session starts over: HELO, the transaction and any AUTH are forgotten.
 *
 * AUTH: libsasl2 through lib/sasl_auth, against sasldb_path.  Plaintext
 * mechanisms (PLAIN, LOGIN) are offered only over TLS or to loopback
 * clients.  Every failed or cancelled exchange throws the SASL state away
 * (CVE-2011-1720, lib/sasl_auth), and each failure is answered after a
 * delay that grows with the number of failures.
 */
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "conf.h"
#include "msg.h"
#include "sasl_auth.h"
#include "smtpd.h"
#include "xalloc.h"

#define AUTH_LINE_MAX 12288 /* RFC 4954 4: at least 12288 octets */

static int auth_ready;

void
smtpd_auth_init(void)
{
	/* Preloaded: the sasldb is out of reach after chroot, and an smtpd
	 * process lives for max_use sessions at most, so a copy taken now
	 * is never old for long (sasl_memdb.h). */
	struct sasl_auth_server_config cfg = {
	    .sasldb_path = conf_str("sasldb_path"),
	    .mech_list = NULL,
	    .preload = 1,
	};
	struct buf err = BUF_INIT;

	if (sasl_auth_server_init(&cfg, &err) < 0) {
		msg_warn("SASL authentication is unavailable: %s",
			 buf_cstr(&err));
		buf_free(&err);
		return;
	}
	auth_ready = 1;
	buf_free(&err);
}

static int
smtpd_loopback(const struct smtpd_session *ss)
{
	return strncmp(ss->client_addr, "127.", 4) == 0 ||
	       strcmp(ss->client_addr, "::1") == 0;
}

static void
smtpd_sasl_new(struct smtpd_session *ss)
{
	struct sasl_auth_server_params params = {
	    .service = "smtp",
	    .server_fqdn = smtpd_cfg.myhostname,
	    .allow_plaintext = ss->tls_on || smtpd_loopback(ss),
	    .external_ssf = ss->tls_on ? (unsigned)ss->tls_info.cipher_bits : 0,
	};
	struct buf err = BUF_INIT;

	if (ss->sasl)
		sasl_auth_server_free(ss->sasl);
	ss->sasl = sasl_auth_server_new(&params, &err);
	if (ss->sasl == NULL)
		msg_warn("SASL: %s", buf_cstr(&err));
	buf_free(&err);
}

void
smtpd_auth_session_init(struct smtpd_session *ss)
{
	if (smtpd_cfg.auth_enable && auth_ready)
		smtpd_sasl_new(ss);
}

void
smtpd_auth_session_end(struct smtpd_session *ss)
{
	if (ss->sasl)
		sasl_auth_server_free(ss->sasl);
	ss->sasl = NULL;
	xfree(ss->auth_user);
	xfree(ss->auth_mech);
	ss->auth_user = ss->auth_mech = NULL;
}

int
smtpd_auth_offer(struct smtpd_session *ss, struct buf *mechs)
{
	struct buf err = BUF_INIT;
	int ok;

	if (ss->sasl == NULL || ss->auth_user)
		return 0;
	/* With smtpd_tls_auth_only, nothing before TLS. */
	if (conf_bool("smtpd_tls_auth_only") && !ss->tls_on)
		return 0;
	ok = sasl_auth_server_mechs(ss->sasl, mechs, &err) == 0;
	buf_free(&err);
	return ok;
}

/* Reads the client's next response line; NULL when the session ends. */
static int
smtpd_auth_read(struct smtpd_session *ss, struct buf *line)
{
	int st = stream_getline(&ss->s, line, AUTH_LINE_MAX);

	if (st == STREAM_LINE)
		return 0;
	if (st == STREAM_TOO_LONG) {
		smtpd_reply(ss, "500 5.5.6 Authentication Exchange line is too "
				"long");
		return 1;
	}
	ss->quit = 1;
	return -1;
}

static void
smtpd_auth_failed(struct smtpd_session *ss, const char *reply,
		  const char *reason)
{
	ss->fails[CNT_AUTH]++;
	ss->auth_failures++;
	msg_warn("%s[%s]: SASL %s authentication failed: %s", ss->client_name,
		 ss->client_addr,
		 sasl_auth_server_mech(ss->sasl)
		     ? sasl_auth_server_mech(ss->sasl)
		     : "?",
		 reason && *reason ? reason : "authentication failure");
	/* A growing delay slows down password guessing. */
	stream_flush(&ss->s);
	sleep(ss->auth_failures < 5 ? ss->auth_failures : 5);
	smtpd_reply(ss, "%s", reply);
	/* CVE-2011-1720: never reuse the state of a failed exchange. */
	smtpd_sasl_new(ss);
}

static int
smtpd_auth_check_state(struct smtpd_session *ss)
{
	if (ss->sasl == NULL || !(ss->ext & SMTP_EXT_AUTH)) {
		smtpd_reply(ss, "503 5.5.1 Error: authentication not enabled");
		return -1;
	}
	if (ss->auth_user) {
		smtpd_reply(ss, "503 5.5.1 Error: already authenticated");
		return -1;
	}
	if (ss->in_mail) {
		smtpd_reply(ss,
			    "503 5.5.1 Error: MAIL transaction in progress");
		return -1;
	}
	return 0;
}

void
smtpd_auth(struct smtpd_session *ss, const struct smtp_cmd *cmd)
{
	struct buf resp = BUF_INIT, challenge = BUF_INIT, reason = BUF_INIT;
	struct buf line = BUF_INIT, wire = BUF_INIT;
	enum sasl_auth_result r;
	const char *init = cmd->auth_initial;

	if (smtpd_auth_check_state(ss) < 0) {
		ss->fails[CNT_AUTH]++;
		return;
	}
	if (!sasl_auth_server_has_mech(ss->sasl, cmd->auth_mech)) {
		smtpd_reply(ss,
			    "504 5.5.4 Unsupported authentication mechanism");
		ss->fails[CNT_AUTH]++;
		return;
	}
	if (init && strcmp(init, "=") != 0 &&
	    base64_decode(&resp, init, strlen(init), AUTH_LINE_MAX) < 0) {
		smtpd_reply(ss, "501 5.5.2 Cannot decode AUTH parameter %s",
			    init);
		ss->fails[CNT_AUTH]++;
		return;
	}
	/* "=" is an empty initial response, not the lack of one. */
	r = sasl_auth_server_start(ss->sasl, cmd->auth_mech,
				   init ? (resp.data ? resp.data : "") : NULL,
				   resp.len, &challenge, &reason);
	while (r == SASL_AUTH_CONTINUE) {
		buf_reset(&wire);
		base64_encode(&wire, challenge.data, challenge.len);
		smtpd_reply(ss, "334 %s", buf_cstr(&wire));
		stream_flush(&ss->s);
		int st = smtpd_auth_read(ss, &line);
		if (st < 0)
			goto done;
		if (st > 0 || strcmp(buf_cstr(&line), "*") == 0) {
			if (st == 0)
				smtpd_reply(ss, "501 5.7.0 Authentication "
						"aborted");
			ss->fails[CNT_AUTH]++;
			smtpd_sasl_new(ss);
			goto done;
		}
		buf_reset(&resp);
		if (base64_decode(&resp, line.data, line.len, AUTH_LINE_MAX) <
		    0) {
			smtpd_reply(ss, "501 5.5.2 Cannot decode response");
			ss->fails[CNT_AUTH]++;
			smtpd_sasl_new(ss);
			goto done;
		}
		r = sasl_auth_server_step(ss->sasl, resp.data, resp.len,
					  &challenge, &reason);
	}
	if (r == SASL_AUTH_OK) {
		ss->auth_user = xstrdup(sasl_auth_server_username(ss->sasl));
		ss->auth_mech = xstrdup(cmd->auth_mech);
		smtpd_reply(ss, "235 2.7.0 Authentication successful");
	} else if (r == SASL_AUTH_TEMPFAIL) {
		smtpd_auth_failed(ss,
				  "454 4.7.0 Temporary authentication "
				  "failure",
				  buf_cstr(&reason));
	} else {
		smtpd_auth_failed(ss,
				  "535 5.7.8 Error: authentication failed: "
				  "authentication failure",
				  buf_cstr(&reason));
	}
done:
	buf_free(&resp);
	buf_free(&challenge);
	buf_free(&reason);
	buf_free(&line);
	buf_free(&wire);
}

/* The handshake and what follows it; 0 or -1 (session over). */
static int
smtpd_tls_handshake(struct smtpd_session *ss)
{
	struct buf err = BUF_INIT, desc = BUF_INIT;

	stream_discard_input(&ss->s);
	if (tls_server_start(smtpd_cfg.tls, &ss->s, &ss->tls_info, &err) < 0) {
		msg_warn("TLS handshake failed for %s[%s]: %s", ss->client_name,
			 ss->client_addr, buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	ss->tls_on = 1;
	tls_info_format(&ss->tls_info, &desc);
	msg_info("Anonymous TLS connection established from %s[%s]: %s",
		 ss->client_name, ss->client_addr, buf_cstr(&desc));
	buf_free(&desc);
	buf_free(&err);
	return 0;
}

void
smtpd_starttls(struct smtpd_session *ss)
{
	if (smtpd_cfg.tls == NULL || ss->tls_on || !ss->esmtp) {
		smtpd_reply(ss, "502 5.5.1 Error: command not implemented");
		ss->fails[CNT_STARTTLS]++;
		return;
	}
	smtpd_reply(ss, "220 2.0.0 Ready to start TLS");
	stream_flush(&ss->s);
	if (smtpd_tls_handshake(ss) < 0) {
		ss->quit = 1;
		return;
	}
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	smtpd_reset_transaction(ss);
	xfree(ss->helo);
	ss->helo = NULL;
	ss->esmtp = 0;
	ss->ext = 0;
	smtpd_auth_session_end(ss);
	smtpd_auth_session_init(ss);
}

int
smtpd_tls_wrap(struct smtpd_session *ss)
{
	return smtpd_tls_handshake(ss);
}
