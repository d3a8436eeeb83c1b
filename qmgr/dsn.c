/*
 * dsn - RFC 3464 delivery status notifications; see dsn.h.
 *
 * Everything before the returned original is built in one buffer (it is
 * small: bounded texts times the recipients reported), then the original
 * is copied chunk by chunk from the reader to the writer.
 */
#include <stdio.h>
#include <string.h>

#include "dsn.h"
#include "xtext.h"

#define DSN_WRAP 76
#define DSN_RET_HDRS 2 /* QUEUE_RET_HDRS, without the queue's header */

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed",
				   "Thu", "Fri", "Sat"};
static const char *const month[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void
dsn_date(time_t t, struct buf *out)
{
	struct tm tm;
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
		   wday[tm.tm_wday % 7], tm.tm_mday, month[tm.tm_mon % 12],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		   off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
		   (off < 0 ? -off : off) % 60);
}

int
dsn_status_valid(const char *s)
{
	size_t n;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	s += 2;
	for (int part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return 0;
		s += n;
		if (part == 0 && *s++ != '.')
			return 0;
	}
	return *s == '\0';
}

/* Appends at most DSN_TEXT_MAX bytes of s with unsafe octets as '?'. */
static void
put_safe(struct buf *out, const char *s, size_t len)
{
	if (len > DSN_TEXT_MAX)
		len = DSN_TEXT_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_putc(out, c < ' ' || c >= 0x7f ? '?' : c);
	}
}

static void
put_safe_str(struct buf *out, const char *s)
{
	put_safe(out, s ? s : "", s ? strlen(s) : 0);
}

/* The xtext value s decoded and made safe; s itself when not xtext. */
static void
put_xtext(struct buf *out, const char *s)
{
	struct buf dec = BUF_INIT;

	if (xtext_decode(&dec, s, strlen(s)) == 0)
		put_safe(out, dec.data ? dec.data : "", dec.len);
	else
		put_safe_str(out, s);
	buf_free(&dec);
}

void
dsn_diagnostic(const char *text, struct buf *out)
{
	const char *said = text ? strstr(text, " said: ") : NULL;
	const char *end;

	if (said == NULL) {
		buf_puts(out, "X-Panacea; ");
		put_safe_str(out, text);
		return;
	}
	said += strlen(" said: ");
	end = strstr(said, " (in reply to ");
	if (end == NULL)
		end = said + strlen(said);
	buf_puts(out, "smtp; ");
	put_safe(out, said, (size_t)(end - said));
}

static const char *
generic_status(enum dsn_action a)
{
	switch (a) {
	case DSN_ACTION_DELIVERED:
		return "2.0.0";
	case DSN_ACTION_DELAYED:
		return "4.0.0";
	default:
		return "5.0.0";
	}
}

static const char *
action_name(enum dsn_action a)
{
	switch (a) {
	case DSN_ACTION_DELIVERED:
		return "delivered";
	case DSN_ACTION_DELAYED:
		return "delayed";
	default:
		return "failed";
	}
}

static const char *
subject(enum dsn_kind k)
{
	switch (k) {
	case DSN_KIND_DELAY:
		return "Delayed Mail (still being retried)";
	case DSN_KIND_SUCCESS:
		return "Successful Mail Delivery Report";
	case DSN_KIND_POSTMASTER:
		return "Postmaster Copy: Undelivered Mail";
	default:
		return "Undelivered Mail Returned to Sender";
	}
}

/* Headers only for delay and success notices, per RET, or when large. */
static int
return_headers_only(const struct dsn_msg *m)
{
	if (m->kind == DSN_KIND_DELAY || m->kind == DSN_KIND_SUCCESS)
		return 1;
	return m->ret == DSN_RET_HDRS ||
	       (m->return_limit > 0 && m->size > m->return_limit);
}

static void
put_headers(struct buf *o, const struct dsn_msg *m, const char *boundary)
{
	buf_printf(o, "From: MAILER-DAEMON@%s (Mail Delivery System)\r\n",
		   m->myhostname);
	buf_printf(o, "Subject: %s\r\n", subject(m->kind));
	buf_puts(o, "To: ");
	put_safe_str(o, m->to);
	buf_puts(o,
		 "\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	buf_printf(o,
		   "Content-Type: multipart/report; "
		   "report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n",
		   boundary);
	if (m->eightbit && !return_headers_only(m))
		buf_puts(o, "Content-Transfer-Encoding: 8bit\r\n");
	buf_printf(o, "Message-Id: <%lld.%s@%s>\r\nDate: ", (long long)m->now,
		   m->new_id, m->myhostname);
	dsn_date(m->now, o);
	buf_puts(o, "\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n");
}

