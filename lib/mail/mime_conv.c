/*
 * mime_conv - 8-bit MIME to 7-bit and the line length limit, in two
 * passes (mime_conv.h).
 */
#include <string.h>

#include "mime_conv.h"
#include "qp.h"
#include "xalloc.h"

/* What pass 1 learns of a part, and what pass 2 does with it. */
#define P_8BIT 0x01 /* its body has an 8-bit octet */
#define P_LONG 0x02 /* its body has a line over the limit */
#define P_CTE 0x04  /* it has a Content-Transfer-Encoding field */
#define P_QP 0x08   /* pass 2: re-encode as quoted-printable */
#define P_7BIT 0x10 /* pass 2: relabel as 7bit */

struct part {
	unsigned char type, enc, flags;
};

enum mode { M_FOLD, M_BREAK, M_QP, M_SKIP };

/* How a piece of a line ends. */
enum end { E_MORE, E_EOL, E_EOF };

struct mime_conv {
	struct mime_conv_opts o;
	size_t piece;	 /* the largest line piece handed on */
	int pass;	 /* 1, 2 */
	struct mime *m;	 /* of the current pass */
	struct buf line; /* the line piece being gathered */
	int cont;	 /* the next piece continues a line */
	struct part *parts;
	size_t nparts, cap;
	unsigned flags;	 /* MIME_CONV_* */
	int hdr8, text8; /* pass 1: 8-bit in headers, in text lines */
	/* The line being read. */
	struct mime_line ml;
	size_t linelen;
	/* Pass 2. */
	int copy; /* nothing to change */
	enum mode mode;
	size_t col;
	struct qp_enc qp;
};

struct mime_conv *
mime_conv_new(const struct mime_conv_opts *o)
{
	struct mime_conv *c = xcalloc(1, sizeof(*c));

	c->o = *o;
	if (c->o.line_limit > 0 && c->o.line_limit < 2)
		c->o.line_limit = 2; /* breaking must make progress */
	c->piece = MIME_CONV_PIECE;
	if (o->lim.boundary_limit + 4 > c->piece)
		c->piece = o->lim.boundary_limit + 4;
	c->pass = 1;
	c->m = mime_new(&o->lim);
	buf_init(&c->line);
	return c;
}

void
mime_conv_free(struct mime_conv *c)
{
	if (c == NULL)
		return;
	mime_free(c->m);
	buf_free(&c->line);
	xfree(c->parts);
	xfree(c);
}

static struct part *
part_at(struct mime_conv *c, unsigned i)
{
	static struct part none;

	if (i >= c->nparts) {
		if (c->pass != 1)
			return &none;
		if (i >= c->cap) {
			size_t cap = c->cap ? c->cap : 16;

			while (cap <= i)
				cap *= 2;
			c->parts =
			    xreallocarray(c->parts, cap, sizeof(*c->parts));
			c->cap = cap;
		}
		memset(c->parts + c->nparts, 0,
		       (i + 1 - c->nparts) * sizeof(*c->parts));
		c->nparts = i + 1;
	}
	return &c->parts[i];
}

static int
has_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

static void
scan_piece(struct mime_conv *c, const char *p, size_t len, int cont,
	   enum end end)
{
	if (!cont) {
		mime_feed(c->m, p, len, 0, &c->ml);
		c->linelen = 0;
		if (c->ml.ended) {
			struct part *pt = part_at(c, c->ml.sect.part);

			pt->type = (unsigned char)c->ml.sect.type;
			pt->enc = (unsigned char)c->ml.sect.enc;
			if (c->ml.sect.has_cte)
				pt->flags |= P_CTE;
			if (c->ml.sect.part == 0 && c->ml.sect.mime_version)
				c->flags |= MIME_CONV_MIME;
		}
	} else {
		struct mime_line more;

		mime_feed(c->m, p, len, 1, &more);
	}
	c->linelen += len;
	if (has_8bit(p, len)) {
		c->flags |= MIME_CONV_8BIT;
		if (c->ml.kind == MIME_HEADER)
			c->hdr8 = 1;
		else if (c->ml.kind == MIME_BODY)
			part_at(c, c->ml.part)->flags |= P_8BIT;
		else
			c->text8 = 1;
	}
	if (end != E_MORE && c->o.line_limit > 0 &&
	    c->linelen > c->o.line_limit) {
		c->flags |= MIME_CONV_LONG;
		if (c->ml.kind == MIME_BODY)
			part_at(c, c->ml.part)->flags |= P_LONG;
	}
}

