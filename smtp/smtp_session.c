/*
 * smtp_session - one SMTP dialogue with one server (RFC 5321).
 *
 * Greeting, EHLO (HELO when EHLO gets 5xx), STARTTLS as the destination's
 * TLS policy says, AUTH when a password is configured for it, then one
 * transaction: MAIL FROM with SIZE, BODY=8BITMIME, SMTPUTF8 and the DSN
 * parameters as the server offers them, one RCPT TO per undecided
 * recipient, DATA, or BDAT chunks when the server offers CHUNKING (RFC
 * 3030: each chunk's reply is read before the next chunk goes; a refused
 * chunk ends the transaction with that reply, and nothing more is sent
 * of it).  With PIPELINING the whole envelope and DATA go out in one
 * write and the replies are read in order afterwards.  What the content
 * must become for this server (7 bits, line lengths, BINARYMIME) is
 * decided before MAIL FROM (smtp_body.c).
 *
 * Texts follow Postfix's, since log tools and bounce readers know them:
 * "host H[IP] said: 550 5.1.1 ... (in reply to RCPT TO command)", "host
 * H[IP] refused to talk to me: ...", "lost connection with H[IP] while
 * sending RCPT TO", "conversation with H[IP] timed out while ...".
 *
 * A reply is read with bounded lines (SMTP_REPLY_LINE_MAX) and a bounded
 * number of lines (smtp_reply.h); a malformed reply ends the session as a
 * protocol error.  Nothing the server sends can make the client send
 * content it did not mean to send: content goes out only after a 354.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deliver_proto.h"
#include "msg.h"
#include "smtp.h"
#include "xalloc.h"
#include "xtext.h"

struct sess {
	struct smtp_request *req;
	struct smtp_conn *c;
	const struct smtp_tls_policy *pol;
	struct smtp_reply r;
	struct buf line;
	char name[SMTP_HOSTADDR_MAX]; /* host[ip] */
	int final;
	struct smtp_body body; /* the content for this server */
	int bdat;	       /* CHUNKING: BDAT, not DATA */
};

/* --- replies ------------------------------------------------------------ */

/* Notes that the connection is unusable after a read or write failure
 * while doing "stage", as a reason to try the next server. */
static void
sess_lost(struct sess *ss, const char *stage, int error)
{
	struct buf text = BUF_INIT;

	ss->c->broken = 1;
	if (error == STREAM_TIMEOUT)
		buf_printf(&text, "conversation with %s timed out while %s",
			   ss->name, stage);
	else
		buf_printf(&text, "lost connection with %s while %s", ss->name,
			   stage);
	smtp_add_reason(ss->req, "4.4.2", buf_cstr(&text));
	buf_free(&text);
}

/* Flushes what is pending and reads one reply into ss->r; 0, or -1 after
 * sess_lost() (or a malformed reply). */
static int
get_reply(struct sess *ss, int timeout_ms, const char *stage)
{
	struct stream *s = &ss->c->s;
	int st, fed = SMTP_REPLY_MORE;

	stream_set_timeout(s, timeout_ms);
	if (stream_flush(s) < 0) {
		sess_lost(ss, stage, stream_error(s));
		return -1;
	}
	smtp_reply_reset(&ss->r);
	while (fed == SMTP_REPLY_MORE) {
		st = stream_getline(s, &ss->line, SMTP_REPLY_LINE_MAX);
		if (st <= 0) {
			sess_lost(ss, stage, st == 0 ? STREAM_EOF : st);
			return -1;
		}
		fed = smtp_reply_feed(
		    &ss->r, ss->line.data ? ss->line.data : "", ss->line.len);
	}
	if (fed == SMTP_REPLY_BAD) {
		struct buf text = BUF_INIT;

		ss->c->broken = 1;
		buf_printf(&text, "host %s sent a malformed reply while %s",
			   ss->name, stage);
		smtp_add_reason(ss->req, "4.5.0", buf_cstr(&text));
		buf_free(&text);
		return -1;
	}
	return 0;
}

