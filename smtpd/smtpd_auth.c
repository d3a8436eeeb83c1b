/*
 * smtpd_auth - STARTTLS (RFC 3207) and AUTH (RFC 4954) for smtpd.
 *
 * STARTTLS: the plaintext that a client pipelined after the command is
 * discarded before the handshake (CVE-2011-0411), and afterwards the
 * session starts over: HELO, the transaction and any AUTH are forgotten.
 *
 * AUTH: the SASL exchange is relayed to the auth service (private/auth,
 * lib/auth_client.h), which alone reads the sasldb and checks passwords;
 * smtpd sees only the outcome and the user name.  With smtpd_sasl_type
 * = dovecot the same client speaks to Dovecot's auth server instead
 * (smtpd_sasl_path); the rest of this file does not know which.  The connection
 * to it is made at EHLO (the mechanisms to offer depend on TLS and on the
 * client) and lasts for the session, or until STARTTLS starts it over.
 * A service that cannot be reached hides AUTH from EHLO and answers an
 * AUTH command "454 4.7.0 Temporary authentication failure"; the session
 * goes on.  Plaintext mechanisms (PLAIN, LOGIN) are offered only over
 * TLS or to loopback clients.  Every failed or cancelled exchange throws
 * the SASL state away (the service does so, CVE-2011-1720), and each
 * failure is answered after a delay that grows with the number of
 * failures.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth_client.h"
#include "base64.h"
#include "conf.h"
#include "dovecot_auth.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_anvil.h"
#include "sock.h"
#include "xalloc.h"

#define AUTH_LINE_MAX 12288 /* RFC 4954 4: at least 12288 octets */
#define AUTH_SERVICE_TIMEOUT_MS (30 * 1000)

static int
smtpd_loopback(const struct smtpd_session *ss)
{
	return strncmp(ss->client_addr, "127.", 4) == 0 ||
	       strcmp(ss->client_addr, "::1") == 0;
}

void
smtpd_sasl_init(const char *security_options, const char *tls_security_options)
{
	struct buf err = BUF_INIT;

	/* "cyrus" (Postfix's default) is Panacea's auth(8), which checks
	 * passwords with Cyrus SASL; "panacea" names it plainly. */
	if (strcmp(smtpd_cfg.sasl_type, "cyrus") == 0 ||
	    strcmp(smtpd_cfg.sasl_type, "panacea") == 0)
		smtpd_cfg.auth_type = AUTH_CLIENT_PANACEA;
	else if (strcmp(smtpd_cfg.sasl_type, "dovecot") == 0)
		smtpd_cfg.auth_type = AUTH_CLIENT_DOVECOT;
	else
		msg_fatal("smtpd_sasl_type = %s: not cyrus, panacea or dovecot",
			  smtpd_cfg.sasl_type);
	if (dovecot_security_parse(security_options, &smtpd_cfg.sasl_forbid,
				   &smtpd_cfg.sasl_require, &err) < 0)
		msg_fatal("smtpd_sasl_security_options: %s", buf_cstr(&err));
	if (dovecot_security_parse(tls_security_options,
				   &smtpd_cfg.sasl_tls_forbid,
				   &smtpd_cfg.sasl_tls_require, &err) < 0)
		msg_fatal("smtpd_sasl_tls_security_options: %s",
			  buf_cstr(&err));
	buf_free(&err);
}

void
smtpd_auth_session_init(struct smtpd_session *ss)
{
	ss->auth = NULL;
	ss->auth_down = 0;
}

void
smtpd_auth_session_end(struct smtpd_session *ss)
{
	auth_client_free(ss->auth);
	ss->auth = NULL;
	ss->auth_down = 0;
	xfree(ss->auth_user);
	xfree(ss->auth_mech);
	ss->auth_user = ss->auth_mech = NULL;
}

/* Connects to the auth service with this session's parameters and gets
 * the mechanisms; 0, or -1 (ss->auth_down set, logged). */
