/*
 * mime - the structure of a MIME message, line by line (mime.h).
 */
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "strutil.h"
#include "xalloc.h"

#define MIME_BOUNDARY_DEFAULT 2048
#define MIME_NESTING_DEFAULT 100
#define FVAL_EXTRA 256 /* field value kept beyond the boundary limit */

/* An open multipart (boundary set) or attached message (boundary NULL). */
struct frame {
	char *boundary;
	size_t len;
	int digest;
	unsigned part;
};

enum field { F_OTHER, F_CTYPE, F_CTE, F_VERSION };

struct mime {
	struct mime_limits lim;
	int in_header;		  /* reading a header section */
	struct mime_section cur;  /* the section being read */
	int digest_default;	  /* its part defaults to message/rfc822 */
	int in_field;		  /* a field of it has started */
	enum field field;	  /* which field */
	struct buf ctype, cte;	  /* their values, bounded */
	enum mime_kind body_kind; /* outside headers: what a line is */
	unsigned body_part;
	struct frame *stack;
	unsigned depth;
	unsigned nparts;
	struct mime_line last; /* for further pieces of a line */
	unsigned errors;
};

struct mime *
mime_new(const struct mime_limits *lim)
{
	struct mime *m = xcalloc(1, sizeof(*m));

	m->lim = *lim;
	if (m->lim.boundary_limit == 0)
		m->lim.boundary_limit = MIME_BOUNDARY_DEFAULT;
	if (m->lim.nesting_limit == 0)
		m->lim.nesting_limit = MIME_NESTING_DEFAULT;
	m->stack = xcalloc(m->lim.nesting_limit, sizeof(*m->stack));
	m->in_header = 1;
	m->nparts = 1;
	buf_init(&m->ctype);
	buf_init(&m->cte);
	return m;
}

static void
pop(struct mime *m)
{
	xfree(m->stack[--m->depth].boundary);
}

void
mime_free(struct mime *m)
{
	if (m == NULL)
		return;
	while (m->depth > 0)
		pop(m);
	xfree(m->stack);
	buf_free(&m->ctype);
	buf_free(&m->cte);
	xfree(m);
}

unsigned
mime_errors(const struct mime *m)
{
	return m->errors;
}

unsigned
mime_parts(const struct mime *m)
{
	return m->nparts;
}

static void
begin_section(struct mime *m, int nested, int digest_part)
{
	m->in_header = 1;
	memset(&m->cur, 0, sizeof(m->cur));
	m->cur.part = m->nparts++;
	m->cur.nested = nested;
	m->digest_default = digest_part;
	m->in_field = 0;
	m->field = F_OTHER;
	buf_reset(&m->ctype);
	buf_reset(&m->cte);
}

/* The length of "name" before optional white space and ":", or 0. */
static size_t
field_name_len(const char *p, size_t len)
{
	size_t n = 0, i;

	while (n < len && p[n] >= 33 && p[n] <= 126 && p[n] != ':')
		n++;
	if (n == 0)
		return 0;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':' ? n : 0;
}

static void
collect(struct mime *m, const char *p, size_t len)
{
	struct buf *b = m->field == F_CTYPE ? &m->ctype
			: m->field == F_CTE ? &m->cte
					    : NULL;
	size_t max = m->lim.boundary_limit + FVAL_EXTRA;

	if (b == NULL || b->len >= max)
		return;
	if (len > max - b->len)
		len = max - b->len;
	buf_append(b, p, len);
}

static const char *
skip_ws(const char *s)
{
	return s + strspn(s, " \t\r\n");
}

static int
token_is(const char *s, const char *word)
{
	size_t n = strlen(word);

	return str_ncasecmp(s, word, n) == 0 &&
	       (s[n] == '\0' || strchr(" \t\r\n;(", s[n]) != NULL);
}

static enum mime_enc
parse_cte(const char *v)
{
	v = skip_ws(v);
	if (token_is(v, "7bit"))
		return MIME_ENC_7BIT;
	if (token_is(v, "8bit"))
		return MIME_ENC_8BIT;
	if (token_is(v, "binary"))
		return MIME_ENC_BINARY;
	if (token_is(v, "quoted-printable"))
		return MIME_ENC_QP;
	if (token_is(v, "base64"))
		return MIME_ENC_BASE64;
	return MIME_ENC_OTHER;
}

/* The boundary parameter of a Content-Type value (bounded copy), or
 * NULL: after a ';', "boundary" = token or quoted string. */
static char *
parse_boundary(const char *v, size_t limit)
{
	const char *p, *b;
	size_t n;

	for (p = strchr(v, ';'); p != NULL; p = strchr(p + 1, ';')) {
		b = skip_ws(p + 1);
		if (str_ncasecmp(b, "boundary", 8) != 0)
			continue;
		b = skip_ws(b + 8);
		if (*b != '=')
			continue;
		b = skip_ws(b + 1);
		if (*b == '"') {
			b++;
			n = strcspn(b, "\"");
		} else {
			n = strcspn(b, " \t\r\n;");
		}
		if (n == 0)
			return NULL;
		return xstrndup(b, n > limit ? limit : n);
	}
	return NULL;
}

static void
push(struct mime *m, char *boundary, int digest)
{
	struct frame *f = &m->stack[m->depth++];

	f->boundary = boundary;
	f->len = boundary ? strlen(boundary) : 0;
	f->digest = digest;
	f->part = m->cur.part;
}

