/*
 * smtp_body - what the message must become for the next hop.
 *
 * RFC 6152: 8-bit content goes only to a server that offers 8BITMIME.
 * For one that does not, unless disable_mime_output_conversion, the
 * message's 8-bit MIME parts are re-encoded as quoted-printable
 * (lib/mail/mime_conv); RFC 5321 4.5.3.1.6: no line longer than 998
 * octets (smtp_line_length_limit), on every hop.  Both need one reading
 * of the content before MAIL FROM (a part's headers go out before its
 * body shows whether it must change), so the message is read twice when
 * a limit applies; a message that needs nothing goes out as stored.
 *
 * What cannot be converted (8-bit headers, 8-bit text outside MIME
 * leaves) is sent as it is, with a log line, unless strict_7bit_headers,
 * strict_8bitmime_body or strict_8bitmime ask for a bounce (5.6.3); a
 * message nested deeper than mime_nesting_limit that would need
 * converting bounces (5.6.0), as in Postfix.  RFC 3030: a BINARYMIME
 * message goes only by BDAT to a server that offers CHUNKING and
 * BINARYMIME, and is never converted; otherwise it bounces (5.6.3).
 */
#include <string.h>

#include "msg.h"
#include "smtp.h"

static struct mime_conv *
conv_new(void)
{
	struct mime_conv_opts o;

	memset(&o, 0, sizeof(o));
	o.lim.boundary_limit = (size_t)smtp_cfg.mime_boundary_limit;
	o.lim.nesting_limit = (unsigned)smtp_cfg.mime_nesting_limit;
	o.line_limit = (size_t)smtp_cfg.smtp_line_limit;
	return mime_conv_new(&o);
}

/* Pass 1 over the queued content; 0, or -1 when it could not be read
 * whole. */
static int
scan(const struct smtp_request *req, struct mime_conv *c)
{
	struct queue_content *r =
	    queue_content_open(smtp_cfg.queue, req->queue_id);
	struct buf chunk = BUF_INIT;
	uint64_t total = 0;
	int rc;

	while ((rc = queue_content_read(r, &chunk)) == 1) {
		total += chunk.len;
		mime_conv_scan(c, chunk.data, chunk.len);
	}
	queue_content_close(r);
	buf_free(&chunk);
	mime_conv_scan_end(c);
	return rc < 0 || total != req->size ? -1 : 0;
}

int
smtp_body_prepare(const struct smtp_request *req, unsigned ext,
		  const char *server, struct smtp_body *b,
		  char dsn[SMTP_DSN_SIZE], struct buf *why)
{
	int declared = (req->flags & QUEUE_FLAG_8BITMIME) != 0;
	int may_downgrade =
	    !(ext & SMTP_EXT_8BITMIME) && !smtp_cfg.disable_mime_oconv;
	int downgrade;
	unsigned f;

	memset(b, 0, sizeof(*b));
	if (req->flags & QUEUE_FLAG_BINARYMIME) {
		if ((ext & (SMTP_EXT_CHUNKING | SMTP_EXT_BINARYMIME)) !=
		    (SMTP_EXT_CHUNKING | SMTP_EXT_BINARYMIME)) {
			strcpy(dsn, "5.6.3");
			buf_printf(why,
				   "message is BINARYMIME, but host %s does "
				   "not offer CHUNKING and BINARYMIME",
				   server);
			return 1;
		}
		b->binary = 1;
		return 0;
	}
	b->eightbit = declared && (ext & SMTP_EXT_8BITMIME);
	/* Nothing to look for: no conversion, and no line can be long. */
	if (!may_downgrade && (smtp_cfg.smtp_line_limit <= 0 ||
			       req->size <= (uint64_t)smtp_cfg.smtp_line_limit))
		return 0;
	b->conv = conv_new();
	if (scan(req, b->conv) < 0) {
		smtp_body_free(b);
		return -1;
	}
	f = mime_conv_flags(b->conv);
	if ((f & MIME_CONV_8BIT) && (ext & SMTP_EXT_8BITMIME))
		b->eightbit = 1;
	downgrade = may_downgrade && (declared || (f & MIME_CONV_8BIT));
	if (downgrade && (f & MIME_CONV_NESTING)) {
		strcpy(dsn, "5.6.0");
		buf_printf(why,
			   "MIME nesting exceeds mime_nesting_limit: cannot "
			   "convert the message to 7 bits for host %s",
			   server);
		goto bounce;
	}
	if (downgrade && (f & MIME_CONV_8BIT_HEADER) &&
	    (smtp_cfg.strict_7bit_headers || smtp_cfg.strict_8bitmime)) {
		strcpy(dsn, "5.6.3");
		buf_printf(why,
			   "message has 8-bit headers, but host %s does not "
			   "offer 8BITMIME",
			   server);
		goto bounce;
	}
	if (downgrade && (f & MIME_CONV_8BIT_BODY) &&
	    (smtp_cfg.strict_8bitmime_body || smtp_cfg.strict_8bitmime)) {
		strcpy(dsn, "5.6.3");
		buf_printf(why,
			   "message has 8-bit text without 8-bit MIME "
			   "encoding, but host %s does not offer 8BITMIME",
			   server);
		goto bounce;
	}
	if (downgrade && (f & (MIME_CONV_8BIT_HEADER | MIME_CONV_8BIT_BODY)))
		msg_info("%s: host %s does not offer 8BITMIME: 8-bit %s sent "
			 "unconverted",
			 req->queue_id, server,
			 (f & MIME_CONV_8BIT_HEADER) ? "headers" : "text");
	if (mime_conv_plan(b->conv, downgrade) == 0) {
		mime_conv_free(b->conv);
		b->conv = NULL;
	}
	return 0;
bounce:
	smtp_body_free(b);
	return 1;
}

void
smtp_body_free(struct smtp_body *b)
{
	mime_conv_free(b->conv);
	b->conv = NULL;
}
