/*
 * smtp_data - the DATA / BDAT content state machine; see smtp_data.h.
 *
 * One raw octet at a time goes through step(), except runs of ordinary
 * body octets, which take a bulk path with the same effect.  Octets whose
 * meaning depends on what follows ("." at a line start, a CR) are held in
 * the state, never in a buffer, so any split of the input gives the same
 * result.
 */
#include <string.h>

#include "smtp_data.h"

enum {
	ST_BOL,	   /* at the start of an SMTP line (after CRLF) */
	ST_TEXT,   /* inside a line */
	ST_CR,	   /* inside a line, a CR held back */
	ST_DOT,	   /* "." held back at the start of a line */
	ST_DOT_CR, /* ".\r" held back at the start of a line */
	ST_DONE,
};

enum {
	H_START, /* at the start of a header line */
	H_NAME,	 /* in the field name */
	H_WSP,	 /* white space between the name and ':' */
	H_VALUE, /* in the field body */
};

enum {
	FIELD_NONE,
	FIELD_OTHER,
	FIELD_MSGID,
};

static void
sat_add(uint64_t *a, uint64_t n)
{
	*a = *a > UINT64_MAX - n ? UINT64_MAX : *a + n;
}

void
smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode,
	       const struct smtp_data_limits *lim)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	if (lim)
		d->lim = *lim;
	d->in_header = 1;
	d->state = ST_BOL;
	d->hstate = H_START;
	/* The start of data counts as the end of a line. */
	d->prev[0] = '\r';
	d->prev[1] = '\n';
}

/*
 * Appends to out up to the size limit.  What is written is always the
 * first size_limit octets of the content, however the input was split.
 */
static void
put(struct smtp_data *d, struct buf *out, const void *p, size_t n)
{
	uint64_t room;

	if (d->lim.size_limit && !(d->flags & SMTP_DATA_F_TOO_BIG)) {
		room = d->lim.size_limit - d->size;
		if (n > room) {
			buf_append(out, p, (size_t)room);
			d->flags |= SMTP_DATA_F_TOO_BIG;
		}
	}
	if (!(d->flags & SMTP_DATA_F_TOO_BIG))
		buf_append(out, p, n);
	sat_add(&d->size, n);
}

/* The Message-ID value ends: trim it. */
static void
msgid_done(struct smtp_data *d)
{
	size_t start = 0, n = d->msgid_len;

	if (d->msgid_state != 1)
		return;
	d->msgid_state = 2;
	while (start < n && d->message_id[start] == ' ')
		start++;
	while (n > start && d->message_id[n - 1] == ' ')
		n--;
	memmove(d->message_id, d->message_id + start, n - start);
	d->message_id[n - start] = 0;
	d->msgid_len = n - start;
}

static void
header_end(struct smtp_data *d)
{
	msgid_done(d);
	d->in_header = 0;
}

/* A field name ended with ':'. */
static void
field_named(struct smtp_data *d)
{
	d->hstate = H_VALUE;
	d->field_kind = FIELD_OTHER;
	if (d->name_len == 8 && memcmp(d->name, "received", 8) == 0) {
		d->received++;
	} else if (d->name_len == 10 &&
		   memcmp(d->name, "message-id", 10) == 0) {
		d->field_kind = FIELD_MSGID;
		if (d->msgid_state == 0)
			d->msgid_state = 1;
	}
}

