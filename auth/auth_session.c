/*
 * auth_session - the requests of one connection to the auth service; see
 * auth_proto.h for the protocol and auth.h for the roles.
 *
 * A session follows one client of smtpd or the pop3d front: "mechs" fixes
 * its parameters (service, addresses, whether plaintext is allowed, the
 * TLS cipher bits), then any number of exchanges, one at a time.  The
 * rules the service keeps whatever the client says:
 *  - a peer's role bounds what it may ask: exchanges for mail_owner,
 *    redeem for root, everything for the one uid of an unprivileged
 *    instance; anything else is refused and logged;
 *  - every exchange starts on a fresh libsasl2 connection and a failure,
 *    a cancel or a new exchange disposes of it (lib/sasl_auth,
 *    CVE-2011-1720);
 *  - checkpass (a password in the clear) is refused unless the session
 *    allows plaintext, as PLAIN and LOGIN are by libsasl2;
 *  - APOP needs the clear password, which only the sasldb has: it is read
 *    for that one check (sasldb.h) and wiped at once;
 *  - a ticket is made only after a success and only when asked for.
 * Passwords and responses never leave the process and are not logged.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "msg.h"
#include "sasl_auth.h"
#include "sasldb.h"
#include "xalloc.h"

struct auth_session {
	enum auth_role role;
	long peer_pid, peer_uid;
	struct sasl_auth_server *srv; /* NULL until mechs */
	char *service;
	char *client_address;
	char *server_address; /* "" when the front did not say */
	int allow_plaintext;
	int want_ticket; /* of the exchange in progress */
};

struct auth_config auth_cfg;

struct auth_session *
auth_session_new(enum auth_role role, long peer_pid, long peer_uid)
{
	struct auth_session *s = xcalloc(1, sizeof(*s));

	s->role = role;
	s->peer_pid = peer_pid;
	s->peer_uid = peer_uid;
	return s;
}

void
auth_session_free(struct auth_session *s)
{
	if (s == NULL)
		return;
	sasl_auth_server_free(s->srv);
	xfree(s->service);
	xfree(s->client_address);
	xfree(s->server_address);
	xfree(s);
}

/* --- replies --------------------------------------------------------- */

static void
reply_status(struct attr_list *out, enum auth_reply_status st,
	     const char *reason)
{
	struct auth_reply r = {.status = st, .reason = reason};

	auth_reply_encode(&r, out);
}

/* The end of an exchange: its result as a reply, with a ticket when the
 * exchange succeeded and one was asked for. */
static void
reply_result(struct auth_session *s, enum sasl_auth_result res,
	     const char *user, const struct buf *challenge,
	     const struct buf *reason, struct attr_list *out)
{
	char ticket[AUTH_PROTO_TICKET_LEN + 1];
	struct auth_reply r = {.reason = buf_cstr(reason)};

	switch (res) {
	case SASL_AUTH_CONTINUE:
		r.status = AUTH_REPLY_CONTINUE;
		r.challenge = challenge->data;
		r.challenge_len = challenge->len;
		break;
	case SASL_AUTH_OK:
		r.status = AUTH_REPLY_OK;
		r.user = user;
		if (s->want_ticket) {
			if (auth_ticket_issue(user, s->service,
					      s->client_address,
					      s->server_address, ticket) < 0) {
				r.status = AUTH_REPLY_TEMPFAIL;
				r.user = NULL;
				r.reason = "no ticket available";
				break;
			}
			r.ticket = ticket;
		}
		break;
	case SASL_AUTH_FAIL:
		r.status = AUTH_REPLY_FAIL;
		break;
	case SASL_AUTH_NOMECH:
		r.status = AUTH_REPLY_NOMECH;
		break;
	case SASL_AUTH_TEMPFAIL:
		r.status = AUTH_REPLY_TEMPFAIL;
		break;
	}
	auth_reply_encode(&r, out);
	explicit_bzero(ticket, sizeof(ticket));
	if (res != SASL_AUTH_CONTINUE)
		s->want_ticket = 0;
}

/* --- requests -------------------------------------------------------- */

static void
do_mechs(struct auth_session *s, const struct auth_request *q,
	 struct attr_list *out)
{
	char local[96], remote[96];
	struct sasl_auth_server_params p = {
	    .service = q->service,
	    .server_fqdn = auth_cfg.myhostname,
	    .allow_plaintext = q->allow_plaintext,
	    .external_ssf = q->external_ssf,
	};
	struct buf err = BUF_INIT, mechs = BUF_INIT;
	struct auth_reply r = {.status = AUTH_REPLY_OK};