static void send_line(struct sess *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
send_line(struct sess *ss, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stream_line_vprintf(&ss->c->s, fmt, ap);
	va_end(ap);
}

/* "host H[IP] said: REPLY (in reply to CMD command)" */
static void
said(struct sess *ss, const char *cmd, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "host %s said: %s (in reply to %s command)", ss->name,
		   buf_cstr(&ss->r.text), cmd);
}

/* A reply that ends the session with this server: 4xx (and 5xx where the
 * next server deserves a chance) become a reason to move on; other 5xx
 * bounce every undecided recipient. */
static void
session_reply_fail(struct sess *ss, const char *text, int may_bounce)
{
	char dsn[SMTP_REPLY_DSN_MAX];

	smtp_reply_dsn(&ss->r, dsn, sizeof(dsn));
	if (smtp_reply_class(&ss->r) == 5 && may_bounce)
		smtp_all_result(ss->req, DELIVER_CLASS_BOUNCE, dsn, text,
				&ss->c->t, 1);
	else
		smtp_add_reason(ss->req, dsn[0] == '5' ? "4.0.0" : dsn, text);
}

/* --- greeting, EHLO, STARTTLS, AUTH ------------------------------------ */

static int
greeting(struct sess *ss)
{
	struct buf text = BUF_INIT;

	if (get_reply(ss, smtp_cfg.helo_timeout_ms,
		      "receiving the initial server greeting") < 0)
		return -1;
	if (smtp_reply_class(&ss->r) == 2)
		return 0;
	buf_printf(&text, "host %s refused to talk to me: %s", ss->name,
		   buf_cstr(&ss->r.text));
	session_reply_fail(ss, buf_cstr(&text),
			   !smtp_cfg.skip_5xx_greeting && ss->final);
	buf_free(&text);
	return -1;
}

/* EHLO, or LHLO as lmtp (RFC 2033: no HELO to fall back to). */
static int
ehlo(struct sess *ss, int helo_ok)
{
	struct buf text = BUF_INIT;
	const char *cmd = smtp_cfg.lmtp ? "LHLO" : "EHLO";

	send_line(ss, "%s %s", cmd, smtp_cfg.helo_name);
	if (get_reply(ss, smtp_cfg.helo_timeout_ms,
		      smtp_cfg.lmtp ? "performing the LHLO handshake"
				    : "performing the EHLO handshake") < 0)
		return -1;
	if (smtp_reply_class(&ss->r) == 2) {
		smtp_ehlo_parse(&ss->r, &ss->c->caps);
		return 0;
	}
	if (smtp_reply_class(&ss->r) == 5 && helo_ok && !smtp_cfg.lmtp) {
		memset(&ss->c->caps, 0, sizeof(ss->c->caps));
		send_line(ss, "HELO %s", smtp_cfg.helo_name);
		if (get_reply(ss, smtp_cfg.helo_timeout_ms,
			      "performing the HELO handshake") < 0)
			return -1;
		if (smtp_reply_class(&ss->r) == 2)
			return 0;
		said(ss, "HELO", &text);
	} else {
		said(ss, cmd, &text);
	}
	session_reply_fail(ss, buf_cstr(&text), ss->final);
	buf_free(&text);
	return -1;
}

static void
log_tls(struct sess *ss, const struct tls_info *info)
{
	struct buf b = BUF_INIT;
	char relay[SMTP_HOSTADDR_MAX];

	if (smtp_cfg.tls_loglevel < 1)
		return;
	smtp_target_relay(&ss->c->t, relay, sizeof(relay));
	tls_info_format(info, &b);
	/* Postfix's words: Verified (chain or TLSA records, and name),
	 * Trusted (chain good, name not checked or not ours), Untrusted,
	 * Anonymous (no certificate). */
	msg_info("%s TLS connection established to %s: %s",
		 info->verified	   ? "Verified"
		 : info->trusted   ? "Trusted"
		 : info->peer_cert ? "Untrusted"
				   : "Anonymous",
		 relay, buf_cstr(&b));
	if (info->peer_cert && smtp_cfg.tls_loglevel >= 2)
		msg_info("%s: peer certificate subject_CN=%s, issuer_CN=%s%s%s",
			 relay, info->peer_cn, info->issuer_cn,
			 info->verify_error[0] ? ", verification: " : "",
			 info->verify_error);
	buf_free(&b);
}