/* The header section ended: resolves the part's type and sets what the
 * following lines are.  *sect gets the section as resolved. */
static void
end_section(struct mime *m, struct mime_section *sect)
{
	const char *v = skip_ws(buf_cstr(&m->ctype));
	char *boundary = NULL;
	int digest = 0;

	m->in_header = 0;
	m->cur.enc =
	    m->cur.has_cte ? parse_cte(buf_cstr(&m->cte)) : MIME_ENC_7BIT;
	if (m->ctype.len == 0) {
		m->cur.type =
		    m->digest_default ? MIME_TYPE_MESSAGE : MIME_TYPE_LEAF;
	} else if (str_ncasecmp(v, "multipart/", 10) == 0) {
		digest = token_is(v + 10, "digest");
		boundary = parse_boundary(v, m->lim.boundary_limit);
		m->cur.type = boundary ? MIME_TYPE_MULTIPART : MIME_TYPE_LEAF;
	} else if (token_is(v, "message/rfc822") ||
		   token_is(v, "message/global")) {
		m->cur.type = MIME_TYPE_MESSAGE;
	} else {
		m->cur.type = MIME_TYPE_LEAF;
	}
	/* An encoded message is opaque: RFC 2046 5.2.1 allows only the
	 * identity encodings. */
	if (m->cur.type == MIME_TYPE_MESSAGE && m->cur.enc != MIME_ENC_7BIT &&
	    m->cur.enc != MIME_ENC_8BIT && m->cur.enc != MIME_ENC_BINARY)
		m->cur.type = MIME_TYPE_LEAF;
	*sect = m->cur;
	m->body_part = m->cur.part;
	m->body_kind = MIME_BODY;
	if (m->cur.type == MIME_TYPE_LEAF)
		return;
	m->body_kind = MIME_TEXT;
	if (m->depth >= m->lim.nesting_limit) {
		m->errors |= MIME_ERR_NESTING;
		xfree(boundary);
		return;
	}
	if (m->cur.type == MIME_TYPE_MULTIPART) {
		push(m, boundary, digest);
		return;
	}
	push(m, NULL, 0);
	begin_section(m, 1, 0);
}

/* A line outside headers: a boundary of an open multipart, or text. */
static void
body_line(struct mime *m, const char *p, size_t len, struct mime_line *out)
{
	unsigned i;

	out->kind = m->body_kind;
	out->part = m->body_part;
	if (len < 2 || p[0] != '-' || p[1] != '-')
		return;
	for (i = m->depth; i-- > 0;) {
		struct frame *f = &m->stack[i];
		int close;

		if (f->boundary == NULL || len - 2 < f->len ||
		    memcmp(p + 2, f->boundary, f->len) != 0)
			continue;
		close = len - 2 - f->len >= 2 && p[2 + f->len] == '-' &&
			p[3 + f->len] == '-';
		out->kind = MIME_BOUNDARY;
		out->part = f->part;
		while (m->depth > i + 1)
			pop(m);
		if (close) {
			unsigned part = f->part;
			pop(m);
			m->body_kind = MIME_TEXT;
			m->body_part = part;
		} else {
			begin_section(m, 0, f->digest);
		}
		return;
	}
}

void
mime_feed(struct mime *m, const char *p, size_t len, int cont,
	  struct mime_line *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (cont) {
		out->kind = m->last.kind;
		out->part = m->last.part;
		out->cte = m->last.cte;
		if (out->kind == MIME_HEADER)
			collect(m, p, len);
		return;
	}
	if (m->in_header) {
		out->part = m->cur.part;
		if (len == 0) {
			out->kind = MIME_SEPARATOR;
			out->ended = 1;
			end_section(m, &out->sect);
			goto done;
		}
		if ((p[0] == ' ' || p[0] == '\t') && m->in_field) {
			out->kind = MIME_HEADER;
			out->cte = m->field == F_CTE;
			collect(m, p, len);
			goto done;
		}
		if ((n = field_name_len(p, len)) > 0) {
			const char *colon = memchr(p, ':', len);

			out->kind = MIME_HEADER;
			out->field_start = 1;
			m->in_field = 1;
			m->field = F_OTHER;
			if (n == 12 &&
			    str_ncasecmp(p, "content-type", n) == 0) {
				m->field = F_CTYPE;
				buf_reset(&m->ctype);
			} else if (n == 25 &&
				   str_ncasecmp(p, "content-transfer-encoding",
						n) == 0) {
				m->field = F_CTE;
				m->cur.has_cte = 1;
				buf_reset(&m->cte);
			} else if (n == 12 &&
				   str_ncasecmp(p, "mime-version", n) == 0) {
				m->cur.mime_version = 1;
			}
			out->cte = m->field == F_CTE;
			collect(m, colon + 1, len - (size_t)(colon + 1 - p));
			goto done;
		}
		/* No header: the section ends and this is the body's first
		 * line. */
		out->ended = 1;
		end_section(m, &out->sect);
		if (m->in_header) {
			/* An attached message began: its headers start at this
			 * line. */
			mime_feed(m, p, len, 0, &m->last);
			m->last.ended = 1;
			m->last.sect = out->sect;
			*out = m->last;
			return;
		}
	}
	body_line(m, p, len, out);
done:
	m->last = *out;
}