	if (*q->server_address && *q->server_port) {
		snprintf(local, sizeof(local), "%s;%s", q->server_address,
			 q->server_port);
		p.local_addr = local;
	}
	if (*q->client_address && *q->client_port) {
		snprintf(remote, sizeof(remote), "%s;%s", q->client_address,
			 q->client_port);
		p.remote_addr = remote;
	}
	sasl_auth_server_free(s->srv);
	xfree(s->service);
	xfree(s->client_address);
	xfree(s->server_address);
	s->service = xstrdup(q->service);
	s->client_address = xstrdup(q->client_address);
	s->server_address = xstrdup(q->server_address);
	s->allow_plaintext = q->allow_plaintext;
	s->want_ticket = 0;
	s->srv = sasl_auth_server_new(&p, &err);
	if (s->srv == NULL) {
		msg_warn("SASL: %s", buf_cstr(&err));
		reply_status(out, AUTH_REPLY_TEMPFAIL, buf_cstr(&err));
		goto out;
	}
	/* No mechanism for this session (plaintext only, not allowed) is
	 * still a session: APOP, or a later one with TLS. */
	if (sasl_auth_server_mechs(s->srv, &mechs, &err) < 0)
		buf_reset(&mechs);
	r.mechs = buf_cstr(&mechs);
	auth_reply_encode(&r, out);
out:
	buf_free(&err);
	buf_free(&mechs);
}

static void
do_start(struct auth_session *s, const struct auth_request *q,
	 struct attr_list *out)
{
	struct buf challenge = BUF_INIT, reason = BUF_INIT;
	enum sasl_auth_result res;

	s->want_ticket = q->want_ticket;
	res = sasl_auth_server_start(s->srv, q->mech,
				     q->has_response ? q->response : NULL,
				     q->response_len, &challenge, &reason);
	reply_result(s, res, sasl_auth_server_username(s->srv), &challenge,
		     &reason, out);
	buf_free(&challenge);
	buf_free(&reason);
}

static void
do_step(struct auth_session *s, const struct auth_request *q,
	struct attr_list *out)
{
	struct buf challenge = BUF_INIT, reason = BUF_INIT;
	enum sasl_auth_result res;

	res = sasl_auth_server_step(s->srv, q->response, q->response_len,
				    &challenge, &reason);
	reply_result(s, res, sasl_auth_server_username(s->srv), &challenge,
		     &reason, out);
	buf_free(&challenge);
	buf_free(&reason);
}

static void
do_checkpass(struct auth_session *s, const struct auth_request *q,
	     struct attr_list *out)
{
	struct buf reason = BUF_INIT, none = BUF_INIT;
	enum sasl_auth_result res;

	sasl_auth_server_reset(s->srv);
	s->want_ticket = q->want_ticket;
	if (!s->allow_plaintext) {
		reply_status(out, AUTH_REPLY_NOMECH, NULL);
		s->want_ticket = 0;
		return;
	}
	res = sasl_auth_server_checkpass(s->srv, q->user, q->password, &reason);
	reply_result(s, res, sasl_auth_server_username(s->srv), &none, &reason,
		     out);
	buf_free(&reason);
}

/* APOP (RFC 1939 7): the digest is MD5(timestamp password) in hex, with
 * the sasldb's password of user in the default realm (of NAME in REALM
 * for NAME@REALM). */
struct apop_find {
	const char *user;
	char *password;
};

static void
apop_match(const char *user, const char *realm, const char *password,
	   size_t len, void *ctx)
{
	struct apop_find *f = ctx;
	/* NAME@REALM is that realm's NAME (a virtual domain's user, as
	 * libsasl2 reads it for the other mechanisms); NAME is the default
	 * realm's. */
	const char *at = strrchr(f->user, '@');
	size_t n = at != NULL ? (size_t)(at - f->user) : strlen(f->user);
	const char *want_realm = at != NULL ? at + 1 : auth_cfg.myhostname;

	if (f->password == NULL && strlen(user) == n &&
	    strncmp(user, f->user, n) == 0 &&
	    strcasecmp(realm, want_realm) == 0)
		f->password = xmemdup(password, len + 1);
}

/* 1 when digest matches, 0 when not (or no such user), -1 when the
 * sasldb cannot be read. */
static int
apop_check(const char *user, const char *timestamp, const char *digest)
{
	struct apop_find f = {user, NULL};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], want[AUTH_PROTO_DIGEST_LEN];
	EVP_MD_CTX *ctx;
	int ok = 0;

	if (sasldb_passwords(auth_cfg.sasldb_path, apop_match, &f) < 0)
		return -1;
	if (f.password == NULL)
		return 0;
	for (size_t i = 0; i < AUTH_PROTO_DIGEST_LEN; i++)
		want[i] = (char)(digest[i] >= 'A' && digest[i] <= 'F'
				     ? digest[i] - 'A' + 'a'
				     : digest[i]);
	ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, timestamp, strlen(timestamp)) == 1 &&
	    EVP_DigestUpdate(ctx, f.password, strlen(f.password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16) {
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		ok = CRYPTO_memcmp(hex, want, AUTH_PROTO_DIGEST_LEN) == 0;
	}
	EVP_MD_CTX_free(ctx);
	explicit_bzero(f.password, strlen(f.password));
	explicit_bzero(md, sizeof(md));
	xfree(f.password);
	return ok;
}