static void
put_intro(struct buf *o, const struct dsn_msg *m)
{
	buf_printf(o, "This is the mail system at host %s.\r\n\r\n",
		   m->myhostname);
	switch (m->kind) {
	case DSN_KIND_DELAY:
		buf_puts(o, "################################################"
			    "####################\r\n"
			    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO "
			    "RESEND YOUR MESSAGE. #\r\n"
			    "################################################"
			    "####################\r\n\r\n");
		buf_printf(o,
			   "Your message could not be delivered for more than "
			   "%lld hour(s).\r\nIt will be retried until it is "
			   "%lld day(s) old.\r\n\r\n",
			   (long long)((m->now - m->arrival) / 3600),
			   (long long)((m->lifetime + 43200) / 86400));
		break;
	case DSN_KIND_SUCCESS:
		buf_puts(o, "Your message was successfully delivered to the "
			    "destination(s)\r\nlisted below. If the message "
			    "was delivered to mailbox you will\r\nreceive no "
			    "further notifications. Otherwise you may still "
			    "receive\r\nnotifications of mail delivery errors "
			    "from other systems.\r\n\r\n");
		break;
	case DSN_KIND_POSTMASTER:
		buf_puts(o, "Enclosed is a delivery status notification that "
			    "could not be\r\ndelivered to its recipient. It "
			    "will not be tried again.\r\n\r\n");
		break;
	default:
		buf_puts(o, "I'm sorry to have to inform you that your message "
			    "could not\r\nbe delivered to one or more "
			    "recipients. It's attached below.\r\n\r\n");
		break;
	}
	if (m->kind != DSN_KIND_SUCCESS)
		buf_puts(o, "For further assistance, please send mail to "
			    "postmaster.\r\n\r\nIf you do so, please include "
			    "this problem report. You can\r\ndelete your own "
			    "text from the attached returned message.\r\n\r\n");
	buf_puts(o, "                   The mail system\r\n");
}

/* Appends text word-wrapped at DSN_WRAP columns, continuation lines
 * indented, each line CRLF-terminated. */
static void
put_wrapped(struct buf *o, const char *text)
{
	size_t col = 0, len;
	const char *p = text, *sp;

	while (*p) {
		sp = strchr(p, ' ');
		len = sp ? (size_t)(sp - p) : strlen(p);
		if (col > 4 && col + 1 + len > DSN_WRAP) {
			buf_puts(o, "\r\n    ");
			col = 4;
		} else if (p != text) {
			buf_putc(o, ' ');
			col++;
		}
		buf_append(o, p, len);
		col += len;
		p += len;
		while (*p == ' ')
			p++;
	}
	buf_puts(o, "\r\n");
}

static void
put_notification(struct buf *o, const struct dsn_msg *m,
		 const struct dsn_rcpt *r, size_t n, const char *boundary)
{
	struct buf line = BUF_INIT;

	buf_printf(o,
		   "--%s\r\nContent-Description: Notification\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
		   boundary);
	put_intro(o, m);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&line);
		buf_putc(&line, '<');
		put_safe_str(&line, r[i].address);
		buf_puts(&line, ">: ");
		if (r[i].text && *r[i].text)
			put_safe_str(&line, r[i].text);
		else
			buf_puts(&line, action_name(r[i].action));
		buf_puts(o, "\r\n");
		put_wrapped(o, buf_cstr(&line));
	}
	buf_puts(o, "\r\n");
	buf_free(&line);
}

/* A header field folded at spaces before DSN_WRAP columns where it can
 * be (RFC 5322 section 2.2.3), CRLF-terminated. */
static void
put_folded(struct buf *o, const char *field)
{
	const char *p = field, *brk;
	size_t col = 0;

	while (strlen(p) + col > DSN_WRAP) {
		brk = NULL;
		for (const char *q = p + 1;
		     *q && (size_t)(q - p) + col <= DSN_WRAP; q++)
			if (*q == ' ')
				brk = q;
		if (brk == NULL)
			break;
		buf_append(o, p, (size_t)(brk - p));
		buf_puts(o, "\r\n");
		p = brk; /* the space starts the continuation line */
		col = 0;
	}
	buf_puts(o, p);
	buf_puts(o, "\r\n");
}

/* "rfc822;xtext" as "rfc822; decoded". */
static void
put_orcpt(struct buf *o, const char *orcpt)
{
	const char *semi = strchr(orcpt, ';');

	buf_puts(o, "Original-Recipient: ");
	if (semi == NULL) {
		buf_puts(o, "rfc822; ");
		put_xtext(o, orcpt);
	} else {
		put_safe(o, orcpt, (size_t)(semi - orcpt));
		buf_puts(o, "; ");
		put_xtext(o, semi + 1);
	}
	buf_puts(o, "\r\n");
}

/* Remote-MTA names a host: "mx.example.org[192.0.2.1]:25" gives
 * "mx.example.org". */
static void
put_remote_mta(struct buf *o, const char *mta)
{
	size_t len = strcspn(mta, "[");

	if (len == 0)
		len = strlen(mta);
	buf_puts(o, "Remote-MTA: dns; ");
	put_safe(o, mta, len);
	buf_puts(o, "\r\n");
}

