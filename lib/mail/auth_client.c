/*
 * auth_client - the client side of the auth service; see auth_client.h.
 *
 * One request, one reply, in lockstep on a blocking socket with a
 * deadline for each.  Any transport or protocol error closes the socket:
 * the service's state for this connection (an exchange half done) is
 * gone with it, so nothing can be resumed by mistake; the next exchange
 * starts on a new connection with the parameters remembered here.
 *
 * With Dovecot (auth_dovecot.c) the connection is the back end's; what
 * stays here is common to both: the parameters, the mechanism filter,
 * the user names for the log and the outcome.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "attr.h"
#include "auth_client.h"
#include "auth_dovecot.h"
#include "auth_proto.h"
#include "dovecot_auth.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

struct auth_client {
	char *path;
	int fd;
	int timeout_ms;
	int have_params;
	char *service, *client_address, *client_port;
	char *server_address, *server_port;
	int allow_plaintext;
	unsigned external_ssf;
	int secured;
	unsigned sec_forbid, sec_require;
	struct auth_dovecot *dv; /* the Dovecot back end, else NULL */
	char *mechs;
	char *username;
	char *ticket;
	char *mech_now;	 /* the mechanism of the exchange in progress */
	int responses;	 /* client responses seen in it */
	char *attempted; /* the user name the client gave, for the log */
};

/* The user name a client sends in its first response, for the log
 * (Postfix's sasl_username, Dovecot's user=<>): PLAIN's authentication
 * identity, LOGIN's first answer, CRAM-MD5's name before the digest.
 * Bytes that are not printable ASCII become '?'. */
static void
note_response(struct auth_client *c, const char *resp, size_t len)
{
	const char *name = NULL, *nul;
	size_t n = 0, i;

	if (len == 0 || c->responses++ > 0 || c->mech_now == NULL)
		return;
	if (str_casecmp(c->mech_now, "PLAIN") == 0) {
		nul = memchr(resp, '\0', len);
		if (nul == NULL)
			return;
		name = nul + 1;
		nul = memchr(name, '\0', len - (size_t)(name - resp));
		n = nul ? (size_t)(nul - name) : len - (size_t)(name - resp);
	} else if (str_casecmp(c->mech_now, "LOGIN") == 0) {
		name = resp;
		n = len;
	} else if (str_casecmp(c->mech_now, "CRAM-MD5") == 0) {
		name = resp;
		for (n = len; n > 0 && resp[n - 1] != ' '; n--)
			;
		if (n == 0)
			return;
		n--;
	} else {
		return;
	}
	if (n > SASL_AUTH_NAME_MAX)
		n = SASL_AUTH_NAME_MAX;
	xfree(c->attempted);
	c->attempted = xstrndup(name, n);
	for (i = 0; i < n; i++)
		if (c->attempted[i] < 0x21 || c->attempted[i] > 0x7e)
			c->attempted[i] = '?';
}

static void
new_attempt(struct auth_client *c, const char *mech, const char *user)
{
	xfree(c->mech_now);
	xfree(c->attempted);
	c->mech_now = mech ? xstrdup(mech) : NULL;
	c->attempted = NULL;
	c->responses = 0;
	if (user != NULL)
		note_response(c, user, strlen(user));
}