static void
do_apop(struct auth_session *s, const struct auth_request *q,
	struct attr_list *out)
{
	struct buf reason = BUF_INIT, none = BUF_INIT;
	enum sasl_auth_result res;
	int ok;

	sasl_auth_server_reset(s->srv);
	s->want_ticket = q->want_ticket;
	ok = apop_check(q->user, q->timestamp, q->digest);
	if (ok > 0) {
		res = SASL_AUTH_OK;
	} else if (ok == 0) {
		res = SASL_AUTH_FAIL;
		buf_puts(&reason, "digest mismatch or no such user");
	} else {
		res = SASL_AUTH_TEMPFAIL;
		buf_printf(&reason, "cannot read %s", auth_cfg.sasldb_path);
	}
	reply_result(s, res, q->user, &none, &reason, out);
	buf_free(&reason);
}

static void
do_redeem(struct auth_session *s, const struct auth_request *q,
	  struct attr_list *out)
{
	struct buf user = BUF_INIT, service = BUF_INIT, addr = BUF_INIT;
	struct buf local = BUF_INIT;
	struct auth_reply r = {.status = AUTH_REPLY_OK};

	if (auth_ticket_redeem(q->ticket, &user, &service, &addr, &local) < 0) {
		msg_warn("redeem from pid %ld: unknown, used or expired "
			 "ticket",
			 s->peer_pid);
		reply_status(out, AUTH_REPLY_FAIL,
			     "unknown, used or expired ticket");
	} else {
		msg_info("ticket redeemed by pid %ld: user=<%s>, service=%s, "
			 "rip=%s, lip=%s",
			 s->peer_pid, buf_cstr(&user), buf_cstr(&service),
			 buf_cstr(&addr), buf_cstr(&local));
		r.user = buf_cstr(&user);
		r.service = buf_cstr(&service);
		r.client_address = buf_cstr(&addr);
		r.server_address = buf_cstr(&local);
		auth_reply_encode(&r, out);
	}
	buf_free(&local);
	buf_free(&user);
	buf_free(&service);
	buf_free(&addr);
}

static const char *const request_words[] = {
    [AUTH_REQ_MECHS] = "mechs",	  [AUTH_REQ_START] = "start",
    [AUTH_REQ_STEP] = "step",	  [AUTH_REQ_CHECKPASS] = "checkpass",
    [AUTH_REQ_APOP] = "apop",	  [AUTH_REQ_CANCEL] = "cancel",
    [AUTH_REQ_REDEEM] = "redeem",
};

/* 1 when the peer's role allows the request. */
static int
allowed(const struct auth_session *s, enum auth_request_type t)
{
	if (t == AUTH_REQ_REDEEM)
		return (s->role & AUTH_ROLE_REDEEM) != 0;
	return (s->role & AUTH_ROLE_EXCHANGE) != 0;
}

void
auth_session_request(struct auth_session *s, const struct attr_list *in,
		     struct attr_list *out)
{
	struct auth_request q;
	struct buf err = BUF_INIT;

	if (auth_request_parse(in, &q, &err) < 0) {
		msg_warn("bad request from pid %ld uid %ld: %s", s->peer_pid,
			 s->peer_uid, buf_cstr(&err));
		reply_status(out, AUTH_REPLY_FAIL, "bad request");
		buf_free(&err);
		return;
	}
	buf_free(&err);
	if (!allowed(s, q.type)) {
		msg_warn("%s refused to pid %ld uid %ld: not allowed for this "
			 "peer",
			 request_words[q.type], s->peer_pid, s->peer_uid);
		reply_status(out, AUTH_REPLY_FAIL, "not allowed for this peer");
		return;
	}
	if (q.type != AUTH_REQ_MECHS && q.type != AUTH_REQ_REDEEM &&
	    s->srv == NULL) {
		reply_status(out, AUTH_REPLY_FAIL, "no mechs request first");
		return;
	}
	switch (q.type) {
	case AUTH_REQ_MECHS:
		do_mechs(s, &q, out);
		break;
	case AUTH_REQ_START:
		do_start(s, &q, out);
		break;
	case AUTH_REQ_STEP:
		do_step(s, &q, out);
		break;
	case AUTH_REQ_CHECKPASS:
		do_checkpass(s, &q, out);
		break;
	case AUTH_REQ_APOP:
		do_apop(s, &q, out);
		break;
	case AUTH_REQ_CANCEL:
		sasl_auth_server_reset(s->srv);
		s->want_ticket = 0;
		reply_status(out, AUTH_REPLY_OK, NULL);
		break;
	case AUTH_REQ_REDEEM:
		do_redeem(s, &q, out);
		break;
	}
}