/* The TLS handshake on the connection (after STARTTLS, or at once in
 * wrapper mode).  0, -1 (reason noted), or 1: it failed at level may. */
static int
handshake(struct sess *ss, enum tls_level level)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct tls_info info;
	struct smtp_tls_opts opts;
	int rc = 0;

	stream_set_timeout(&ss->c->s, smtp_cfg.starttls_timeout_ms);
	if (smtp_tls_opts_make(ss->pol, &ss->c->t, level, &opts, &err) < 0 ||
	    tls_client_start_opts(smtp_cfg.tls, &ss->c->s, opts.peer, level,
				  &opts.o, &info, &err) < 0) {
		ss->c->broken = 1;
		buf_printf(&text, "Cannot start TLS with %s: %s", ss->name,
			   buf_cstr(&err));
		if (level >= TLS_LEVEL_VERIFY)
			buf_puts(&text, " (server certificate not verified)");
		smtp_add_reason(ss->req, "4.7.5", buf_cstr(&text));
		rc = level == TLS_LEVEL_MAY ? 1 : -1;
	} else {
		ss->c->tls_on = 1;
		log_tls(ss, &info);
	}
	smtp_tls_opts_free(&opts);
	buf_free(&text);
	buf_free(&err);
	return rc;
}

/* STARTTLS per the policy level.  0 (TLS on, or not wanted and not
 * required), -1 (reason noted), or 1: the handshake failed at level may,
 * so the caller connects again without TLS. */
static int
starttls(struct sess *ss, enum tls_level level)
{
	struct buf text = BUF_INIT;
	int rc = -1;

	if (level == TLS_LEVEL_NONE) {
		/* Postfix's smtp_tls_note_starttls_offer: who could have had
		 * TLS, for an administrator deciding where to turn it on. */
		if (smtp_cfg.tls_note_starttls_offer &&
		    ss->pol->level == TLS_LEVEL_NONE &&
		    (ss->c->caps.ext & SMTP_EXT_STARTTLS))
			msg_info("Host offered STARTTLS: [%s]", ss->c->t.host);
		return 0;
	}
	if (!(ss->c->caps.ext & SMTP_EXT_STARTTLS) || smtp_cfg.tls == NULL) {
		if (level == TLS_LEVEL_MAY)
			return 0;
		buf_printf(&text,
			   "TLS is required, but was not offered by "
			   "host %s",
			   ss->name);
		smtp_add_reason(ss->req, "4.7.4", buf_cstr(&text));
		goto out;
	}
	send_line(ss, "STARTTLS");
	if (get_reply(ss, smtp_cfg.starttls_timeout_ms, "sending STARTTLS") < 0)
		goto out;
	if (smtp_reply_class(&ss->r) != 2) {
		if (level == TLS_LEVEL_MAY) {
			rc = 0;
			goto out;
		}
		buf_printf(&text,
			   "TLS is required, but host %s refused to "
			   "start TLS: %s",
			   ss->name, buf_cstr(&ss->r.text));
		smtp_add_reason(ss->req, "4.7.4", buf_cstr(&text));
		goto out;
	}
	/* What a server sent before the handshake was not protected: it
	 * must not be read as if it came over TLS (CVE-2011-0411). */
	stream_discard_input(&ss->c->s);
	if ((rc = handshake(ss, level)) == 0)
		rc = ehlo(ss, 0);
out:
	buf_free(&text);
	return rc;
}