/* A MIME leaf whose encoding is the identity: re-encoding it as
 * quoted-printable keeps its content. */
static int
convertible(const struct mime_conv *c, const struct part *pt)
{
	return (c->flags & MIME_CONV_MIME) && pt->type == MIME_TYPE_LEAF &&
	       (pt->enc == MIME_ENC_7BIT || pt->enc == MIME_ENC_8BIT ||
		pt->enc == MIME_ENC_BINARY);
}

static void
emit(struct buf *out, const char *p, size_t len)
{
	buf_append(out, p, len);
}

/* Header lines: folded before white space that fits, else broken. */
static void
fold(struct mime_conv *c, const char *p, size_t len, struct buf *out)
{
	size_t limit = c->o.line_limit, room, i;

	while (len > 0) {
		room = limit > c->col ? limit - c->col : 0;
		if (limit == 0 || len <= room) {
			emit(out, p, len);
			c->col += len;
			return;
		}
		/* p[room] exists: the last white space at or before it that
		 * leaves something on this line. */
		for (i = room; i > 0 && p[i] != ' ' && p[i] != '\t'; i--)
			;
		if (i == 0 && !(c->col > 0 && (p[0] == ' ' || p[0] == '\t'))) {
			emit(out, p, room);
			emit(out, "\r\n ", 3);
			c->col = 1;
			p += room;
			len -= room;
			continue;
		}
		emit(out, p, i);
		emit(out, "\r\n", 2);
		c->col = 0;
		p += i;
		len -= i;
	}
}

/* Other lines: CR LF SPACE inserted at the limit. */
static void
brk(struct mime_conv *c, const char *p, size_t len, struct buf *out)
{
	size_t limit = c->o.line_limit, room;

	while (len > 0) {
		room = limit > c->col ? limit - c->col : 0;
		if (limit == 0 || len <= room) {
			emit(out, p, len);
			c->col += len;
			return;
		}
		emit(out, p, room);
		emit(out, "\r\n ", 3);
		c->col = 1;
		p += room;
		len -= room;
	}
}

/* The Content-Transfer-Encoding a part gets, or NULL. */
static const char *
new_cte(const struct part *pt)
{
	if (pt->flags & P_QP)
		return "quoted-printable";
	if (pt->flags & P_7BIT)
		return "7bit";
	return NULL;
}

/* A header section ended: a part to relabel that had no field gets one
 * before the line that ended it. */
static void
add_cte(struct mime_conv *c, const struct mime_section *s, struct buf *out)
{
	struct part *pt = part_at(c, s->part);
	const char *cte = new_cte(pt);

	if (cte != NULL && !(pt->flags & P_CTE))
		buf_printf(out, "Content-Transfer-Encoding: %s\r\n", cte);
}

static void
conv_piece(struct mime_conv *c, const char *p, size_t len, int cont,
	   enum end end, struct buf *out)
{
	if (!cont) {
		struct mime_line *ml = &c->ml;
		struct part *pt;

		mime_feed(c->m, p, len, 0, ml);
		c->col = 0;
		if (ml->ended)
			add_cte(c, &ml->sect, out);
		pt = part_at(c, ml->part);
		switch (ml->kind) {
		case MIME_HEADER:
			c->mode = M_FOLD;
			if (ml->cte && new_cte(pt) != NULL) {
				if (ml->field_start)
					buf_printf(out,
						   "Content-Transfer-Encoding:"
						   " %s\r\n",
						   new_cte(pt));
				c->mode = M_SKIP;
			}
			break;
		case MIME_BODY:
			c->mode = (pt->flags & P_QP) ? M_QP : M_BREAK;
			if (c->mode == M_QP)
				qp_init(&c->qp);
			break;
		default:
			c->mode = M_BREAK;
			break;
		}
	} else {
		struct mime_line more;

		mime_feed(c->m, p, len, 1, &more);
	}
	switch (c->mode) {
	case M_SKIP:
		return;
	case M_QP:
		qp_encode(&c->qp, out, p, len);
		if (end == E_EOL)
			qp_line_end(&c->qp, out);
		else if (end == E_EOF)
			qp_finish(&c->qp, out);
		return;
	case M_FOLD:
		fold(c, p, len, out);
		break;
	case M_BREAK:
		brk(c, p, len, out);
		break;
	}
	if (end == E_EOL)
		emit(out, "\r\n", 2);
}

