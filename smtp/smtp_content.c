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
 */
#include <string.h>

#include "smtp.h"

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
	struct buf chunk = BUF_INIT;
	int rc;

	while ((rc = queue_content_read(r, &chunk)) == 1) {
		total += chunk.len;
		encode(&e, s, chunk.data, chunk.len);
		if (stream_error(s))
			break;
	}
	queue_content_close(r);
	buf_free(&chunk);
	/* A missing message reads as empty: never send that, nor a message
	 * whose size is not the one queued. */
	if (rc < 0 || (rc == 0 && (total == 0 || total != size)))
		return -2;
	if (e.pending_cr || !e.bol)
		stream_write(s, "\r\n", 2);
	stream_write(s, ".\r\n", 3);
	return stream_flush(s) < 0 || stream_error(s) ? -1 : 0;
}