static int
auth(struct sess *ss)
{
	struct buf user = BUF_INIT, pass = BUF_INIT, text = BUF_INIT;
	char dsn[SMTP_DSN_SIZE];
	int rc = -1, found;

	if (!smtp_cfg.sasl_enable || smtp_cfg.sasl_passwords == NULL)
		return 0;
	found = smtp_auth_lookup(&ss->c->t, &user, &pass, &text);
	if (found < 0) {
		smtp_add_reason(ss->req, "4.3.0", buf_cstr(&text));
		goto out;
	}
	if (found == 0) {
		rc = 0;
		goto out;
	}
	if (!(ss->c->caps.ext & SMTP_EXT_AUTH)) {
		msg_info("host %s offered no AUTH; sending without it",
			 ss->name);
		rc = 0;
		goto out;
	}
	if (smtp_auth_run(&ss->c->s, &ss->c->caps, &ss->c->t, buf_cstr(&user),
			  buf_cstr(&pass), ss->c->tls_on,
			  smtp_cfg.helo_timeout_ms, dsn, &text) == 0) {
		rc = 0;
		goto out;
	}
	if (stream_error(&ss->c->s))
		ss->c->broken = 1;
	smtp_add_reason(ss->req, dsn, buf_cstr(&text));
out:
	if (pass.data != NULL)
		memset(pass.data, 0, pass.len);
	buf_free(&user);
	buf_free(&pass);
	buf_free(&text);
	return rc;
}

/* --- the transaction --------------------------------------------------- */

static int
has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static int
needs_smtputf8(const struct smtp_request *req)
{
	size_t i;

	if (!(req->flags & QUEUE_FLAG_SMTPUTF8))
		return 0;
	if (has_8bit(req->sender))
		return 1;
	for (i = 0; i < req->nrcpt; i++)
		if (req->rcpts[i].state != SMTP_RCPT_DONE &&
		    has_8bit(req->rcpts[i].address))
			return 1;
	return 0;
}

/* Appends an xtext parameter value: as queued when it is valid xtext
 * (smtpd keeps ENVID and ORCPT as sent), else encoded. */
static void
put_xtext(struct buf *b, const char *v)
{
	if (xtext_valid(v, strlen(v)))
		buf_puts(b, v);
	else
		xtext_encode(b, v, strlen(v));
}

static void
send_mail(struct sess *ss)
{
	const struct smtp_request *req = ss->req;
	unsigned ext = ss->c->caps.ext;
	struct buf b = BUF_INIT;

	buf_printf(&b, "MAIL FROM:<%s>", req->sender);
	if (ext & SMTP_EXT_SIZE)
		buf_printf(&b, " SIZE=%llu", (unsigned long long)req->size);
	if (ss->body.binary)
		buf_puts(&b, " BODY=BINARYMIME");
	else if (ss->body.eightbit)
		buf_puts(&b, " BODY=8BITMIME");
	if ((req->flags & QUEUE_FLAG_SMTPUTF8) && (ext & SMTP_EXT_SMTPUTF8))
		buf_puts(&b, " SMTPUTF8");
	if (ext & SMTP_EXT_DSN) {
		if (req->ret == QUEUE_RET_FULL)
			buf_puts(&b, " RET=FULL");
		else if (req->ret == QUEUE_RET_HDRS)
			buf_puts(&b, " RET=HDRS");
		if (req->envid[0] != '\0') {
			buf_puts(&b, " ENVID=");
			put_xtext(&b, req->envid);
		}
	}
	send_line(ss, "%s", buf_cstr(&b));
	buf_free(&b);
}

static void
send_rcpt(struct sess *ss, const struct smtp_rcpt *r)
{
	static const struct {
		unsigned bit;
		const char *name;
	} notify[] = {
	    {QUEUE_NOTIFY_SUCCESS, "SUCCESS"},
	    {QUEUE_NOTIFY_FAILURE, "FAILURE"},
	    {QUEUE_NOTIFY_DELAY, "DELAY"},
	};
	struct buf b = BUF_INIT;
	const char *semi;
	size_t i;
	int n = 0;

	buf_printf(&b, "RCPT TO:<%s>", r->address);
	if (ss->c->caps.ext & SMTP_EXT_DSN) {
		if (r->notify & QUEUE_NOTIFY_NEVER) {
			buf_puts(&b, " NOTIFY=NEVER");
		} else if (r->notify != 0) {
			buf_puts(&b, " NOTIFY=");
			for (i = 0; i < sizeof(notify) / sizeof(notify[0]); i++)
				if (r->notify & notify[i].bit)
					buf_printf(&b, "%s%s", n++ ? "," : "",
						   notify[i].name);
		}
		if (r->orcpt[0] != '\0' && (semi = strchr(r->orcpt, ';'))) {
			buf_puts(&b, " ORCPT=");
			buf_append(&b, r->orcpt, (size_t)(semi - r->orcpt + 1));
			put_xtext(&b, semi + 1);
		}
	}
	send_line(ss, "%s", buf_cstr(&b));
	buf_free(&b);
}

