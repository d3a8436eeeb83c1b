/*
 * smtp_content - the queued message as SMTP DATA.
 *
 * The content is read from the queue chunk by chunk (no lock held between
 * chunks) and written to the stream with:
 *  - every line ending as CRLF: a bare LF, a bare CR, and CR LF all end a
 *    line, so whatever a stored message holds, the receiver sees only
 *    CRLF line endings.  Panacea can therefore never be the sending half
 *    of an SMTP smuggling attack ("<LF>.<CR><LF>" and friends in the body
 *    become an ordinary line holding "." followed by stuffing: see next);
 *  - dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets one
 *    more;
 *  - an unterminated last line completed with CRLF, then ".\r\n";
 *  - only a message read whole, of the size the envelope says, is ended
 *    with "."; otherwise the caller drops the connection in DATA, so the
 *    server discards what it got.
 * The state (at the start of a line, after a CR) carries across chunk
 * boundaries, so a CR LF split between two chunks is one line ending.
 *
 * With smtp_header_checks, smtp_mime_header_checks,
 * smtp_nested_header_checks or smtp_body_checks set, the content goes
 * through lib/hbc on its way to the encoder, with the actions Postfix's
 * smtp client has (WARN, INFO, IGNORE, STRIP, PREPEND, REPLACE, DUNNO):
 * the others are logged as unsupported and the line is kept.  A table
 * that fails to answer defers the delivery (-2).
 */
#include <string.h>

#include "hbc.h"
#include "msg.h"
#include "smtp.h"

static struct hbc_config hbc_cfg;

void
smtp_content_init(void)
{
	static const char *const names[HBC_CLASSES] = {
	    [HBC_HEADER] = "smtp_header_checks",
	    [HBC_MIME] = "smtp_mime_header_checks",
	    [HBC_NESTED] = "smtp_nested_header_checks",
	    [HBC_BODY] = "smtp_body_checks",
	};
	const char *const lists[HBC_CLASSES] = {
	    [HBC_HEADER] = smtp_cfg.header_checks,
	    [HBC_MIME] = smtp_cfg.mime_header_checks,
	    [HBC_NESTED] = smtp_cfg.nested_header_checks,
	    [HBC_BODY] = smtp_cfg.body_checks,
	};

	struct buf err = BUF_INIT;

	if (hbc_open(&hbc_cfg, names, lists, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	hbc_cfg.body_size_limit = (uint64_t)smtp_cfg.body_checks_size_limit;
	hbc_cfg.line_limit = (size_t)smtp_cfg.line_limit;
	hbc_cfg.header_limit = (size_t)smtp_cfg.header_limit;
	hbc_cfg.boundary_limit = (size_t)smtp_cfg.mime_boundary_limit;
	hbc_cfg.nesting_limit = (unsigned)smtp_cfg.mime_nesting_limit;
	hbc_cfg.actions = HBC_SMTP_ACTIONS;
	hbc_cfg.log_line_max = 60;
}

struct encoder {
	int bol; /* at the beginning of a line */
	int pending_cr;
};

/* Writes data with the rules above; runs of ordinary bytes go out in one
 * stream_write(). */
static void
encode(struct encoder *e, struct stream *s, const char *data, size_t len)
{
	size_t i = 0, run;

	while (i < len) {
		char c = data[i];

		if (e->pending_cr) {
			e->pending_cr = 0;
			stream_write(s, "\r\n", 2);
			e->bol = 1;
			if (c == '\n') {
				i++;
				continue;
			}
		}
		if (c == '\r') {
			e->pending_cr = 1;
			i++;
			continue;
		}
		if (c == '\n') {
			stream_write(s, "\r\n", 2);
			e->bol = 1;
			i++;
			continue;
		}
		if (e->bol && c == '.')
			stream_write(s, ".", 1);
		e->bol = 0;
		for (run = i;
		     run < len && data[run] != '\r' && data[run] != '\n'; run++)
			;
		stream_write(s, data + i, run - i);
		i = run;
	}
}

int
smtp_content_send(struct queue *q, const char *queue_id, uint64_t size,
		  struct stream *s)
{
	uint64_t total = 0;
	struct queue_content *r = queue_content_open(q, queue_id);
	struct encoder e = {1, 0};
	struct buf chunk = BUF_INIT, checked = BUF_INIT;
	struct hbc *h = NULL;
	int rc;

	if (hbc_wanted(&hbc_cfg))
		h = hbc_new(&hbc_cfg, queue_id, "");
	while ((rc = queue_content_read(r, &chunk)) == 1) {
		total += chunk.len;
		if (h) {
			buf_reset(&checked);
			hbc_feed(h, chunk.data, chunk.len, &checked);
			encode(&e, s, checked.data, checked.len);
		} else {
			encode(&e, s, chunk.data, chunk.len);
		}
		if (stream_error(s))
			break;
	}
	queue_content_close(r);
	buf_free(&chunk);
	if (h) {
		buf_reset(&checked);
		hbc_finish(h, &checked);
		encode(&e, s, checked.data, checked.len);
		/* A table that could not answer: try again later. */
		if (hbc_result(h)->flags & HBC_R_DEFER)
			rc = QUEUE_ERROR;
		hbc_free(h);
	}
	buf_free(&checked);
	/* A missing message reads as empty: never send that, nor a message
	 * whose size is not the one queued. */
	if (rc < 0 || (rc == 0 && (total == 0 || total != size)))
		return -2;
	if (e.pending_cr || !e.bol)
		stream_write(s, "\r\n", 2);
	stream_write(s, ".\r\n", 3);
	return stream_flush(s) < 0 || stream_error(s) ? -1 : 0;
}
