/*
 * sendmail's message reader (-bm, -t): standard input to the spool file,
 * with the header section held (bounded) and the body streamed; see
 * sendmail.h.
 *
 * Lines end in LF or CRLF on input and in CRLF in the spool; a CR before
 * the LF is the line's end, any other CR is content.  Without -i a line
 * holding "." alone ends the message (the rest of the input is not read).
 * The size limit (message_size_limit) counts the bytes read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "received.h"
#include "sendmail.h"
#include "stream.h"
#include "strutil.h"
#include "xalloc.h"

struct header {
	char *text; /* the whole field, continuation lines joined by "\n" */
	size_t name_len;
};

/* The input side: standard input, what was read, and how it ended. */
struct reader {
	struct stream in;
	long long limit; /* message_size_limit; 0: none */
	unsigned long long used;
};

/* The body's line-end and lone-dot state: constant, whatever the size. */
struct body {
	int ignore_dots;
	int at_start; /* at the start of a line */
	int dot;      /* the line so far is a held-back "." */
	int cr;	      /* a held-back CR (a line end if LF follows) */
	int ended;    /* a lone "." ended the message */
	int has_8bit;
};

enum line_read { LINE_WHOLE, LINE_LONG, LINE_EOF };

static void
reader_used(struct reader *r, size_t n)
{
	r->used += n;
	if (r->limit > 0 && r->used > (unsigned long long)r->limit) {
		fprintf(stderr, "sendmail: message file too big\n");
		exit(EX_DATAERR);
	}
}

/* Makes input available; its length, 0 at the end. */
static size_t
reader_peek(struct reader *r, const char **data)
{
	ssize_t n = stream_peek(&r->in, data);

	if (n < 0) {
		fprintf(stderr, "sendmail: read standard input: %s\n",
			strerror(errno));
		exit(EX_IOERR);
	}
	return (size_t)n;
}

/* One line with its LF into line, at most max bytes: LINE_WHOLE, or
 * LINE_LONG (max bytes and no LF yet), or LINE_EOF (line holds what came
 * after the last LF, maybe nothing). */
static enum line_read
reader_line(struct reader *r, struct buf *line, size_t max)
{
	const char *p, *nl;
	size_t n, take;

	buf_reset(line);
	for (;;) {
		if (line->len >= max)
			return LINE_LONG;
		if ((n = reader_peek(r, &p)) == 0)
			return LINE_EOF;
		take = n < max - line->len ? n : max - line->len;
		if ((nl = memchr(p, '\n', take)) != NULL)
			take = (size_t)(nl - p) + 1;
		buf_append(line, p, take);
		stream_consume(&r->in, take);
		reader_used(r, take);
		if (nl != NULL)
			return LINE_WHOLE;
	}
}

/* Feeds input bytes to the body; the bytes used (fewer when a lone "."
 * ended it). */
static size_t
body_feed(struct body *b, const char *p, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len && !b->ended; i++) {
		char c = p[i];
		if ((unsigned char)c >= 0x80)
			b->has_8bit = 1;
		if (c == '\n') {
			if (b->dot) {
				b->ended = 1;
			} else {
				buf_puts(out, "\r\n");
				b->at_start = 1;
				b->cr = 0;
			}
			continue;
		}
		if (c == '\r' && !b->cr) {
			b->cr = 1;
			b->at_start = 0;
			continue;
		}
		/* What was held back is content after all. */
		if (b->dot)
			buf_putc(out, '.');
		if (b->cr)
			buf_putc(out, '\r');
		b->dot = b->cr = 0;
		if (c == '\r') {
			b->cr = 1;
		} else if (c == '.' && b->at_start && !b->ignore_dots) {
			b->dot = 1;
		} else {
			buf_putc(out, c);
		}
		b->at_start = 0;
	}
	return i;
}

/* End of input: a last line without its end gets one; a held-back CR
 * was the line's end, a held-back "." (or ".\r") a lone dot. */
static void
body_finish(struct body *b, struct buf *out)
{
	if (!b->ended && !b->dot && !b->at_start)
		buf_puts(out, "\r\n");
}

static int
is_field_name_char(int c)
{
	return c > 32 && c < 127 && c != ':';
}

/* The length of the field name when line starts a header field, else 0. */
static size_t
field_name_len(const char *line)
{
	size_t n = 0;

	while (is_field_name_char((unsigned char)line[n]))
		n++;
	/* "Name :" (obsolete syntax) is accepted too. */
	size_t k = n;
	while (line[k] == ' ' || line[k] == '\t')
		k++;
	return n > 0 && line[k] == ':' ? n : 0;
}