/* Accepted recipients of this session go back to undecided (the session
 * was lost before the message was taken). */
static void
unaccept(struct smtp_request *req)
{
	size_t i;

	for (i = 0; i < req->nrcpt; i++)
		if (req->rcpts[i].state == SMTP_RCPT_ACCEPTED)
			req->rcpts[i].state = SMTP_RCPT_TODO;
}

static void
accepted_result(struct sess *ss, const char *cmd)
{
	struct buf text = BUF_INIT;
	char dsn[SMTP_REPLY_DSN_MAX];
	int cls = smtp_reply_class(&ss->r);
	size_t i;

	if (cls == 2)
		buf_set(&text, buf_cstr(&ss->r.text));
	else
		said(ss, cmd, &text);
	smtp_reply_dsn(&ss->r, dsn, sizeof(dsn));
	for (i = 0; i < ss->req->nrcpt; i++) {
		struct smtp_rcpt *r = &ss->req->rcpts[i];

		if (r->state != SMTP_RCPT_ACCEPTED)
			continue;
		r->state = SMTP_RCPT_TODO;
		smtp_rcpt_result(ss->req, r,
				 cls == 5   ? 5
				 : cls == 2 ? 2
					    : 4,
				 dsn, buf_cstr(&text), &ss->c->t, ss->final);
	}
	buf_free(&text);
}

/* BDAT: one chunk and its reply (smtp_sink). */
static int
bdat_chunk(void *ctx, const char *p, size_t len, int last)
{
	struct sess *ss = ctx;

	stream_printf(&ss->c->s, "BDAT %zu%s\r\n", len, last ? " LAST" : "");
	stream_write(&ss->c->s, p, len);
	if (get_reply(ss,
		      last ? smtp_cfg.data_done_timeout_ms
			   : smtp_cfg.data_xfer_timeout_ms,
		      last ? "sending end of data -- message may be sent "
			     "more than once"
			   : "sending message body") < 0)
		return -1;
	return smtp_reply_class(&ss->r) == 2 ? 0 : 1;
}

/* LMTP (RFC 2033): after the final dot one reply per accepted recipient,
 * in the order of their RCPTs, each deciding its recipient alone.  When
 * the connection fails part way, the recipients already answered keep
 * their result and the others go back to undecided (deferred, or tried
 * on the next server).  The same holds after BDAT ... LAST (RFC 3030 over
 * LMTP): a chunked transfer must end here too, not in one reply. */
static int
lmtp_results(struct sess *ss)
{
	struct buf text = BUF_INIT;
	char dsn[SMTP_REPLY_DSN_MAX];
	size_t i;
	int cls, rc = 0;

	for (i = 0; i < ss->req->nrcpt; i++) {
		struct smtp_rcpt *r = &ss->req->rcpts[i];

		if (r->state != SMTP_RCPT_ACCEPTED)
			continue;
		if (get_reply(ss, smtp_cfg.data_done_timeout_ms,
			      "sending end of data -- message may be sent "
			      "more than once") < 0) {
			unaccept(ss->req);
			rc = -1;
			break;
		}
		cls = smtp_reply_class(&ss->r);
		if (cls == 2)
			buf_set(&text, buf_cstr(&ss->r.text));
		else
			said(ss, "end of DATA", &text);
		r->state = SMTP_RCPT_TODO;
		smtp_rcpt_result(ss->req, r,
				 cls == 5   ? 5
				 : cls == 2 ? 2
					    : 4,
				 smtp_reply_dsn(&ss->r, dsn, sizeof(dsn)),
				 buf_cstr(&text), &ss->c->t, ss->final);
	}
	buf_free(&text);
	return rc;
}

/* The content after a 354 (or as BDAT chunks), then the final reply (one
 * per recipient as lmtp). */
