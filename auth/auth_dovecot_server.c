/*
 * auth_dovecot_server - the auth service's second language: Dovecot's
 * authentication protocol, server side, on the same socket (a connection
 * whose first byte is not a digit, which every attribute list starts
 * with).  So smtpd with smtpd_sasl_type = dovecot, or any client of
 * Dovecot's auth server (Postfix's xsasl_dovecot, Exim), can use
 * Panacea's auth service as it is.
 *
 * Each line becomes the request auth_session.c already answers, through
 * the one codec of both (auth_proto.h): AUTH is a mechs request with the
 * line's parameters then a start, CONT a step, CANCEL a cancel.  So what
 * a Dovecot-speaking peer may do is exactly what an attribute-list peer
 * may (the same role checks, limits, logs and failure handling): no
 * tickets, no APOP, no redeem.  Reasons stay in the log (auth_proto.h:
 * never for a client), so FAIL carries none.  One exchange at a time: an
 * AUTH while one is in progress cancels it.
 */
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "auth.h"
#include "auth_proto.h"
#include "base64.h"
#include "dovecot_auth.h"
#include "msg.h"
#include "strutil.h"

static void
wipe(struct attr_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		explicit_bzero(l->items[i].value, l->items[i].len);
	attr_list_free(l);
}

/* Asks the session; rep points into back (the caller frees it): 0, or
 * -1 when the session's reply does not parse (a bug: logged). */
static int
ask(struct auth_session *s, const struct auth_request *q,
    struct attr_list *back, struct auth_reply *rep)
{
	struct attr_list req = ATTR_LIST_INIT;
	struct buf err = BUF_INIT;
	int rc = 0;

	auth_request_encode(q, &req);
	auth_session_request(s, &req, back);
	wipe(&req);
	if (auth_reply_parse(back, rep, &err) < 0) {
		msg_warn("auth session reply: %s", buf_cstr(&err));
		rc = -1;
	}
	buf_free(&err);
	return rc;
}

static void
handshake(struct auth_session *s, struct buf *out)
{
	static unsigned long cuid;
	struct auth_request q = {
	    .type = AUTH_REQ_MECHS,
	    .service = "smtp",
	    .client_address = "",
	    .client_port = "",
	    .server_address = "",
	    .server_port = "",
	    .allow_plaintext = 1,
	};
	struct attr_list back = ATTR_LIST_INIT;
	struct auth_reply rep;

	buf_puts(out, "VERSION\t1\t2\n");
	/* Every mechanism the service has; the client filters them for its
	 * session (plaintext ones by their flag). */
	if (ask(s, &q, &back, &rep) == 0 && rep.status == AUTH_REPLY_OK &&
	    rep.mechs != NULL) {
		char **names;
		int n, i;

		names = str_split(rep.mechs, " ", &n);
		for (i = 0; i < n; i++)
			dovecot_mech_encode(
			    out, names[i],
			    dovecot_mech_flags_by_name(names[i]));
		str_list_free(names);
	}
	attr_list_free(&back);
	buf_printf(out, "SPID\t%ld\nCUID\t%lu\nDONE\n", (long)getpid(), ++cuid);
}

/* The outcome of an exchange's request, as Dovecot says it. */
static void
answer(struct auth_dovecot_conn *d, unsigned long id,
       const struct auth_reply *rep, struct buf *out)
{
	switch (rep->status) {
	case AUTH_REPLY_CONTINUE:
		buf_printf(out, "CONT\t%lu\t", id);
		base64_encode(out, rep->challenge, rep->challenge_len);
		buf_putc(out, '\n');
		return;
	case AUTH_REPLY_OK:
		if (rep->user != NULL) {
			dovecot_ok_encode(out, id, rep->user);
			break;
		}
		dovecot_fail_encode(out, id, 1);
		break;
	case AUTH_REPLY_FAIL:
	case AUTH_REPLY_NOMECH:
		dovecot_fail_encode(out, id, 0);
		break;
	case AUTH_REPLY_TEMPFAIL:
		dovecot_fail_encode(out, id, 1);
		break;
	}
	d->id = 0;
}

static void
cancel(struct auth_session *s, struct auth_dovecot_conn *d)
{
	struct auth_request q = {.type = AUTH_REQ_CANCEL};
	struct attr_list back = ATTR_LIST_INIT;
	struct auth_reply rep;

	(void)ask(s, &q, &back, &rep);
	attr_list_free(&back);
	d->id = 0;
}