static void
put_rcpt_report(struct buf *o, const struct dsn_msg *m,
		const struct dsn_rcpt *r)
{
	const char *status =
	    dsn_status_valid(r->status) ? r->status : generic_status(r->action);

	buf_puts(o, "\r\nFinal-Recipient: rfc822; ");
	put_safe_str(o, r->address);
	buf_puts(o, "\r\n");
	if (r->orcpt && *r->orcpt)
		put_orcpt(o, r->orcpt);
	buf_printf(o, "Action: %s\r\nStatus: %s\r\n", action_name(r->action),
		   status);
	if (r->remote_mta && *r->remote_mta)
		put_remote_mta(o, r->remote_mta);
	if (r->text && *r->text) {
		struct buf field = BUF_INIT;

		buf_puts(&field, "Diagnostic-Code: ");
		dsn_diagnostic(r->text, &field);
		put_folded(o, buf_cstr(&field));
		buf_free(&field);
	}
	if (r->action != DSN_ACTION_DELIVERED) {
		buf_puts(o, "Last-Attempt-Date: ");
		dsn_date(m->now, o);
		buf_puts(o, "\r\n");
	}
	if (r->action == DSN_ACTION_DELAYED) {
		buf_puts(o, "Will-Retry-Until: ");
		dsn_date(m->arrival + (time_t)m->lifetime, o);
		buf_puts(o, "\r\n");
	}
}

static void
put_report(struct buf *o, const struct dsn_msg *m, const struct dsn_rcpt *r,
	   size_t n, const char *boundary)
{
	buf_printf(o,
		   "--%s\r\nContent-Description: Delivery report\r\n"
		   "Content-Type: message/delivery-status\r\n\r\n"
		   "Reporting-MTA: dns; %s\r\nX-Panacea-Queue-ID: %s\r\n"
		   "X-Panacea-Sender: rfc822; ",
		   boundary, m->myhostname, m->queue_id);
	put_safe_str(o, m->sender);
	buf_puts(o, "\r\nArrival-Date: ");
	dsn_date(m->arrival, o);
	buf_puts(o, "\r\n");
	if (m->envid && *m->envid) {
		buf_puts(o, "Original-Envelope-Id: ");
		put_xtext(o, m->envid);
		buf_puts(o, "\r\n");
	}
	for (size_t i = 0; i < n; i++)
		put_rcpt_report(o, m, &r[i]);
	buf_puts(o, "\r\n");
}

/* Copies the original's header section (through its empty line), or
 * everything; a missing final line end is added.  0 or -1. */
static int
copy_original(dsn_read_fn rd, void *rctx, dsn_write_fn wr, void *wctx,
	      int headers_only)
{
	struct buf chunk = BUF_INIT;
	int at_bol = 1, cr_bol = 0, done = 0, rc, last = '\n';

	while (!done && (rc = rd(rctx, &chunk)) > 0) {
		size_t len = chunk.len;

		for (size_t i = 0; headers_only && i < chunk.len; i++) {
			char c = chunk.data[i];

			if ((at_bol && c == '\n') || (cr_bol && c == '\n')) {
				len = i + 1;
				done = 1;
				break;
			}
			cr_bol = at_bol && c == '\r';
			at_bol = c == '\n';
		}
		if (len > 0) {
			if (wr(wctx, chunk.data, len) < 0)
				goto fail;
			last = chunk.data[len - 1];
		}
	}
	if (!done && rc < 0)
		goto fail;
	buf_free(&chunk);
	if (last != '\n')
		return wr(wctx, "\r\n", 2);
	return 0;
fail:
	buf_free(&chunk);
	return -1;
}

int
dsn_compose(const struct dsn_msg *m, const struct dsn_rcpt *rcpts, size_t n,
	    dsn_read_fn rd, void *rctx, dsn_write_fn wr, void *wctx)
{
	struct buf o = BUF_INIT, boundary = BUF_INIT;
	int hdrs = return_headers_only(m), rc;

	buf_printf(&boundary, "%s.%lld/%s", m->new_id, (long long)m->now,
		   m->myhostname);
	put_headers(&o, m, buf_cstr(&boundary));
	put_notification(&o, m, rcpts, n, buf_cstr(&boundary));
	put_report(&o, m, rcpts, n, buf_cstr(&boundary));
	buf_printf(&o, "--%s\r\nContent-Description: %s\r\n", boundary.data,
		   hdrs ? "Undelivered Message Headers"
			: "Undelivered Message");
	buf_printf(&o, "Content-Type: %s\r\n",
		   hdrs ? "text/rfc822-headers" : "message/rfc822");
	if (m->eightbit && !hdrs)
		buf_puts(&o, "Content-Transfer-Encoding: 8bit\r\n");
	buf_puts(&o, "\r\n");
	rc = wr(wctx, o.data, o.len);
	if (rc == 0)
		rc = copy_original(rd, rctx, wr, wctx, hdrs);
	if (rc == 0) {
		buf_reset(&o);
		buf_printf(&o, "\r\n--%s--\r\n", boundary.data);
		rc = wr(wctx, o.data, o.len);
	}
	buf_free(&o);
	buf_free(&boundary);
	return rc < 0 ? -1 : 0;
}
