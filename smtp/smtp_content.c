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
 * With BDAT (the next hop offers CHUNKING) the same line endings, no
 * dot-stuffing, and the content cut into chunks of SMTP_BDAT_CHUNK octets
 * or more, handed to the session's chunk function, the last one marked;
 * a BODY=BINARYMIME message goes out byte for byte.
 *
 * Before the checks and the encoder, a message the next hop needs in
 * another form (smtp_body.c: 7 bits, lines within
 * smtp_line_length_limit) goes through lib/mail/mime_conv.
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
#include "mime_conv.h"
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
	int dots; /* DATA: dot-stuffing */
};

/* Appends data with the rules above; runs of ordinary bytes are copied
 * in one piece. */
static void
encode(struct encoder *e, struct buf *out, const char *data, size_t len)
{
	size_t i = 0, run;

	while (i < len) {
		char c = data[i];

		if (e->pending_cr) {
			e->pending_cr = 0;
			buf_append(out, "\r\n", 2);
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
			buf_append(out, "\r\n", 2);
			e->bol = 1;
			i++;
			continue;
		}
		if (e->bol && c == '.' && e->dots)
			buf_putc(out, '.');
		e->bol = 0;
		for (run = i;
		     run < len && data[run] != '\r' && data[run] != '\n'; run++)
			;
		buf_append(out, data + i, run - i);
		i = run;
	}
}

/* Hands what is encoded to the sink: DATA writes it all, BDAT sends a
 * chunk once there is enough.  0, or what the chunk function said. */
static int
drain(const struct smtp_sink *k, struct buf *out, int last)
{
	int rc = 0;

	if (k->chunk == NULL) {
		stream_write(k->s, out->data, out->len);
		buf_reset(out);
		return 0;
	}
	if (last || out->len >= SMTP_BDAT_CHUNK) {
		rc = k->chunk(k->ctx, out->data ? out->data : "", out->len,
			      last);
		buf_reset(out);
	}
	return rc;
}

/* One piece of content through the conversion, the checks and the
 * encoder (or, binary, as it is). */
static void
process(struct encoder *e, const struct smtp_body *b, struct hbc *h,
	const char *p, size_t len, int end, struct buf *tmp, struct buf *tmp2,
	struct buf *out)
{
	if (b->binary) {
		buf_append(out, p, len);
		return;
	}
	if (b->conv) {
		buf_reset(tmp);
		if (end)
			mime_conv_finish(b->conv, tmp);
		else
			mime_conv_feed(b->conv, p, len, tmp);
		p = tmp->data ? tmp->data : "";
		len = tmp->len;
	}
	if (h) {
		buf_reset(tmp2);
		hbc_feed(h, p, len, tmp2);
		if (end)
			hbc_finish(h, tmp2);
		p = tmp2->data ? tmp2->data : "";
		len = tmp2->len;
	}
	encode(e, out, p, len);
}

int
smtp_content_send(struct queue *q, const char *queue_id, uint64_t size,
		  const struct smtp_body *b, const struct smtp_sink *k)
{
	uint64_t total = 0;
	struct queue_content *r = queue_content_open(q, queue_id);
	struct encoder e = {1, 0, k->chunk == NULL};
	struct buf chunk = BUF_INIT, tmp = BUF_INIT, tmp2 = BUF_INIT;
	struct buf out = BUF_INIT;
	struct hbc *h = NULL;
	int rc, sent = 0;

	if (!b->binary && hbc_wanted(&hbc_cfg))
		h = hbc_new(&hbc_cfg, queue_id, "");
	while ((rc = queue_content_read(r, &chunk)) == 1) {
		total += chunk.len;
		process(&e, b, h, chunk.data, chunk.len, 0, &tmp, &tmp2, &out);
		if ((sent = drain(k, &out, 0)) != 0 || stream_error(k->s))
			break;
	}
	queue_content_close(r);
	buf_free(&chunk);
	if (sent == 0 && !stream_error(k->s))
		process(&e, b, h, "", 0, 1, &tmp, &tmp2, &out);
	/* A table that could not answer: try again later. */
	if (h && (hbc_result(h)->flags & HBC_R_DEFER))
		rc = QUEUE_ERROR;
	hbc_free(h);
	buf_free(&tmp);
	buf_free(&tmp2);
	/* A missing message reads as empty: never send that, nor a message
	 * whose size is not the one queued. */
	if (sent == 0 &&
	    (rc < 0 || (rc == 0 && (total == 0 || total != size)))) {
		buf_free(&out);
		return -2;
	}
	if (sent == 0 && !b->binary && (e.pending_cr || !e.bol))
		buf_append(&out, "\r\n", 2);
	if (sent == 0 && k->chunk == NULL)
		buf_append(&out, ".\r\n", 3);
	if (sent == 0 && !stream_error(k->s))
		sent = drain(k, &out, 1);
	buf_free(&out);
	if (sent != 0)
		return sent < 0 ? -1 : -3;
	return stream_flush(k->s) < 0 || stream_error(k->s) ? -1 : 0;
}