static void
piece(struct mime_conv *c, const char *p, size_t len, enum end end,
      struct buf *out)
{
	if (c->pass == 1)
		scan_piece(c, p, len, c->cont, end);
	else
		conv_piece(c, p, len, c->cont, end, out);
	c->cont = end == E_MORE;
}

/* Splits data into line pieces: a line ends at LF (a CR before it is
 * part of the line end); a piece is at most c->piece octets, never
 * ending in a CR that an LF may follow. */
static void
feed(struct mime_conv *c, const char *p, size_t len, struct buf *out)
{
	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;
		size_t take = n;

		if (take > c->piece - c->line.len)
			take = c->piece - c->line.len;
		buf_append(&c->line, p, take);
		p += take;
		len -= take;
		if (take == n && nl != NULL) {
			size_t l = c->line.len;

			if (l > 0 && c->line.data[l - 1] == '\r')
				l--;
			piece(c, c->line.data ? c->line.data : "", l, E_EOL,
			      out);
			buf_reset(&c->line);
			p++;
			len--;
		} else if (c->line.len >= c->piece) {
			int cr = c->line.data[c->line.len - 1] == '\r';

			piece(c, c->line.data, c->line.len - (size_t)cr, E_MORE,
			      out);
			buf_reset(&c->line);
			if (cr)
				buf_putc(&c->line, '\r');
		}
	}
}

static void
flush(struct mime_conv *c, struct buf *out)
{
	if (c->line.len > 0)
		piece(c, c->line.data, c->line.len, E_EOF, out);
	else if (c->cont)
		piece(c, "", 0, E_EOF, out);
	buf_reset(&c->line);
	c->cont = 0;
}

void
mime_conv_scan(struct mime_conv *c, const void *p, size_t len)
{
	feed(c, p, len, NULL);
}

void
mime_conv_scan_end(struct mime_conv *c)
{
	size_t i;

	flush(c, NULL);
	if (mime_errors(c->m) & MIME_ERR_NESTING)
		c->flags |= MIME_CONV_NESTING;
	if (c->hdr8)
		c->flags |= MIME_CONV_8BIT_HEADER;
	if (c->text8)
		c->flags |= MIME_CONV_8BIT_BODY;
	for (i = 0; i < c->nparts; i++)
		if ((c->parts[i].flags & P_8BIT) &&
		    !convertible(c, &c->parts[i]))
			c->flags |= MIME_CONV_8BIT_BODY;
}

unsigned
mime_conv_flags(const struct mime_conv *c)
{
	return c->flags;
}

int
mime_conv_plan(struct mime_conv *c, int downgrade)
{
	int changes = c->o.line_limit > 0 && (c->flags & MIME_CONV_LONG);
	size_t i;

	for (i = 0; i < c->nparts; i++) {
		struct part *pt = &c->parts[i];

		pt->flags &= (unsigned char)~(P_QP | P_7BIT);
		if (convertible(c, pt) &&
		    ((downgrade && (pt->flags & P_8BIT)) ||
		     (pt->flags & P_LONG)))
			pt->flags |= P_QP;
		else if (downgrade && (pt->enc == MIME_ENC_8BIT ||
				       pt->enc == MIME_ENC_BINARY))
			pt->flags |= P_7BIT;
		if (pt->flags & (P_QP | P_7BIT))
			changes = 1;
	}
	mime_free(c->m);
	c->m = mime_new(&c->o.lim);
	c->pass = 2;
	c->copy = !changes;
	buf_reset(&c->line);
	c->cont = 0;
	return changes;
}

void
mime_conv_feed(struct mime_conv *c, const void *p, size_t len, struct buf *out)
{
	if (c->copy)
		buf_append(out, p, len);
	else
		feed(c, p, len, out);
}

void
mime_conv_finish(struct mime_conv *c, struct buf *out)
{
	if (!c->copy)
		flush(c, out);
}
