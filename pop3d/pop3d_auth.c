/*
 * pop3d_auth - the AUTHORIZATION state: CAPA, STLS (RFC 2595), USER/PASS
 * (RFC 1939), APOP, AUTH (RFC 5034).
 *
 * Passwords are checked by libsasl2 against sasldb_path (lib/sasl_auth),
 * the users of smtpd AUTH; APOP needs the clear password, which only the
 * sasldb has, so it reads that user's entry itself (sasldb.h) and only
 * when pop3d_apop_enable is set.  Plaintext passwords (USER/PASS, PLAIN,
 * LOGIN) are refused before TLS unless the client is in
 * pop3d_plaintext_auth_networks (loopback by default), with a -ERR that
 * says so; CAPA then offers neither USER nor the plaintext mechanisms.
 * A failed login is answered "-ERR [AUTH] Authentication failed" after
 * pop3d_auth_failure_delay, the same for an unknown user and a wrong
 * password, and logged with the client address; at
 * pop3d_auth_failure_limit failures the connection is closed.  After STLS
 * the state starts over (a USER given before is forgotten), and
 * plaintext buffered after the STLS command is discarded before the
 * handshake (CVE-2011-0411).
 */
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base64.h"
#include "msg.h"
#include "pop3d.h"
#include "sasldb.h"
#include "strutil.h"
#include "xalloc.h"

#define PLAIN_REFUSED                                                          \
	"-ERR [AUTH] Plaintext authentication is not allowed without TLS: "    \
	"use STLS or POP3S"

void
pop3d_auth_init(void)
{
	struct sasl_auth_server_config cfg = {
	    .sasldb_path = pop3d_cfg.sasldb_path,
	    .mech_list = NULL,
	    /* Not chrooted: libsasl2 reads the sasldb at each check, so a
	     * new password works at once. */
	    .preload = 0,
	};
	struct buf err = BUF_INIT;

	if (sasl_auth_server_init(&cfg, &err) < 0)
		msg_warn("SASL authentication is unavailable: %s",
			 buf_cstr(&err));
	else
		pop3d_cfg.sasl_ready = 1;
	buf_free(&err);
}

void
pop3d_auth_session_init(struct pop3d_session *ss)
{
	char local[96], remote[96];
	struct sasl_auth_server_params params = {
	    .service = "pop",
	    .server_fqdn = pop3d_cfg.myhostname,
	    .allow_plaintext = pop3d_plain_allowed(ss),
	    .external_ssf = ss->tls_on ? (unsigned)ss->tls_info.cipher_bits : 0,
	};
	struct buf err = BUF_INIT;

	pop3d_auth_session_end(ss);
	if (!pop3d_cfg.sasl_ready)
		return;
	if (*ss->server_addr) {
		snprintf(local, sizeof(local), "%s;%s", ss->server_addr,
			 ss->server_port);
		params.local_addr = local;
	}
	if (*ss->client_port) {
		snprintf(remote, sizeof(remote), "%s;%s", ss->client_addr,
			 ss->client_port);
		params.remote_addr = remote;
	}
	ss->sasl = sasl_auth_server_new(&params, &err);
	if (ss->sasl == NULL)
		msg_warn("SASL: %s", buf_cstr(&err));
	buf_free(&err);
}

void
pop3d_auth_session_end(struct pop3d_session *ss)
{
	if (ss->sasl)
		sasl_auth_server_free(ss->sasl);
	ss->sasl = NULL;
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

	pop3d_printable(name, sizeof(name), user);
	msg_info("auth failed: user=<%s>, method=%s, rip=%s%s (%s)", name,
		 method, ss->client_addr, ss->tls_on ? ", tls" : "",
		 reason && *reason ? reason : "authentication failed");
	ss->failures++;
	(void)stream_flush(&ss->s);
	if (pop3d_cfg.fail_delay > 0)
		sleep((unsigned)pop3d_cfg.fail_delay);
	pop3d_reply(ss, "-ERR [AUTH] Authentication failed");
	if (ss->failures >= pop3d_cfg.fail_limit) {
		msg_info("too many authentication failures: rip=%s",
			 ss->client_addr);
		ss->quit = 1;
	}
	xfree(ss->user_arg);
	ss->user_arg = NULL;
}