static int
send_data(struct sess *ss)
{
	struct smtp_sink sink = {&ss->c->s, NULL, NULL};
	int rc;

	if (ss->bdat) {
		sink.chunk = bdat_chunk;
		sink.ctx = ss;
	}
	stream_set_timeout(&ss->c->s, smtp_cfg.data_xfer_timeout_ms);
	rc = smtp_content_send(smtp_cfg.queue, ss->req->queue_id, ss->req->size,
			       &ss->body, &sink);
	if (rc == -3) {
		/* A refused chunk: its reply decides (RFC 3030 2). */
		accepted_result(ss, "BDAT");
		return 0;
	}
	if (rc == -1 && ss->bdat && ss->c->broken) {
		/* get_reply() gave the reason. */
		unaccept(ss->req);
		return -1;
	}
	if (rc == -2) {
		/* Never end DATA on a message we could not read whole. */
		ss->c->broken = 1;
		unaccept(ss->req);
		smtp_add_reason(ss->req, "4.3.0",
				"error reading the message from the queue");
		return -1;
	}
	if (rc < 0) {
		unaccept(ss->req);
		sess_lost(ss, "sending message body", stream_error(&ss->c->s));
		return -1;
	}
	if (ss->bdat) {
		/* The LAST chunk's reply, read by bdat_chunk(). */
		accepted_result(ss, "end of BDAT");
		return 0;
	}
	if (smtp_cfg.lmtp)
		return lmtp_results(ss);
	if (get_reply(ss, smtp_cfg.data_done_timeout_ms,
		      "sending end of data -- message may be sent more than "
		      "once") < 0) {
		unaccept(ss->req);
		return -1;
	}
	accepted_result(ss, "end of DATA");
	return 0;
}

static int
mail_reply(struct sess *ss, int *mail_ok)
{
	struct buf text = BUF_INIT;

	if (get_reply(ss, smtp_cfg.mail_timeout_ms, "sending MAIL FROM") < 0)
		return -1;
	*mail_ok = smtp_reply_class(&ss->r) == 2;
	if (!*mail_ok) {
		said(ss, "MAIL FROM", &text);
		session_reply_fail(ss, buf_cstr(&text), 1);
	}
	buf_free(&text);
	return 0;
}

/* The reply to r's RCPT (ignored after a failed MAIL FROM). */
static int
rcpt_reply(struct sess *ss, struct smtp_rcpt *r, int mail_ok, int *accepted)
{
	struct buf text = BUF_INIT;
	char dsn[SMTP_REPLY_DSN_MAX];
	int cls;

	if (get_reply(ss, smtp_cfg.rcpt_timeout_ms, "sending RCPT TO") < 0)
		return -1;
	if (!mail_ok)
		return 0;
	cls = smtp_reply_class(&ss->r);
	if (cls == 2) {
		r->state = SMTP_RCPT_ACCEPTED;
		(*accepted)++;
		return 0;
	}
	said(ss, "RCPT TO", &text);
	smtp_rcpt_result(ss->req, r, cls == 5 ? 5 : 4,
			 smtp_reply_dsn(&ss->r, dsn, sizeof(dsn)),
			 buf_cstr(&text), &ss->c->t, ss->final);
	buf_free(&text);
	return 0;
}

/* MAIL, RCPTs and DATA: in one write with PIPELINING, else in lock step.
 * 0 when the dialogue is still in step, -1 when the session is over. */