static void
drop(struct auth_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static char *
dup_or_empty(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

static void
forget_result(struct auth_client *c)
{
	xfree(c->username);
	xfree(c->ticket);
	c->username = c->ticket = NULL;
}

/*
 * Sends req and reads its reply into in/rep.  0, or -1 with err set and
 * the connection closed.
 */
static int
transact(struct auth_client *c, const struct auth_request *req,
	 struct attr_list *in, struct auth_reply *rep, struct buf *err)
{
	struct attr_list out = ATTR_LIST_INIT;
	int r = -1;

	if (c->fd < 0) {
		buf_puts(err, "auth service: not connected");
		return -1;
	}
	auth_request_encode(req, &out);
	if (attr_send(c->fd, &out, c->timeout_ms) < 0 ||
	    attr_recv(c->fd, in, AUTH_PROTO_LIST_MAX, c->timeout_ms) < 0)
		buf_printf(err, "auth service %s: %s", c->path,
			   errno == ECONNRESET ? "connection closed"
					       : strerror(errno));
	else if (auth_reply_parse(in, rep, err) < 0)
		buf_printf(err, " (auth service %s: bad reply)", c->path);
	else
		r = 0;
	attr_list_free(&out);
	if (r < 0)
		drop(c);
	return r;
}

/* The service already hides anonymous mechanisms and, unless allowed,
 * plaintext ones; the security options go by the names' properties. */
static char *
filter_mechs(const struct auth_client *c, const char *list)
{
	struct buf out = BUF_INIT;
	char **names;
	int n, i;

	names = str_split(list, " ", &n);
	for (i = 0; i < n; i++) {
		unsigned f = dovecot_mech_flags_by_name(names[i]);

		if ((f & c->sec_forbid) ||
		    (f & c->sec_require) != c->sec_require)
			continue;
		if (out.len > 0)
			buf_putc(&out, ' ');
		buf_puts(&out, names[i]);
	}
	str_list_free(names);
	buf_putc(&out, '\0');
	return buf_steal(&out);
}

static int
send_mechs(struct auth_client *c, struct buf *mechs, struct buf *err)
{
	struct auth_request req = {
	    .type = AUTH_REQ_MECHS,
	    .service = c->service,
	    .client_address = c->client_address,
	    .client_port = c->client_port,
	    .server_address = c->server_address,
	    .server_port = c->server_port,
	    .allow_plaintext = c->allow_plaintext,
	    .external_ssf = c->external_ssf,
	};
	struct attr_list in = ATTR_LIST_INIT;
	struct auth_reply rep;
	int r = -1;

	if (transact(c, &req, &in, &rep, err) < 0)
		goto out;
	if (rep.status != AUTH_REPLY_OK || rep.mechs == NULL) {
		buf_printf(err, "auth service refused the session: %s",
			   rep.reason != NULL ? rep.reason : "no mechanisms");
		goto out;
	}
	xfree(c->mechs);
	c->mechs = filter_mechs(c, rep.mechs);
	if (mechs != NULL) {
		buf_reset(mechs);
		buf_puts(mechs, c->mechs);
	}
	r = 0;
out:
	attr_list_free(&in);
	return r;
}

static int
reconnect(struct auth_client *c, struct buf *err)
{
	drop(c);
	c->fd = sock_connect_unix(c->path, c->timeout_ms);
	if (c->fd < 0) {
		buf_printf(err, "cannot connect to the auth service %s: %s",
			   c->path, strerror(errno));
		return -1;
	}
	if (c->have_params && send_mechs(c, NULL, err) < 0)
		return -1;
	return 0;
}

struct auth_client *
auth_client_connect(const char *path, int timeout_ms, struct buf *err)
{
	struct auth_client *c = xcalloc(1, sizeof(*c));

	c->path = xstrdup(path);
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	if (reconnect(c, err) < 0) {
		auth_client_free(c);
		return NULL;
	}
	return c;
}

struct auth_client *
auth_client_open(enum auth_client_type type, const char *path, int timeout_ms,
		 struct buf *err)
{
	struct auth_client *c;

	if (type == AUTH_CLIENT_PANACEA)
		return auth_client_connect(path, timeout_ms, err);
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	c->dv = auth_dovecot_connect(path, timeout_ms, err);
	if (c->dv == NULL) {
		auth_client_free(c);
		return NULL;
	}
	return c;
}

void
auth_client_free(struct auth_client *c)
{
	if (c == NULL)
		return;
	drop(c);
	auth_dovecot_free(c->dv);
	forget_result(c);
	xfree(c->path);
	xfree(c->service);
	xfree(c->client_address);
	xfree(c->client_port);
	xfree(c->server_address);
	xfree(c->server_port);
	xfree(c->mechs);
	xfree(c->mech_now);
	xfree(c->attempted);
	xfree(c);
}

int
auth_client_mechs(struct auth_client *c, const struct auth_client_params *p,
		  struct buf *mechs, struct buf *err)
{
	xfree(c->service);
	xfree(c->client_address);
	xfree(c->client_port);
	xfree(c->server_address);
	xfree(c->server_port);
	c->service = dup_or_empty(p->service);
	c->client_address = dup_or_empty(p->client_address);
	c->client_port = dup_or_empty(p->client_port);
	c->server_address = dup_or_empty(p->server_address);
	c->server_port = dup_or_empty(p->server_port);
	c->allow_plaintext = p->allow_plaintext;
	c->external_ssf = p->external_ssf;
	c->secured = p->secured;
	c->sec_forbid = p->sec_forbid;
	c->sec_require = p->sec_require;
	c->have_params = 1;
	xfree(c->mechs);
	c->mechs = NULL;
	forget_result(c);
	if (c->dv != NULL) {
		struct buf list = BUF_INIT;

		if (auth_dovecot_mechs(c->dv, c->sec_forbid, c->sec_require,
				       c->allow_plaintext, &list, err) < 0) {
			buf_free(&list);
			return -1;
		}
		buf_putc(&list, '\0');
		c->mechs = buf_steal(&list);
		if (mechs != NULL) {
			buf_reset(mechs);
			buf_puts(mechs, c->mechs);
		}
		return 0;
	}
	if (c->fd >= 0)
		return send_mechs(c, mechs, err);
	/* reconnect() sends them on the new connection. */
	if (reconnect(c, err) < 0)
		return -1;
	if (mechs != NULL) {
		buf_reset(mechs);
		buf_puts(mechs, c->mechs);
	}
	return 0;
}

int
auth_client_has_mech(struct auth_client *c, const char *mech)
{
	size_t n = strlen(mech);
	const char *p;

	if (c == NULL || c->mechs == NULL || n == 0)
		return 0;
	for (p = c->mechs; *p;) {
		size_t w = strcspn(p, " ");
		if (w == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += w;
		p += strspn(p, " ");
	}
	return 0;
}

static enum sasl_auth_result
tempfail(struct buf *reason, struct buf *err)
{
	buf_append(reason, err->data, err->len);
	buf_free(err);
	return SASL_AUTH_TEMPFAIL;
}

/* The outcome of an exchange's reply. */
static enum sasl_auth_result
result(struct auth_client *c, const struct auth_reply *rep, int want_ticket,
       struct buf *challenge, struct buf *reason)
{
	switch (rep->status) {
	case AUTH_REPLY_CONTINUE:
		buf_reset(challenge);
		buf_append(challenge, rep->challenge, rep->challenge_len);
		return SASL_AUTH_CONTINUE;
	case AUTH_REPLY_OK:
		if (rep->user == NULL || (want_ticket && rep->ticket == NULL)) {
			buf_puts(reason, "auth service: success without a "
					 "user or ticket");
			drop(c);
			return SASL_AUTH_TEMPFAIL;
		}
		c->username = xstrdup(rep->user);
		c->ticket = rep->ticket != NULL ? xstrdup(rep->ticket) : NULL;
		return SASL_AUTH_OK;
	case AUTH_REPLY_FAIL:
		buf_puts(reason, rep->reason != NULL ? rep->reason
						     : "authentication failed");
		return SASL_AUTH_FAIL;
	case AUTH_REPLY_NOMECH:
		buf_puts(reason, "mechanism not available");
		return SASL_AUTH_NOMECH;
	case AUTH_REPLY_TEMPFAIL:
		break;
	}
	buf_puts(reason,
		 rep->reason != NULL ? rep->reason : "temporary failure");
	return SASL_AUTH_TEMPFAIL;
}

/*
 * A request that begins an exchange: on a connection that broke since
 * the last request (service restarted, idle timeout), once more on a
 * new one.
 */
static enum sasl_auth_result
begin(struct auth_client *c, const struct auth_request *req,
      struct buf *challenge, struct buf *reason)
{
	struct buf err = BUF_INIT;
	struct attr_list in = ATTR_LIST_INIT;
	struct auth_reply rep;
	enum sasl_auth_result r;

	forget_result(c);
	if (!c->have_params) {
		buf_puts(reason, "auth client: no mechs request first");
		return SASL_AUTH_TEMPFAIL;
	}
	if (c->fd < 0 && reconnect(c, &err) < 0)
		return tempfail(reason, &err);
	if (transact(c, req, &in, &rep, &err) < 0) {
		attr_list_free(&in);
		buf_reset(&err);
		if (reconnect(c, &err) < 0 ||
		    transact(c, req, &in, &rep, &err) < 0) {
			attr_list_free(&in);
			return tempfail(reason, &err);
		}
	}
	r = result(c, &rep, req->want_ticket, challenge, reason);
	attr_list_free(&in);
	buf_free(&err);
	return r;
}

/* The outcome of a Dovecot exchange's step, the user kept on success. */
static enum sasl_auth_result
dovecot_outcome(struct auth_client *c, enum sasl_auth_result r,
		struct buf *user)
{
	if (r == SASL_AUTH_OK)
		c->username = xstrdup(buf_cstr(user));
	buf_free(user);
	return r;
}

static enum sasl_auth_result
dovecot_start(struct auth_client *c, const char *mech, const void *resp,
	      size_t resp_len, int want_ticket, struct buf *challenge,
	      struct buf *reason)
{
	struct auth_dovecot_session s = {
	    .service = c->service,
	    .local_ip = c->server_address,
	    .local_port = c->server_port,
	    .remote_ip = c->client_address,
	    .remote_port = c->client_port,
	    .secured = c->secured,
	    .ssf = c->external_ssf,
	};
	struct buf user = BUF_INIT;

	forget_result(c);
	if (!c->have_params) {
		buf_puts(reason, "auth client: no mechs request first");
		return SASL_AUTH_TEMPFAIL;
	}
	if (want_ticket) {
		buf_puts(reason, "Dovecot auth issues no tickets");
		return SASL_AUTH_TEMPFAIL;
	}
	return dovecot_outcome(c,
			       auth_dovecot_start(c->dv, &s, mech, resp,
						  resp_len, challenge, &user,
						  reason),
			       &user);
}

enum sasl_auth_result
auth_client_start(struct auth_client *c, const char *mech, const void *resp,
		  size_t resp_len, int want_ticket, struct buf *challenge,
		  struct buf *reason)
{
	struct auth_request req = {
	    .type = AUTH_REQ_START,
	    .mech = mech,
	    .has_response = resp != NULL,
	    .response = resp,
	    .response_len = resp != NULL ? resp_len : 0,
	    .want_ticket = want_ticket,
	};

	new_attempt(c, mech, NULL);
	if (resp != NULL)
		note_response(c, resp, resp_len);
	if (c->dv != NULL)
		return dovecot_start(c, mech, resp, resp_len, want_ticket,
				     challenge, reason);
	return begin(c, &req, challenge, reason);
}

enum sasl_auth_result
auth_client_step(struct auth_client *c, const void *resp, size_t resp_len,
		 struct buf *challenge, struct buf *reason)
{
	struct auth_request req = {
	    .type = AUTH_REQ_STEP,
	    .response = resp != NULL ? resp : "",
	    .response_len = resp_len,
	};
	struct buf err = BUF_INIT;
	struct attr_list in = ATTR_LIST_INIT;
	struct auth_reply rep;
	enum sasl_auth_result r;

	note_response(c, resp != NULL ? resp : "", resp_len);
	if (c->dv != NULL) {
		struct buf user = BUF_INIT;

		return dovecot_outcome(c,
				       auth_dovecot_step(c->dv, resp, resp_len,
							 challenge, &user,
							 reason),
				       &user);
	}
	/* In the middle of an exchange: the service's half is on this
	 * connection only, so no second try. */
	if (transact(c, &req, &in, &rep, &err) < 0) {
		attr_list_free(&in);
		return tempfail(reason, &err);
	}
	/* The ticket wish was given with start; the service remembers it. */
	r = result(c, &rep, 0, challenge, reason);
	attr_list_free(&in);
	buf_free(&err);
	return r;
}

/* A request answered in one step (checkpass, apop: the password or
 * digest travels in it), as a new attempt logged as LOGIN for user: a
 * challenge in reply is the service's error, a tempfail that drops the
 * connection; what names the request in that reason. */
static enum sasl_auth_result
one_step(struct auth_client *c, const struct auth_request *req,
	 const char *user, const char *what, struct buf *reason)
{
	struct buf challenge = BUF_INIT;
	enum sasl_auth_result r;

	new_attempt(c, "LOGIN", user);
	r = begin(c, req, &challenge, reason);
	buf_free(&challenge);
	if (r == SASL_AUTH_CONTINUE) {
		buf_printf(reason, "auth service: %s cannot continue", what);
		drop(c);
		r = SASL_AUTH_TEMPFAIL;
	}
	return r;
}

enum sasl_auth_result
auth_client_checkpass(struct auth_client *c, const char *user,
		      const char *password, int want_ticket, struct buf *reason)
{
	struct auth_request req = {
	    .type = AUTH_REQ_CHECKPASS,
	    .user = user,
	    .password = password,
	    .want_ticket = want_ticket,
	};

	if (c->dv != NULL) {
		/* PLAIN's message: no authzid, the user, the password. */
		struct buf resp = BUF_INIT, challenge = BUF_INIT;
		enum sasl_auth_result r;

		buf_putc(&resp, '\0');
		buf_puts(&resp, user);
		buf_putc(&resp, '\0');
		buf_puts(&resp, password);
		r = auth_client_start(c, "PLAIN", resp.data, resp.len,
				      want_ticket, &challenge, reason);
		explicit_bzero(resp.data, resp.len);
		buf_free(&resp);
		buf_free(&challenge);
		if (r == SASL_AUTH_CONTINUE) {
			auth_client_cancel(c);
			buf_puts(reason, "Dovecot auth: PLAIN cannot continue");
			r = SASL_AUTH_TEMPFAIL;
		}
		return r;
	}
	return one_step(c, &req, user, "checkpass", reason);
}

enum sasl_auth_result
auth_client_apop(struct auth_client *c, const char *user, const char *timestamp,
		 const char *digest, int want_ticket, struct buf *reason)
{
	struct auth_request req = {
	    .type = AUTH_REQ_APOP,
	    .user = user,
	    .timestamp = timestamp,
	    .digest = digest,
	    .want_ticket = want_ticket,
	};

	if (c->dv != NULL) {
		new_attempt(c, "LOGIN", user);
		buf_puts(reason, "APOP needs Panacea's auth service");
		return SASL_AUTH_NOMECH;
	}
	return one_step(c, &req, user, "apop", reason);
}

void
auth_client_cancel(struct auth_client *c)
{
	struct auth_request req = {.type = AUTH_REQ_CANCEL};
	struct buf err = BUF_INIT;
	struct attr_list in = ATTR_LIST_INIT;
	struct auth_reply rep;

	forget_result(c);
	if (c->dv != NULL)
		auth_dovecot_cancel(c->dv);
	else if (c->fd >= 0)
		(void)transact(c, &req, &in, &rep, &err);
	attr_list_free(&in);
	buf_free(&err);
}

const char *
auth_client_username(const struct auth_client *c)
{
	return c != NULL ? c->username : NULL;
}

const char *
auth_client_attempted_user(const struct auth_client *c)
{
	return c != NULL ? c->attempted : NULL;
}

const char *
auth_client_ticket(const struct auth_client *c)
{
	return c != NULL ? c->ticket : NULL;
}

int
auth_redeem(const char *path, const char *ticket, int timeout_ms,
	    struct buf *user, struct buf *client_address,
	    struct buf *server_address, struct buf *err)
{
	struct auth_request req = {.type = AUTH_REQ_REDEEM, .ticket = ticket};
	struct auth_client c = {
	    .path = (char *)path, .fd = -1, .timeout_ms = timeout_ms};
	struct attr_list in = ATTR_LIST_INIT;
	struct auth_reply rep;
	int r = -1;

	if (!auth_proto_ticket_ok(ticket)) {
		buf_puts(err, "not a ticket");
		return -1;
	}
	c.fd = sock_connect_unix(path, timeout_ms);
	if (c.fd < 0) {
		buf_printf(err, "cannot connect to the auth service %s: %s",
			   path, strerror(errno));
		return -1;
	}
	if (transact(&c, &req, &in, &rep, err) < 0)
		goto out;
	if (rep.status != AUTH_REPLY_OK || rep.user == NULL) {
		buf_printf(err, "ticket refused: %s",
			   rep.reason != NULL ? rep.reason
					      : "unknown, used or expired");
		goto out;
	}
	/* Only a POP3 login opens a mailbox. */
	if (rep.service == NULL || strcmp(rep.service, "pop") != 0) {
		buf_printf(err, "ticket of a %s login, not a POP3 one",
			   rep.service != NULL ? rep.service : "(unknown)");
		goto out;
	}
	buf_reset(user);
	buf_puts(user, rep.user);
	buf_reset(client_address);
	if (rep.client_address != NULL)
		buf_puts(client_address, rep.client_address);
	buf_reset(server_address);
	if (rep.server_address != NULL)
		buf_puts(server_address, rep.server_address);
	r = 0;
out:
	attr_list_free(&in);
	drop(&c);
	return r;
}