static int
sasl_unavailable(struct pop3d_session *ss)
{
	if (ss->sasl != NULL)
		return 0;
	pop3d_reply(ss, "-ERR [SYS/TEMP] Authentication is unavailable now");
	return 1;
}

void
pop3d_capa(struct pop3d_session *ss)
{
	struct buf mechs = BUF_INIT, err = BUF_INIT;

	pop3d_reply(ss, "+OK Capability list follows");
	pop3d_reply(ss, "TOP");
	pop3d_reply(ss, "UIDL");
	pop3d_reply(ss, "RESP-CODES");
	pop3d_reply(ss, "AUTH-RESP-CODE");
	pop3d_reply(ss, "PIPELINING");
	pop3d_reply(ss, "EXPIRE NEVER");
	if (pop3d_cfg.login_delay > 0)
		pop3d_reply(ss, "LOGIN-DELAY %d", pop3d_cfg.login_delay);
	if (ss->state == POP3_AUTHORIZATION) {
		if (pop3d_plain_allowed(ss))
			pop3d_reply(ss, "USER");
		if (ss->sasl != NULL &&
		    sasl_auth_server_mechs(ss->sasl, &mechs, &err) == 0)
			pop3d_reply(ss, "SASL %s", buf_cstr(&mechs));
		if (pop3d_cfg.tls != NULL && !ss->tls_on)
			pop3d_reply(ss, "STLS");
	}
	pop3d_reply(ss, "IMPLEMENTATION Panacea");
	pop3d_reply(ss, ".");
	buf_free(&mechs);
	buf_free(&err);
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
	pop3d_auth_session_init(ss);
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
do_pass(struct pop3d_session *ss)
{
	struct buf reason = BUF_INIT;
	const char *name;
	enum sasl_auth_result r;

	if (ss->user_arg == NULL) {
		pop3d_reply(ss, "-ERR USER first");
		return;
	}
	if (!pop3d_plain_allowed(ss)) {
		pop3d_reply(ss, PLAIN_REFUSED);
		return;
	}
	if (sasl_unavailable(ss))
		return;
	r = sasl_auth_server_checkpass(ss->sasl, ss->user_arg, ss->cmd.arg1,
				       &reason);
	/* The password is no longer needed anywhere. */
	explicit_bzero(ss->cmd.buf.data, ss->cmd.buf.len);
	explicit_bzero(ss->line.data, ss->line.len);
	if (r == SASL_AUTH_OK) {
		name = sasl_auth_server_username(ss->sasl);
		pop3d_login(ss, name ? name : ss->user_arg, "USER");
	} else if (r == SASL_AUTH_TEMPFAIL) {
		msg_warn("authentication unavailable: %s", buf_cstr(&reason));
		pop3d_reply(ss, "-ERR [SYS/TEMP] Authentication is "
				"unavailable now, try again later");
	} else {
		auth_failed(ss, ss->user_arg, "USER", buf_cstr(&reason));
	}
	xfree(ss->user_arg);
	ss->user_arg = NULL;
	buf_free(&reason);
}

/* APOP: the sasldb's password of user in the default realm. */
struct apop_find {
	const char *user;
	const char *realm;
	char *password;
};

static void
apop_match(const char *user, const char *realm, const char *password,
	   size_t len, void *ctx)
{
	struct apop_find *f = ctx;

	if (f->password == NULL && strcmp(user, f->user) == 0 &&
	    strcmp(realm, f->realm) == 0)
		f->password = xmemdup(password, len + 1);
}

static int
apop_check(struct pop3d_session *ss, const char *user, const char *digest)
{
	struct apop_find f = {user, pop3d_cfg.myhostname, NULL};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX *ctx;
	int ok = 0;

	if (sasldb_passwords(pop3d_cfg.sasldb_path, apop_match, &f) < 0 ||
	    f.password == NULL)
		return 0;
	ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, ss->apop_stamp, strlen(ss->apop_stamp)) ==
		1 &&
	    EVP_DigestUpdate(ctx, f.password, strlen(f.password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16) {
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		ok = CRYPTO_memcmp(hex, digest, 32) == 0;
	}
	EVP_MD_CTX_free(ctx);
	explicit_bzero(f.password, strlen(f.password));
	xfree(f.password);
	return ok;
}

static void
do_apop(struct pop3d_session *ss)
{
	char *user;

	if (!pop3d_cfg.apop || !*ss->apop_stamp) {
		pop3d_reply(ss, "-ERR APOP is not enabled");
		return;
	}
	user = xstrdup(ss->cmd.arg1);
	if (apop_check(ss, user, ss->cmd.arg2))
		pop3d_login(ss, user, "APOP");
	else
		auth_failed(ss, user, "APOP",
			    "digest mismatch or no such user");
	xfree(user);
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
	struct buf mechs = BUF_INIT, err = BUF_INIT;
	char **list;

	if (sasl_auth_server_mechs(ss->sasl, &mechs, &err) < 0) {
		pop3d_reply(ss, "-ERR [SYS/TEMP] No mechanisms available");
	} else {
		pop3d_reply(ss, "+OK");
		list = str_split(buf_cstr(&mechs), " ", NULL);
		for (char **p = list; *p; p++)
			pop3d_reply(ss, "%s", *p);
		str_list_free(list);
		pop3d_reply(ss, ".");
	}
	buf_free(&mechs);
	buf_free(&err);
}

static void
do_auth(struct pop3d_session *ss)
{
	struct buf resp = BUF_INIT, chal = BUF_INIT, reason = BUF_INIT,
		   b64 = BUF_INIT;
	char mech[POP3_MECH_MAX + 1];
	const char *name;
	enum sasl_auth_result r;
	int has_ir = ss->cmd.arg2 != NULL, got;

	if (sasl_unavailable(ss))
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
	if (!sasl_auth_server_has_mech(ss->sasl, mech)) {
		pop3d_reply(ss, "-ERR Unrecognized authentication type");
		goto done;
	}
	if (has_ir && strcmp(ss->cmd.arg2, "=") != 0 &&
	    base64_decode(&resp, ss->cmd.arg2, strlen(ss->cmd.arg2),
			  POP3_AUTH_LINE_MAX) < 0) {
		auth_failed(ss, "", mech, "malformed initial response");
		goto done;
	}
	r = sasl_auth_server_start(ss->sasl, mech, has_ir ? resp.data : NULL,
				   has_ir ? resp.len : 0, &chal, &reason);
	while (r == SASL_AUTH_CONTINUE) {
		buf_reset(&b64);
		base64_encode(&b64, chal.data, chal.len);
		pop3d_reply(ss, "+ %s", buf_cstr(&b64));
		flush_if_idle(ss);
		got = sasl_response(ss, &resp);
		if (got == -2) {
			sasl_auth_server_reset(ss->sasl);
			ss->quit = 1;
			goto done;
		}
		if (got == 0) {
			sasl_auth_server_reset(ss->sasl);
			pop3d_reply(ss, "-ERR AUTH cancelled");
			goto done;
		}
		if (got < 0) {
			sasl_auth_server_reset(ss->sasl);
			auth_failed(ss, "", mech, "malformed response");
			goto done;
		}
		buf_reset(&chal);
		r = sasl_auth_server_step(ss->sasl, resp.data, resp.len, &chal,
					  &reason);
	}
	if (r == SASL_AUTH_OK) {
		name = sasl_auth_server_username(ss->sasl);
		pop3d_login(ss, name, mech);
	} else if (r == SASL_AUTH_TEMPFAIL) {
		msg_warn("authentication unavailable: %s", buf_cstr(&reason));
		pop3d_reply(ss, "-ERR [SYS/TEMP] Authentication is "
				"unavailable now, try again later");
	} else if (r == SASL_AUTH_NOMECH) {
		pop3d_reply(ss, "-ERR Unrecognized authentication type");
	} else {
		auth_failed(ss, "", mech, buf_cstr(&reason));
	}
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
		msg_info("disconnect from unknown[%s]", ss->client_addr);
		ss->quit = 1;
		break;
	default:
		pop3d_reply(ss, "-ERR Not valid in this state");
		break;
	}
}
