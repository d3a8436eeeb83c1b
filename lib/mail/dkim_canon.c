/*
 * dkim_canon - DKIM canonicalisation and hash input; see dkim_canon.h.
 */
#include <string.h>

#include "dkim_canon.h"
#include "xalloc.h"

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* The end of the line starting at i (index of its '\n' or len) and
 * the length of its content (without CR LF). */
static size_t
line_end(const char *d, size_t len, size_t i, size_t *content)
{
	const char *nl = memchr(d + i, '\n', len - i);
	size_t e = nl ? (size_t)(nl - d) : len;

	*content = e - i;
	if (nl && *content > 0 && d[e - 1] == '\r')
		(*content)--;
	return e;
}

int
dkim_msg_split(const char *data, size_t len, struct dkim_msg *m)
{
	size_t i = 0, e, content, cap = 0;

	memset(m, 0, sizeof(*m));
	while (i < len) {
		e = line_end(data, len, i, &content);
		if (content == 0) { /* the empty line */
			i = e < len ? e + 1 : len;
			break;
		}
		if (is_wsp((unsigned char)data[i])) {
			if (m->nfields == 0)
				break;
			struct dkim_field *f = &m->f[m->nfields - 1];
			f->len = (size_t)(data + i + content - f->p);
		} else {
			const char *colon = memchr(data + i, ':', content);
			size_t n;

			if (colon == NULL || colon == data + i)
				break; /* not a field: the body starts here */
			if (m->nfields == DKIM_FIELDS_MAX) {
				dkim_msg_free(m);
				return -1;
			}
			if (m->nfields == cap) {
				cap = cap ? cap * 2 : 32;
				m->f = xreallocarray(m->f, cap, sizeof(*m->f));
			}
			n = (size_t)(colon - (data + i));
			m->f[m->nfields].p = data + i;
			m->f[m->nfields].len = content;
			m->f[m->nfields].colon = n;
			while (n > 0 && is_wsp((unsigned char)data[i + n - 1]))
				n--;
			m->f[m->nfields].namelen = n;
			m->nfields++;
		}
		i = e < len ? e + 1 : len;
	}
	m->body = data + i;
	m->body_len = len - i;
	return 0;
}

void
dkim_msg_free(struct dkim_msg *m)
{
	xfree(m->f);
	memset(m, 0, sizeof(*m));
}

int
dkim_field_is(const struct dkim_field *f, const char *name)
{
	size_t n = strlen(name);

	if (f->namelen != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)f->p[i];

		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != (unsigned char)name[i])
			return 0;
	}
	return 1;
}

void
dkim_canon_body(int relaxed, const char *body, size_t len, struct buf *out)
{
	size_t i = 0, e, content, empty = 0, k;
	int any = 0;

	while (i < len) {
		e = line_end(body, len, i, &content);
		if (relaxed) {
			/* Trailing white space goes, runs become one SP. */
			while (content > 0 &&
			       is_wsp((unsigned char)body[i + content - 1]))
				content--;
		}
		if (content == 0) {
			empty++; /* kept back: trailing empty lines go */
		} else {
			for (; empty > 0; empty--)
				buf_append(out, "\r\n", 2);
			if (!relaxed) {
				buf_append(out, body + i, content);
			} else {
				for (k = 0; k < content; k++) {
					int c = (unsigned char)body[i + k];

					if (is_wsp(c)) {
						if (k == 0 ||
						    !is_wsp(
							(unsigned char)
							    body[i + k - 1]))
							buf_putc(out, ' ');
					} else {
						buf_putc(out, c);
					}
				}
			}
			buf_append(out, "\r\n", 2);
			any = 1;
		}
		i = e < len ? e + 1 : len;
	}
	/* simple: an empty body is one CRLF; relaxed: nothing (3.4.4). */
	if (!any && !relaxed)
		buf_append(out, "\r\n", 2);
}

void
dkim_canon_header(int relaxed, const char *field, size_t len, int crlf,
		  struct buf *out)
{
	size_t i, colon;
	int space = 0, started = 0;

	if (!relaxed) {
		/* As is, with every line end made CRLF. */
		for (i = 0; i < len; i++) {
			if (field[i] == '\n' &&
			    (i == 0 || field[i - 1] != '\r'))
				buf_putc(out, '\r');
			buf_putc(out, field[i]);
		}
		if (crlf)
			buf_append(out, "\r\n", 2);
		return;
	}
	const char *c = memchr(field, ':', len);
	colon = c ? (size_t)(c - field) : len;
	/* The name in lower case without white space before the colon. */
	for (i = 0; i < colon; i++) {
		int ch = (unsigned char)field[i];

		if (is_wsp(ch) || ch == '\r' || ch == '\n')
			continue;
		buf_putc(out, ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	buf_putc(out, ':');
	/* The value unfolded, runs of WSP as one SP, none at either end. */
	for (i = colon + 1; i < len; i++) {
		int ch = (unsigned char)field[i];

		if (ch == '\r' || ch == '\n')
			continue;
		if (is_wsp(ch)) {
			space = 1;
			continue;
		}
		if (space && started)
			buf_putc(out, ' ');
		space = 0;
		started = 1;
		buf_putc(out, ch);
	}
	if (crlf)
		buf_append(out, "\r\n", 2);
}

void
dkim_header_input(const struct dkim_msg *m, int relaxed, const char (*h)[65],
		  size_t nh, const char *sig, size_t siglen, struct buf *out)
{
	unsigned char *used = xcalloc(m->nfields ? m->nfields : 1, 1);

	for (size_t k = 0; k < nh; k++) {
		for (size_t j = m->nfields; j-- > 0;) {
			if (used[j] || !dkim_field_is(&m->f[j], h[k]))
				continue;
			used[j] = 1;
			dkim_canon_header(relaxed, m->f[j].p, m->f[j].len, 1,
					  out);
			break;
		}
	}
	xfree(used);
	dkim_canon_header(relaxed, sig, siglen, 0, out);
}