static int
envelope(struct sess *ss, int *accepted)
{
	int pipelining = (ss->c->caps.ext & SMTP_EXT_PIPELINING) != 0;
	size_t *todo, n = 0, i;
	int mail_ok = 0, rc = -1;

	todo = xreallocarray(NULL, ss->req->nrcpt, sizeof(*todo));
	for (i = 0; i < ss->req->nrcpt; i++)
		if (ss->req->rcpts[i].state == SMTP_RCPT_TODO)
			todo[n++] = i;
	send_mail(ss);
	if (pipelining) {
		for (i = 0; i < n; i++)
			send_rcpt(ss, &ss->req->rcpts[todo[i]]);
		if (!ss->bdat)
			send_line(ss, "DATA");
	}
	if (mail_reply(ss, &mail_ok) < 0)
		goto out;
	for (i = 0; i < n && (pipelining || mail_ok); i++) {
		if (!pipelining)
			send_rcpt(ss, &ss->req->rcpts[todo[i]]);
		if (rcpt_reply(ss, &ss->req->rcpts[todo[i]], mail_ok,
			       accepted) < 0)
			goto out;
	}
	if (ss->bdat) {
		/* No DATA: the content follows as BDAT chunks. */
		rc = mail_ok ? 0 : -1;
		goto out;
	}
	if (!pipelining) {
		if (*accepted == 0) {
			rc = mail_ok ? 0 : -1;
			goto out;
		}
		send_line(ss, "DATA");
	}
	if (get_reply(ss, smtp_cfg.data_init_timeout_ms,
		      "sending DATA command") < 0)
		goto out;
	if (!mail_ok && smtp_reply_class(&ss->r) == 3)
		ss->c->broken = 1; /* in DATA mode: QUIT would be content */
	rc = mail_ok ? 0 : -1;
out:
	if (rc < 0)
		unaccept(ss->req);
	xfree(todo);
	return rc;
}

/* Returns 0 when the session ended in step (the connection may be reused),
 * -1 otherwise. */
static int
transaction(struct sess *ss)
{
	int accepted = 0;

	if (envelope(ss, &accepted) < 0)
		return -1;
	if (ss->bdat)
		return accepted == 0 ? 0 : send_data(ss);
	if (accepted == 0) {
		if (smtp_reply_class(&ss->r) == 3) {
			/* A 354 with nothing accepted: never end DATA. */
			ss->c->broken = 1;
			return -1;
		}
		return 0;
	}
	if (smtp_reply_class(&ss->r) == 3)
		return send_data(ss);
	accepted_result(ss, "DATA");
	return 0;
}

/* --- the session -------------------------------------------------------- */

/* The content for this server (smtp_body.c): it may bounce. */
static void
body_check(struct sess *ss)
{
	struct buf why = BUF_INIT;
	char dsn[SMTP_DSN_SIZE];
	int rc;

	rc = smtp_body_prepare(ss->req, ss->c->caps.ext, ss->name, &ss->body,
			       dsn, &why);
	if (rc > 0)
		smtp_all_result(ss->req, DELIVER_CLASS_BOUNCE, dsn,
				buf_cstr(&why), &ss->c->t, 1);
	else if (rc < 0)
		smtp_all_result(ss->req, DELIVER_CLASS_DEFER, "4.3.0",
				"error reading the message from the queue",
				&ss->c->t, 1);
	/* Not over LMTP: its BDAT LAST takes one reply per recipient
	 * (RFC 2033 4.2), which only the DATA path reads (lmtp_results). */
	ss->bdat = !smtp_cfg.lmtp && (ss->c->caps.ext & SMTP_EXT_CHUNKING) != 0;
	buf_free(&why);
}

/* Checks that can bounce before anything is sent: SIZE, SMTPUTF8, and
 * the content's form.
 * 0 to go on, -1 when every recipient was decided. */
static int
precheck(struct sess *ss)
{
	const struct smtp_caps *caps = &ss->c->caps;
	struct buf text = BUF_INIT;

	if ((caps->ext & SMTP_EXT_SIZE) && caps->size_limit > 0 &&
	    ss->req->size > caps->size_limit) {
		buf_printf(&text,
			   "message size %llu exceeds size limit %llu of "
			   "server %s",
			   (unsigned long long)ss->req->size,
			   (unsigned long long)caps->size_limit, ss->name);
		smtp_all_result(ss->req, DELIVER_CLASS_BOUNCE, "5.3.4",
				buf_cstr(&text), &ss->c->t, 1);
	} else if (needs_smtputf8(ss->req) &&
		   !(caps->ext & SMTP_EXT_SMTPUTF8)) {
		buf_printf(&text,
			   "SMTPUTF8 is required, but was not offered by "
			   "host %s",
			   ss->name);
		smtp_all_result(ss->req, DELIVER_CLASS_BOUNCE, "5.6.7",
				buf_cstr(&text), &ss->c->t, 1);
	} else {
		body_check(ss);
	}
	buf_free(&text);
	return smtp_pending(ss->req) > 0 ? 0 : -1;
}