static void
header_byte(struct smtp_data *d, unsigned char c)
{
	switch (d->hstate) {
	case H_START:
		if (c == ' ' || c == '\t') {
			/* A continuation needs a field to continue. */
			if (d->field_kind == FIELD_NONE) {
				header_end(d);
				return;
			}
			d->hstate = H_VALUE;
			break;
		}
		msgid_done(d);
		d->field_kind = FIELD_NONE;
		d->field_len = 0;
		if (c < 33 || c > 126 || c == ':') {
			header_end(d);
			return;
		}
		d->name_len = 0;
		d->hstate = H_NAME;
		/* FALLTHROUGH */
	case H_NAME:
		if (c == ':') {
			field_named(d);
		} else if (c == ' ' || c == '\t') {
			d->hstate = H_WSP;
		} else if (c >= 33 && c <= 126) {
			if (d->name_len < sizeof(d->name))
				d->name[d->name_len] =
				    c >= 'A' && c <= 'Z' ? c + 32 : c;
			if (d->name_len < sizeof(d->name))
				d->name_len++;
		} else {
			header_end(d);
			return;
		}
		break;
	case H_WSP:
		if (c == ':')
			field_named(d);
		else if (c != ' ' && c != '\t')
			header_end(d);
		return;
	case H_VALUE:
		if (d->field_kind == FIELD_MSGID && d->msgid_state == 1 &&
		    d->msgid_len < SMTP_DATA_MSGID_MAX &&
		    !(d->msgid_len == 0 && (c == ' ' || c == '\t'))) {
			if (c == '\t')
				c = ' ';
			else if (c < 32 || c > 126)
				c = '?';
			d->message_id[d->msgid_len++] = c;
			d->message_id[d->msgid_len] = 0;
		}
		break;
	}
	sat_add(&d->field_len, 1);
}

/* Line content (never a line ending; a bare CR is content).  A header
 * field's octets past header_limit are dropped (header_size_limit). */
static void
emit_text(struct smtp_data *d, struct buf *out, const unsigned char *p,
	  size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == 0)
			d->flags |= SMTP_DATA_F_NUL;
		else if (p[i] >= 0x80)
			d->flags |= SMTP_DATA_F_8BIT;
		if (d->in_header)
			header_byte(d, p[i]);
		if (d->in_header && d->lim.header_limit &&
		    d->field_len > d->lim.header_limit) {
			put(d, out, p + start, i - start);
			start = i + 1;
			d->flags |= SMTP_DATA_F_HEADER_CUT;
			continue;
		}
		sat_add(&d->line_kept, 1);
	}
	sat_add(&d->line_len, n);
	if (d->lim.line_limit && d->line_len > d->lim.line_limit) {
		d->flags |= SMTP_DATA_F_LONG_LINE;
		if (d->in_header)
			d->flags |= SMTP_DATA_F_LONG_HEADER;
	}
	if (d->in_header && d->lim.header_limit &&
	    d->field_len > d->lim.header_limit)
		d->flags |= SMTP_DATA_F_LONG_HEADER;
	put(d, out, p + start, n - start);
}

/* A line ending: CRLF, or a bare LF (normalised except in binary mode). */
static void
emit_eol(struct smtp_data *d, struct buf *out, int bare_lf)
{
	/* A continuation line wholly past header_limit goes with its line
	 * end; a line cut in its middle keeps its line end. */
	if (d->in_header && d->line_len > 0 && d->line_kept == 0) {
		sat_add(&d->field_len, 2);
		d->hstate = H_START;
		d->line_len = 0;
		return;
	}
	if (bare_lf && d->mode == SMTP_DATA_MODE_BINARY)
		put(d, out, "\n", 1);
	else
		put(d, out, "\r\n", 2);
	if (d->in_header) {
		if (d->hstate == H_START || d->hstate == H_NAME ||
		    d->hstate == H_WSP) {
			/* An empty line, or a line that is no header. */
			header_end(d);
		} else {
			sat_add(&d->field_len, 2);
			if (d->lim.header_limit &&
			    d->field_len > d->lim.header_limit)
				d->flags |= SMTP_DATA_F_LONG_HEADER;
			d->hstate = H_START;
		}
	}
	d->line_len = 0;
	d->line_kept = 0;
	sat_add(&d->lines, 1);
}

