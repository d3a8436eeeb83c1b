/*
 * pipe_message - the message on a pipe command's standard input; see
 * pipe.h.  The queue holds CRLF lines; each line goes out with eol=
 * (Postfix's record delimiter), a bare CR stays as it is.
 */
#include <string.h>
#include <time.h>

#include "mbox.h"
#include "pipe.h"

void
pipe_message(const struct pipe_attrs *a, const char *sender,
	     const struct pipe_rcpt *rcpt, const char *content, size_t len,
	     struct buf *out)
{
	const char *shown = *sender ? sender : a->null_sender;
	const char *p = content, *end = content + len, *nl;
	struct buf from = BUF_INIT;

	if (a->flags & PIPE_FLAG_F) {
		/* mbox_from_line writes MAILER-DAEMON for "", and ends in
		 * "\n", which becomes eol. */
		mbox_from_line(&from, shown, time(NULL));
		buf_append(out, from.data, from.len - 1);
		buf_puts(out, a->eol);
	}
	if (a->flags & PIPE_FLAG_R)
		buf_printf(out, "Return-Path: <%s>%s", shown, a->eol);
	if (rcpt && (a->flags & PIPE_FLAG_O))
		buf_printf(out, "X-Original-To: %s%s",
			   *rcpt->orig ? rcpt->orig : rcpt->address, a->eol);
	if (rcpt && (a->flags & PIPE_FLAG_D))
		buf_printf(out, "Delivered-To: %s%s", rcpt->address, a->eol);
	while (p < end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r' && nl)
			n--;
		if ((a->flags & PIPE_FLAG_DOT) && n > 0 && p[0] == '.')
			buf_putc(out, '.');
		if ((a->flags & PIPE_FLAG_FROM) && n >= 5 &&
		    memcmp(p, "From ", 5) == 0)
			buf_putc(out, '>');
		buf_append(out, p, n);
		buf_puts(out, a->eol);
		p = nl ? nl + 1 : end;
	}
	if (a->flags & PIPE_FLAG_B)
		buf_puts(out, a->eol);
	buf_free(&from);
}