static void
auth_line(struct auth_session *s, struct auth_dovecot_conn *d,
	  const struct dovecot_request *r, struct buf *out)
{
	struct auth_request q = {
	    .type = AUTH_REQ_MECHS,
	    .client_address = r->remote_ip ? r->remote_ip : "",
	    .client_port = r->remote_port ? r->remote_port : "",
	    .server_address = r->local_ip ? r->local_ip : "",
	    .server_port = r->local_port ? r->local_port : "",
	    /* Dovecot's "secured": TLS, or a client it trusts as safe. */
	    .allow_plaintext = r->secured,
	    .external_ssf = r->ssf,
	};
	struct attr_list back = ATTR_LIST_INIT;
	struct auth_reply rep;

	if (d->id != 0)
		cancel(s, d);
	if (r->service != NULL && strcmp(r->service, "smtp") == 0)
		q.service = "smtp";
	else if (r->service != NULL && (strcmp(r->service, "pop3") == 0 ||
					strcmp(r->service, "pop") == 0))
		q.service = "pop";
	else {
		msg_warn("Dovecot protocol client: service %s not served",
			 r->service ? r->service : "(none)");
		dovecot_fail_encode(out, r->id, 0);
		return;
	}
	if (ask(s, &q, &back, &rep) < 0 || rep.status != AUTH_REPLY_OK) {
		attr_list_free(&back);
		dovecot_fail_encode(out, r->id, 1);
		return;
	}
	attr_list_free(&back);
	memset(&q, 0, sizeof(q));
	q.type = AUTH_REQ_START;
	q.mech = r->mech;
	q.has_response = r->has_resp;
	q.response = r->has_resp ? r->resp : NULL;
	q.response_len = r->has_resp ? r->resp_len : 0;
	d->id = r->id;
	if (ask(s, &q, &back, &rep) < 0)
		rep.status = AUTH_REPLY_TEMPFAIL;
	answer(d, r->id, &rep, out);
	wipe(&back);
}

static void
cont_line(struct auth_session *s, struct auth_dovecot_conn *d,
	  const struct dovecot_request *r, struct buf *out)
{
	struct auth_request q = {
	    .type = AUTH_REQ_STEP,
	    .response = r->resp,
	    .response_len = r->resp_len,
	};
	struct attr_list back = ATTR_LIST_INIT;
	struct auth_reply rep;

	if (d->id == 0 || r->id != d->id) {
		dovecot_fail_encode(out, r->id, 0);
		return;
	}
	if (ask(s, &q, &back, &rep) < 0)
		rep.status = AUTH_REPLY_TEMPFAIL;
	answer(d, r->id, &rep, out);
	wipe(&back);
}

int
auth_dovecot_request(struct auth_session *s, struct auth_dovecot_conn *d,
		     struct buf *in, struct buf *out)
{
	/* Whole lines, until one is answered (one reply at a time). */
	while (in->len > 0) {
		struct dovecot_request r = DOVECOT_REQUEST_INIT;
		struct buf err = BUF_INIT;
		char *nl = memchr(in->data, '\n', in->len);
		size_t len;
		int bad = 0;

		if (nl == NULL) {
			if (in->len > DOVECOT_AUTH_LINE_MAX) {
				msg_warn("Dovecot protocol client: line too "
					 "long");
				return -1;
			}
			return 0;
		}
		len = (size_t)(nl - in->data);
		if (dovecot_request_parse(
			in->data,
			len > 0 && in->data[len - 1] == '\r' ? len - 1 : len,
			&r, &err) < 0) {
			msg_warn("Dovecot protocol client: %s", buf_cstr(&err));
			bad = 1;
		} else if (!d->versioned && r.type != DOVECOT_REQUEST_VERSION) {
			msg_warn("Dovecot protocol client: no VERSION first");
			bad = 1;
		} else if (r.type == DOVECOT_REQUEST_VERSION) {
			if (r.major != 1 || d->versioned)
				bad = 1;
			else
				handshake(s, out);
			d->versioned = 1;
		} else if (r.type == DOVECOT_REQUEST_AUTH) {
			auth_line(s, d, &r, out);
		} else if (r.type == DOVECOT_REQUEST_CONT) {
			cont_line(s, d, &r, out);
		} else if (r.type == DOVECOT_REQUEST_CANCEL) {
			if (d->id != 0 && r.id == d->id)
				cancel(s, d);
		}
		/* CPID and lines of newer clients: nothing to say. */
		dovecot_request_free(&r);
		buf_free(&err);
		buf_consume(in, len + 1);
		if (bad)
			return -1;
		if (out->len > 0)
			return 0;
	}
	return 0;
}