static int
smtpd_auth_connect(struct smtpd_session *ss, struct buf *mechs)
{
	char port[16], lport[16], laddr[64];
	struct auth_client_params params = {
	    .service = smtpd_cfg.sasl_service,
	    .client_address = ss->client_addr,
	    .client_port = port,
	    .server_address = laddr,
	    .server_port = lport,
	    .allow_plaintext = ss->tls_on || smtpd_loopback(ss),
	    .external_ssf = ss->tls_on ? (unsigned)ss->tls_info.cipher_bits : 0,
	    .secured = ss->tls_on || smtpd_loopback(ss),
	    /* Postfix: the TLS options once TLS is on. */
	    .sec_forbid =
		ss->tls_on ? smtpd_cfg.sasl_tls_forbid : smtpd_cfg.sasl_forbid,
	    .sec_require = ss->tls_on ? smtpd_cfg.sasl_tls_require
				      : smtpd_cfg.sasl_require,
	};
	struct buf err = BUF_INIT;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	snprintf(port, sizeof(port), "%d",
		 ss->client_port > 0 ? ss->client_port : 0);
	if (ss->client_port <= 0)
		port[0] = '\0';
	/* Dovecot logs and may check the server's address (lip=). */
	laddr[0] = lport[0] = '\0';
	if (getsockname(ss->s.fd, (struct sockaddr *)&local, &llen) == 0 &&
	    (local.ss_family == AF_INET || local.ss_family == AF_INET6)) {
		sock_addr_text((struct sockaddr *)&local, laddr, sizeof(laddr));
		snprintf(lport, sizeof(lport), "%d",
			 sock_addr_port((struct sockaddr *)&local));
	}
	if (ss->auth == NULL)
		ss->auth =
		    auth_client_open(smtpd_cfg.auth_type, smtpd_cfg.auth_socket,
				     AUTH_SERVICE_TIMEOUT_MS, &err);
	if (ss->auth == NULL ||
	    auth_client_mechs(ss->auth, &params, mechs, &err) < 0) {
		msg_warn("SASL authentication is unavailable: %s",
			 buf_cstr(&err));
		auth_client_free(ss->auth);
		ss->auth = NULL;
		ss->auth_down = 1;
		buf_free(&err);
		return -1;
	}
	ss->auth_down = 0;
	buf_free(&err);
	return 0;
}