static int
header_is(const struct header *h, const char *name)
{
	return h->name_len == strlen(name) &&
	       str_ncasecmp(h->text, name, h->name_len) == 0;
}

static const char *
header_value(const struct header *h)
{
	return strchr(h->text, ':') + 1;
}

static void
quote_phrase(struct buf *out, const char *s)
{
	int plain = 1;

	for (const char *p = s; *p; p++)
		if (!(((unsigned char)*p >= 0x80) ||
		      strchr(" !#$%&'*+-/=?^_`{|}~", *p) ||
		      (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z')))
			plain = 0;
	if (plain) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(out, '\\');
		if (*p != '\r' && *p != '\n')
			buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

/* From:, Date:, Message-ID: when the message has none. */
static void
add_missing_headers(struct buf *out, const struct sendmail_opts *o,
		    const char *sender, const char *gecos, int has_from,
		    int has_date, int has_msgid)
{
	time_t now = time(NULL);

	if (!has_from) {
		const char *name = o->fullname ? o->fullname : gecos;
		buf_puts(out, "From: ");
		if (name && *name) {
			quote_phrase(out, name);
			buf_printf(out, " <%s>\r\n", sender);
		} else {
			buf_printf(out, "%s\r\n",
				   *sender ? sender : "MAILER-DAEMON");
		}
	}
	if (!has_date) {
		buf_puts(out, "Date: ");
		received_date(out, now);
		buf_puts(out, "\r\n");
	}
	if (!has_msgid) {
		char id[QUEUE_ID_SIZE], stamp[32];
		struct tm tm;
		queue_id_new(id, NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		buf_printf(out, "Message-ID: <%s.%s@%s>\r\n", stamp, id,
			   sendmail_conf.myhostname);
	}
}

/*
 * The header section out of the held fields: recipients with -t,
 * without Bcc:, with what is missing, and the empty line after it.
 */
static void
write_header(struct message *m, const struct sendmail_opts *o,
	     const char *sender, const char *gecos, struct header *h, size_t nh,
	     struct buf *out)
{
	int has_from = 0, has_date = 0, has_msgid = 0, resent = 0;

	for (size_t k = 0; k < nh; k++) {
		has_from |= header_is(&h[k], "From");
		has_date |= header_is(&h[k], "Date");
		has_msgid |= header_is(&h[k], "Message-ID");
		resent |= header_is(&h[k], "Resent-To") ||
			  header_is(&h[k], "Resent-Cc") ||
			  header_is(&h[k], "Resent-Bcc");
	}
	for (size_t k = 0; k < nh; k++) {
		int bcc =
		    header_is(&h[k], "Bcc") || header_is(&h[k], "Resent-Bcc");
		if (o->extract && (resent ? header_is(&h[k], "Resent-To") ||
						header_is(&h[k], "Resent-Cc") ||
						header_is(&h[k], "Resent-Bcc")
					  : header_is(&h[k], "To") ||
						header_is(&h[k], "Cc") ||
						header_is(&h[k], "Bcc")))
			rcpt_list_extract(&m->rcpts, header_value(&h[k]));
		if (bcc)
			continue;
		/* Continuation lines keep their place. */
		for (const char *p = h[k].text; *p; p++) {
			if (*p == '\n')
				buf_putc(out, '\r');
			buf_putc(out, *p);
		}
		buf_puts(out, "\r\n");
	}
	add_missing_headers(out, o, sender, gecos, has_from, has_date,
			    has_msgid);
	buf_puts(out, "\r\n");
	for (size_t k = 0; k < out->len; k++)
		if ((unsigned char)out->data[k] >= 0x80)
			m->has_8bit = 1;
}

/* Strips the line end of a line read whole (LF, and a CR before it). */
static void
strip_line_end(struct buf *line)
{
	if (line->len && line->data[line->len - 1] == '\n')
		buf_truncate(line, line->len - 1);
	if (line->len && line->data[line->len - 1] == '\r')
		buf_truncate(line, line->len - 1);
}

/* The header section is held as C strings: a NUL octet would cut a
 * field short there, losing what follows it.  It goes, as the queue
 * removes every NUL anyway (DESIGN.md "NUL octets"); the body keeps its
 * octets until then. */
static void
drop_nul(struct buf *text)
{
	size_t k = 0;

	for (size_t i = 0; i < text->len; i++)
		if (text->data[i] != '\0')
			text->data[k++] = text->data[i];
	buf_truncate(text, k);
}

/*
 * Reads the header section into h (*nh fields); line then holds the raw
 * first line of the body (with its end, or cut at the header bound), or
 * nothing at the end of input.
 */
static struct header *
read_header(struct reader *r, struct buf *line, size_t *nh)
{
	struct header *h = NULL;
	size_t n = 0, cap = 0, hsize = 0, name_len;
	enum line_read got;
	struct buf text = BUF_INIT;
	int first = 1;

	for (;; first = 0) {
		/* A field may take what is left of the bound, plus CRLF. */
		got = reader_line(r, line, SENDMAIL_HEADER_MAX - hsize + 2);
		if (got == LINE_EOF && line->len == 0)
			break;
		buf_reset(&text);
		buf_append(&text, line->data, line->len);
		if (got != LINE_LONG)
			strip_line_end(&text);
		drop_nul(&text);
		const char *t = buf_cstr(&text);
		int cont = n > 0 && (t[0] == ' ' || t[0] == '\t');
		name_len = cont ? 0 : field_name_len(t);
		if (first && strncmp(t, "From ", 5) == 0 && got != LINE_LONG)
			continue; /* an mbox separator, not a header */
		if (!cont && name_len == 0)
			break; /* the body's first line */
		hsize += text.len;
		if (got == LINE_LONG || hsize > SENDMAIL_HEADER_MAX) {
			fprintf(stderr, "sendmail: message header too big\n");
			exit(EX_DATAERR);
		}
		if (cont) {
			char *joined =
			    xmalloc(strlen(h[n - 1].text) + text.len + 2);
			sprintf(joined, "%s\n%s", h[n - 1].text, t);
			xfree(h[n - 1].text);
			h[n - 1].text = joined;
		} else {
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				h = xreallocarray(h, cap, sizeof(*h));
			}
			h[n].text = xstrdup(t);
			h[n++].name_len = name_len;
		}
		buf_reset(line);
		if (got == LINE_EOF)
			break;
	}
	buf_free(&text);
	*nh = n;
	return h;
}

void
message_read(struct message *m, const struct sendmail_opts *o,
	     const char *sender, const char *gecos)
{
	struct reader r = {.limit = sendmail_conf.message_size_limit};
	struct body b = {.ignore_dots = o->ignore_dots, .at_start = 1};
	struct stream spool;
	struct buf line = BUF_INIT, out = BUF_INIT;
	struct header *h;
	size_t nh, n, used;
	const char *p;

	stream_init(&r.in, 0, -1);
	if ((m->spool_fd = spool_create()) < 0) {
		fprintf(stderr, "sendmail: cannot create a spool file: %s\n",
			strerror(errno));
		exit(EX_TEMPFAIL);
	}
	stream_init(&spool, m->spool_fd, -1);
	h = read_header(&r, &line, &nh);
	write_header(m, o, sender, gecos, h, nh, &out);
	for (size_t k = 0; k < nh; k++)
		xfree(h[k].text);
	xfree(h);
	stream_write(&spool, out.data, out.len);
	/* The empty line that ended the header is ours now. */
	if ((line.len == 1 && line.data[0] == '\n') ||
	    (line.len == 2 && memcmp(line.data, "\r\n", 2) == 0))
		buf_reset(&line);
	buf_reset(&out);
	body_feed(&b, line.data, line.len, &out);
	while (!b.ended && (n = reader_peek(&r, &p)) > 0) {
		used = body_feed(&b, p, n, &out);
		stream_consume(&r.in, used);
		reader_used(&r, used);
		stream_write(&spool, out.data, out.len);
		buf_reset(&out);
	}
	body_finish(&b, &out);
	stream_write(&spool, out.data, out.len);
	m->has_8bit |= b.has_8bit;
	if (stream_flush(&spool) < 0 ||
	    (m->size = lseek(m->spool_fd, 0, SEEK_CUR)) < 0 ||
	    lseek(m->spool_fd, 0, SEEK_SET) < 0) {
		fprintf(stderr, "sendmail: write the spool file: %s\n",
			strerror(errno));
		exit(EX_TEMPFAIL);
	}
	stream_free(&spool);
	stream_free(&r.in);
	buf_free(&line);
	buf_free(&out);
}

void
message_free(struct message *m)
{
	rcpt_list_free(&m->rcpts);
	if (m->spool_fd >= 0)
		close(m->spool_fd);
	m->spool_fd = -1;
}
