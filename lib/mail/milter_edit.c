/*
 * milter_edit - one filter's header and body modifications applied to a
 * message held in memory (milter.h, milter_apply): pure, unit-tested.
 *
 * The message is CRLF lines: headers, an empty line, the body.  Header
 * indexes follow libmilter: CHGHEADER's index counts the headers of that
 * name from 1, an empty value deletes, and a change of a header that is
 * not there adds it (as Sendmail does); INSHEADER's index counts every
 * header from 0 (0 is the top).  Values come with LF or CRLF line breaks
 * and leave with CRLF, so a filter's folding cannot make bare LFs.
 */
#include <string.h>
#include <strings.h>

#include "milter.h"
#include "xalloc.h"

struct hdr {
	char *text; /* "Name: value\r\n" with its continuation lines */
	size_t len;
};

struct hdrs {
	struct hdr *v;
	size_t n, cap;
};

static void
hdrs_insert(struct hdrs *h, size_t at, char *text, size_t len)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	if (at > h->n)
		at = h->n;
	memmove(h->v + at + 1, h->v + at, (h->n - at) * sizeof(*h->v));
	h->v[at].text = text;
	h->v[at].len = len;
	h->n++;
}

/* Splits the header section off content; returns where the body starts
 * (after the empty line, or content's end when there is none). */
static size_t
split_headers(const struct buf *content, struct hdrs *h)
{
	const char *p = content->data, *end = p + content->len;
	const char *start = NULL;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t linelen = (size_t)(next - p);
		int empty = linelen == 1 || (linelen == 2 && p[0] == '\r');
		int cont = !empty && (p[0] == ' ' || p[0] == '\t');

		if (!cont && start != NULL) {
			hdrs_insert(h, h->n,
				    xstrndup(start, (size_t)(p - start)),
				    (size_t)(p - start));
			start = NULL;
		}
		if (empty)
			return (size_t)(next - content->data);
		if (start == NULL)
			start = p;
		p = next;
	}
	if (start != NULL)
		hdrs_insert(h, h->n, xstrndup(start, (size_t)(end - start)),
			    (size_t)(end - start));
	return content->len;
}

/* The name of a header line: its length up to the colon. */
static size_t
hdr_name_len(const struct hdr *x)
{
	const char *c = memchr(x->text, ':', x->len);

	return c ? (size_t)(c - x->text) : x->len;
}

static int
hdr_is(const struct hdr *x, const char *name)
{
	size_t n = hdr_name_len(x);

	/* "Name :" is the obsolete syntax: the name ends before blanks. */
	while (n > 0 && (x->text[n - 1] == ' ' || x->text[n - 1] == '\t'))
		n--;
	return n == strlen(name) && strncasecmp(x->text, name, n) == 0;
}

/* Appends s with every line break as CRLF; no trailing break. */
static void
put_crlf(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		if (s[i] == '\n' || s[i] == '\r')
			buf_puts(out, "\r\n");
		else
			buf_putc(out, s[i]);
	}
}

static char *
make_header(const char *name, const char *value, int leadspc, size_t *len)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, name);
	buf_putc(&b, ':');
	if (!leadspc)
		buf_putc(&b, ' ');
	put_crlf(&b, value, strlen(value));
	buf_puts(&b, "\r\n");
	*len = b.len;
	return buf_steal(&b);
}

void
milter_apply(struct buf *content, const struct milter_reply *mods, size_t n,
	     const struct buf *newbody, int leadspc)
{
	struct hdrs h = {0};
	size_t body_at = split_headers(content, &h);
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const struct milter_reply *m = &mods[i];
		size_t len, at, seen = 0;
		char *text;

		switch (m->cmd) {
		case MILTER_R_ADDHEADER:
			text = make_header(m->name, m->value, leadspc, &len);
			hdrs_insert(&h, h.n, text, len);
			break;
		case MILTER_R_INSHEADER:
			text = make_header(m->name, m->value, leadspc, &len);
			hdrs_insert(&h, m->index, text, len);
			break;
		case MILTER_R_CHGHEADER:
			for (at = 0; at < h.n; at++)
				if (hdr_is(&h.v[at], m->name) &&
				    ++seen >= (m->index ? m->index : 1))
					break;
			if (at == h.n) {
				/* Not there: a change adds, a delete is
				 * nothing. */
				if (*m->value == '\0')
					break;
				text = make_header(m->name, m->value, leadspc,
						   &len);
				hdrs_insert(&h, h.n, text, len);
				break;
			}
			xfree(h.v[at].text);
			if (*m->value == '\0') {
				memmove(h.v + at, h.v + at + 1,
					(h.n - at - 1) * sizeof(*h.v));
				h.n--;
				break;
			}
			h.v[at].text = make_header(m->name, m->value, leadspc,
						   &h.v[at].len);
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < h.n; i++) {
		buf_append(&out, h.v[i].text, h.v[i].len);
		xfree(h.v[i].text);
	}
	xfree(h.v);
	buf_puts(&out, "\r\n");
	if (newbody != NULL) {
		put_crlf(&out, newbody->data, newbody->len);
		if (newbody->len > 0 && newbody->data[newbody->len - 1] != '\n')
			buf_puts(&out, "\r\n");
	} else {
		buf_append(&out, content->data + body_at,
			   content->len - body_at);
	}
	buf_free(content);
	*content = out;
}