int
smtpd_auth_offer(struct smtpd_session *ss, struct buf *mechs)
{
	if (!smtpd_cfg.auth_enable || ss->auth_user)
		return 0;
	/* With smtpd_tls_auth_only, nothing before TLS. */
	if (smtpd_cfg.tls_auth_only && !ss->tls_on)
		return 0;
	if (smtpd_auth_connect(ss, mechs) < 0)
		return 0;
	return mechs->len > 0;
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
smtpd_auth_failed(struct smtpd_session *ss, const char *mech, const char *reply,
		  const char *reason)
{
	const char *user = auth_client_attempted_user(ss->auth);

	ss->fails[CNT_AUTH]++;
	ss->auth_failures++;
	/* Postfix 3's shape: the name the client tried, when it gave one. */
	msg_warn("%s[%s]: SASL %s authentication failed: %s%s%s",
		 ss->client_name, ss->client_addr, mech,
		 reason && *reason ? reason : "authentication failure",
		 user ? ", sasl_username=" : "", user ? user : "");
	/* A growing delay slows down password guessing. */
	stream_flush(&ss->s);
	sleep(ss->auth_failures < 5 ? ss->auth_failures : 5);
	smtpd_reply(ss, "%s", reply);
}

static int
smtpd_auth_check_state(struct smtpd_session *ss)
{
	/* EHLO could not reach the auth service. */
	if (smtpd_cfg.auth_enable && ss->auth_down && !ss->auth_user) {
		smtpd_reply(ss, "454 4.7.0 Temporary authentication failure");
		ss->fails[CNT_AUTH]++;
		return -1;
	}
	if (ss->auth == NULL || !(ss->ext & SMTP_EXT_AUTH)) {
		smtpd_reply(ss, "503 5.5.1 Error: authentication not enabled");
		ss->fails[CNT_AUTH]++;
		return -1;
	}
	if (ss->auth_user) {
		smtpd_reply(ss, "503 5.5.1 Error: already authenticated");
		ss->fails[CNT_AUTH]++;
		return -1;
	}
	if (ss->in_mail) {
		smtpd_reply(ss,
			    "503 5.5.1 Error: MAIL transaction in progress");
		ss->fails[CNT_AUTH]++;
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

	if (smtpd_auth_check_state(ss) < 0)
		return;
	if (smtpd_anvil_auth(ss) < 0) {
		ss->fails[CNT_AUTH]++;
		return;
	}
	if (!auth_client_has_mech(ss->auth, cmd->auth_mech)) {
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
	r = auth_client_start(ss->auth, cmd->auth_mech,
			      init ? (resp.data ? resp.data : "") : NULL,
			      resp.len, 0, &challenge, &reason);
	while (r == SASL_AUTH_CONTINUE) {
		buf_reset(&wire);
		base64_encode(&wire, challenge.data, challenge.len);
		smtpd_reply(ss, "334 %s", buf_cstr(&wire));
		stream_flush(&ss->s);
		int st = smtpd_auth_read(ss, &line);
		if (st < 0) {
			auth_client_cancel(ss->auth);
			goto done;
		}
		if (st > 0 || strcmp(buf_cstr(&line), "*") == 0) {
			if (st == 0)
				smtpd_reply(ss, "501 5.7.0 Authentication "
						"aborted");
			ss->fails[CNT_AUTH]++;
			auth_client_cancel(ss->auth);
			goto done;
		}
		buf_reset(&resp);
		if (base64_decode(&resp, line.data, line.len, AUTH_LINE_MAX) <
		    0) {
			smtpd_reply(ss, "501 5.5.2 Cannot decode response");
			ss->fails[CNT_AUTH]++;
			auth_client_cancel(ss->auth);
			goto done;
		}
		r = auth_client_step(ss->auth, resp.data, resp.len, &challenge,
				     &reason);
	}
	if (r == SASL_AUTH_OK) {
		ss->auth_user = xstrdup(auth_client_username(ss->auth));
		ss->auth_mech = xstrdup(cmd->auth_mech);
		smtpd_reply(ss, "235 2.7.0 Authentication successful");
	} else if (r == SASL_AUTH_TEMPFAIL) {
		smtpd_auth_failed(ss, cmd->auth_mech,
				  "454 4.7.0 Temporary authentication "
				  "failure",
				  buf_cstr(&reason));
	} else {
		smtpd_auth_failed(ss, cmd->auth_mech,
				  "535 5.7.8 Error: authentication failed: "
				  "authentication failure",
				  buf_cstr(&reason));
	}
done:
	if (resp.data != NULL)
		explicit_bzero(resp.data, resp.len);
	if (line.data != NULL)
		explicit_bzero(line.data, line.len);
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
	/* The handshake has its own limit (smtpd_starttls_timeout); the
	 * dialogue after it goes back to smtpd_timeout. */
	stream_set_timeout(&ss->s, smtpd_cfg.starttls_timeout_ms);
	if (tls_server_start(smtpd_cfg.tls, &ss->s, &ss->tls_info, &err) < 0) {
		msg_warn("TLS handshake failed for %s[%s]: %s", ss->client_name,
			 ss->client_addr, buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	stream_set_timeout(&ss->s, smtpd_cfg.timeout_ms);
	ss->tls_on = 1;
	tls_info_format(&ss->tls_info, &desc);
	/* smtpd_tls_loglevel 2: the client certificate first, as Postfix. */
	if (smtpd_cfg.tls_loglevel >= 2 && ss->tls_info.peer_cert)
		msg_info("%s[%s]: subject_CN=%s, issuer_CN=%s%s%s%s%s%s%s",
			 ss->client_name, ss->client_addr, ss->tls_info.peer_cn,
			 ss->tls_info.issuer_cn,
			 *ss->tls_info.cert_fpt ? ", fingerprint=" : "",
			 ss->tls_info.cert_fpt,
			 *ss->tls_info.pkey_fpt ? ", pkey_fingerprint=" : "",
			 ss->tls_info.pkey_fpt,
			 *ss->tls_info.verify_error ? ", verification: " : "",
			 ss->tls_info.verify_error);
	/* Postfix's words: no client certificate, one whose chain is not
	 * trusted (smtpd_tls_CAfile), a trusted one. */
	if (smtpd_cfg.tls_loglevel >= 1)
		msg_info("%s TLS connection established from %s[%s]%s%s: %s",
			 !ss->tls_info.peer_cert  ? "Anonymous"
			 : !ss->tls_info.verified ? "Untrusted"
						  : "Trusted",
			 ss->client_name, ss->client_addr,
			 /* Postfix: the SNI name that chose the certificate */
			 *ss->tls_info.sni ? " to " : "", ss->tls_info.sni,
			 buf_cstr(&desc));
	buf_free(&desc);
	buf_free(&err);
	/* smtpd_tls_req_ccert (level encrypt only): Postfix's reply. */
	if (smtpd_cfg.tls_req_ccert && !ss->tls_info.verified) {
		const char *why = ss->tls_info.peer_cert
				      ? "Client certificate not trusted"
				      : "No client certificate presented";

		msg_info("NOQUEUE: abort: TLS from %s[%s]: %s", ss->client_name,
			 ss->client_addr, why);
		smtpd_reply(ss, "421 4.7.1 %s Error: %s", smtpd_cfg.myhostname,
			    why);
		stream_flush(&ss->s);
		return -1;
	}
	/* Every handshake is a new session (no session cache). */
	return smtpd_anvil_newtls(ss);
}

void
smtpd_starttls(struct smtpd_session *ss)
{
	if (smtpd_cfg.tls == NULL || ss->tls_on || !ss->esmtp) {
		smtpd_reply(ss, "502 5.5.1 Error: command not implemented");
		ss->fails[CNT_STARTTLS]++;
		return;
	}
	if (smtpd_anvil_starttls(ss) < 0) {
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
