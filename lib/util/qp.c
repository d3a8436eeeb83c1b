/*
 * qp - quoted-printable encoding and decoding (qp.h).
 */
#include "qp.h"
#include "strutil.h"

static const char hex[] = "0123456789ABCDEF";

void
qp_init(struct qp_enc *q)
{
	q->col = 0;
	q->held = -1;
}

/* Appends n output octets as one unit (a literal or "=XX"), breaking the
 * line first when they would not fit with room for a soft break. */
static void
put_unit(struct qp_enc *q, struct buf *out, const char *u, size_t n)
{
	if (q->col + n > QP_LINE_MAX - 1) {
		buf_append(out, "=\r\n", 3);
		q->col = 0;
	}
	buf_append(out, u, n);
	q->col += n;
}

static void
put_encoded(struct qp_enc *q, struct buf *out, unsigned char c)
{
	char u[3] = {'=', hex[c >> 4], hex[c & 15]};

	put_unit(q, out, u, 3);
}

/* A held white space octet that turned out not to end the line. */
static void
release_held(struct qp_enc *q, struct buf *out)
{
	char c;

	if (q->held < 0)
		return;
	c = (char)q->held;
	q->held = -1;
	put_unit(q, out, &c, 1);
}

void
qp_encode(struct qp_enc *q, struct buf *out, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		release_held(q, out);
		if (c == ' ' || c == '\t')
			q->held = c;
		else if (c >= 33 && c <= 126 && c != '=')
			put_unit(q, out, (const char *)&s[i], 1);
		else
			put_encoded(q, out, c);
	}
}

void
qp_finish(struct qp_enc *q, struct buf *out)
{
	if (q->held >= 0) {
		unsigned char c = (unsigned char)q->held;

		q->held = -1;
		put_encoded(q, out, c);
	}
}

void
qp_line_end(struct qp_enc *q, struct buf *out)
{
	qp_finish(q, out);
	buf_append(out, "\r\n", 2);
	q->col = 0;
}

void
qp_decode(struct buf *out, const char *in, size_t len)
{
	size_t i = 0, start, end;

	while (i < len) {
		int hard = 0;

		start = i;
		while (i < len && in[i] != '\n')
			i++;
		end = i;
		if (i < len) {
			hard = 1;
			i++;
		}
		if (end > start && in[end - 1] == '\r')
			end--;
		while (end > start &&
		       (in[end - 1] == ' ' || in[end - 1] == '\t'))
			end--;
		/* A soft break: "=" at the end of the line. */
		if (end > start && in[end - 1] == '=') {
			end--;
			hard = 0;
		}
		for (size_t j = start; j < end; j++) {
			int hi, lo;

			if (in[j] == '=' && j + 2 < end &&
			    (hi = str_hexval((unsigned char)in[j + 1])) >= 0 &&
			    (lo = str_hexval((unsigned char)in[j + 2])) >= 0) {
				buf_putc(out, hi * 16 + lo);
				j += 2;
			} else {
				buf_putc(out, in[j]);
			}
		}
		if (hard)
			buf_append(out, "\r\n", 2);
	}
}