static void
step(struct smtp_data *d, unsigned char c, struct buf *out)
{
	static const unsigned char cr = '\r';

	switch (d->state) {
	case ST_BOL:
		if (c == '.' && d->mode == SMTP_DATA_MODE_DATA) {
			d->state = ST_DOT;
			return;
		}
		d->state = ST_TEXT;
		break;
	case ST_DOT:
		if (c == '\r') {
			d->state = ST_DOT_CR;
			return;
		}
		/* The leading dot is dropped ("..x" -> ".x"). */
		d->state = ST_TEXT;
		break;
	case ST_DOT_CR:
		if (c == '\n') {
			msgid_done(d);
			d->state = ST_DONE;
			d->flags |= SMTP_DATA_F_DONE;
			return;
		}
		/* ".\r" + other: not the end; the dot goes, the CR is bare. */
		d->flags |= SMTP_DATA_F_BARE_CR | SMTP_DATA_F_DOT_LOOKALIKE;
		emit_text(d, out, &cr, 1);
		d->state = ST_TEXT;
		break;
	case ST_CR:
		if (c == '\n') {
			emit_eol(d, out, 0);
			d->state = ST_BOL;
			return;
		}
		d->flags |= SMTP_DATA_F_BARE_CR;
		emit_text(d, out, &cr, 1);
		d->state = ST_TEXT;
		break;
	}
	/* ST_TEXT */
	if (c == '\r') {
		d->state = ST_CR;
	} else if (c == '\n') {
		/* Bare LF: a content line ends, an SMTP line does not. */
		d->flags |= SMTP_DATA_F_BARE_LF;
		emit_eol(d, out, 1);
	} else {
		emit_text(d, out, &c, 1);
	}
}

/*
 * [CR|LF] "." [CR|LF] is what some servers take for the end of data.  The
 * genuine <CR><LF>.<CR> is judged by its next octet in ST_DOT_CR.
 */
static void
check_lookalike(struct smtp_data *d, unsigned char c)
{
	if ((c == '\r' || c == '\n') && d->prev[1] == '.' &&
	    (d->prev[0] == '\r' || d->prev[0] == '\n') &&
	    !(d->state == ST_DOT && c == '\r'))
		d->flags |= SMTP_DATA_F_DOT_LOOKALIKE;
}

/* Length of the run of octets other than CR and LF at p. */
static size_t
plain_run(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\r' || p[i] == '\n')
			break;
	return i;
}

size_t
smtp_data_feed(struct smtp_data *d, const void *data, size_t len,
	       struct buf *out)
{
	const unsigned char *p = data;
	size_t i = 0, n;

	while (i < len && d->state != ST_DONE) {
		/* Bulk path: ordinary body octets inside a line. */
		if (d->state == ST_TEXT && !d->in_header &&
		    (n = plain_run(p + i, len - i)) > 0) {
			emit_text(d, out, p + i, n);
			d->prev[0] = n > 1 ? p[i + n - 2] : d->prev[1];
			d->prev[1] = p[i + n - 1];
			sat_add(&d->raw_size, n);
			i += n;
			continue;
		}
		check_lookalike(d, p[i]);
		step(d, p[i], out);
		d->prev[0] = d->prev[1];
		d->prev[1] = p[i];
		sat_add(&d->raw_size, 1);
		i++;
	}
	return i;
}

void
smtp_data_finish(struct smtp_data *d, struct buf *out)
{
	static const unsigned char cr = '\r';

	if (d->mode == SMTP_DATA_MODE_DATA || d->state == ST_DONE)
		return;
	if (d->state == ST_CR) {
		d->flags |= SMTP_DATA_F_BARE_CR;
		emit_text(d, out, &cr, 1);
	}
	/* Complete an unterminated last line (not in binary mode). */
	if (d->mode == SMTP_DATA_MODE_BDAT && d->line_len > 0)
		emit_eol(d, out, 0);
	if (d->in_header)
		msgid_done(d);
	d->state = ST_DONE;
	d->flags |= SMTP_DATA_F_DONE;
}

int
smtp_data_same_results(const struct smtp_data *a, const struct smtp_data *b)
{
	return a->flags == b->flags && a->size == b->size &&
	       a->raw_size == b->raw_size && a->received == b->received &&
	       a->lines == b->lines && a->in_header == b->in_header &&
	       strcmp(a->message_id, b->message_id) == 0;
}