/* Greeting to AUTH.  0, -1 (reason noted), 1 (again without TLS). */
static int
setup(struct sess *ss, int use_tls)
{
	enum tls_level level = use_tls ? ss->pol->level : TLS_LEVEL_NONE;
	int rc;

	if (smtp_cfg.tls_wrappermode) {
		/* SMTPS: TLS before the greeting, never plaintext (a policy
		 * level below encrypt counts as encrypt). */
		if (level < TLS_LEVEL_ENCRYPT)
			level = TLS_LEVEL_ENCRYPT;
		if (handshake(ss, level) < 0 || greeting(ss) < 0 ||
		    ehlo(ss, 1) < 0)
			return -1;
		return auth(ss);
	}
	if (greeting(ss) < 0 || ehlo(ss, 1) < 0)
		return -1;
	if ((rc = starttls(ss, level)) != 0)
		return rc;
	return auth(ss);
}

enum smtp_sess_result
smtp_session(struct smtp_request *req, struct smtp_conn *c,
	     const struct smtp_tls_policy *pol, int reused, int use_tls,
	     int final, int *keep)
{
	struct sess ss;
	enum smtp_sess_result res = SMTP_SESS_NEXT;
	int rc;

	*keep = 0;
	memset(&ss, 0, sizeof(ss));
	ss.req = req;
	ss.c = c;
	ss.pol = pol;
	ss.final = final;
	smtp_reply_init(&ss.r);
	smtp_target_name(&c->t, ss.name, sizeof(ss.name));
	if (!reused && (rc = setup(&ss, use_tls)) != 0) {
		res = rc > 0 ? SMTP_SESS_PLAINTEXT : SMTP_SESS_NEXT;
		goto out;
	}
	req->t_conn = smtp_now();
	if (precheck(&ss) < 0) {
		res = SMTP_SESS_DONE;
		goto out;
	}
	if (transaction(&ss) == 0) {
		res = SMTP_SESS_DONE;
		*keep = smtp_cfg.cache_time_limit > 0 && !c->broken &&
			stream_error(&c->s) == 0;
	}
out:
	smtp_body_free(&ss.body);
	smtp_reply_free(&ss.r);
	buf_free(&ss.line);
	return res;
}

void
smtp_conn_close(struct smtp_conn *c, int quit)
{
	struct buf line = BUF_INIT;
	struct smtp_reply r;
	int st, fed = SMTP_REPLY_MORE;

	if (quit && !c->broken && stream_error(&c->s) == 0) {
		stream_puts(&c->s, "QUIT\r\n");
		stream_set_timeout(&c->s, smtp_cfg.quit_timeout_ms);
		if (stream_flush(&c->s) == 0) {
			smtp_reply_init(&r);
			while (fed == SMTP_REPLY_MORE) {
				st = stream_getline(&c->s, &line,
						    SMTP_REPLY_LINE_MAX);
				if (st <= 0)
					break;
				fed = smtp_reply_feed(&r, line.data, line.len);
			}
			smtp_reply_free(&r);
		}
	}
	tls_stop(&c->s, quit && !c->broken);
	stream_free(&c->s);
	close(c->fd);
	c->fd = -1;
	buf_free(&line);
}

int
smtp_session_rset(struct smtp_conn *c)
{
	struct buf line = BUF_INIT;
	struct smtp_reply r;
	int st, fed = SMTP_REPLY_MORE;

	stream_puts(&c->s, "RSET\r\n");
	stream_set_timeout(&c->s, smtp_cfg.mail_timeout_ms);
	if (stream_flush(&c->s) < 0) {
		c->broken = 1;
		buf_free(&line);
		return -1;
	}
	smtp_reply_init(&r);
	while (fed == SMTP_REPLY_MORE) {
		st = stream_getline(&c->s, &line, SMTP_REPLY_LINE_MAX);
		if (st <= 0) {
			c->broken = 1;
			break;
		}
		fed = smtp_reply_feed(&r, line.data, line.len);
	}
	st = fed == SMTP_REPLY_DONE && smtp_reply_class(&r) == 2 ? 0 : -1;
	smtp_reply_free(&r);
	buf_free(&line);
	return st;
}
