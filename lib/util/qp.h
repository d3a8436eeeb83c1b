/*
 * qp - quoted-printable (RFC 2045 6.7), encoded as a stream.
 *
 * The encoder takes a text one line at a time, in any number of pieces
 * (qp_encode() for the octets, qp_line_end() where the original had a
 * line end), and appends to out:
 *  - printable ASCII other than "=" as is, every other octet as "=XX"
 *    (upper-case hex), except space and tab, which stay literal unless
 *    they end a line (then "=20", "=09": RFC 2045 rule 3);
 *  - soft line breaks ("=" CR LF) so that no output line is longer than
 *    QP_LINE_MAX (76) octets, never inside an "=XX";
 *  - CR LF for each qp_line_end().
 * A line of the original starting with "." or "From " gets no special
 * treatment: dot-stuffing is the SMTP layer's job.  What it holds
 * between calls is one pending white space octet and a column.
 *
 * qp_decode() is the reverse for tests and tools: "=XX" (either case),
 * soft breaks and line ends (CR LF or LF, given back as CR LF), trailing
 * white space before a line end dropped as RFC 2045 says; a malformed
 * "=" is kept literally.
 */
#ifndef PANACEA_QP_H
#define PANACEA_QP_H

#include <stddef.h>

#include "buf.h"

#define QP_LINE_MAX 76

struct qp_enc {
	size_t col; /* octets on the current output line */
	int held;   /* a space or tab not yet known to end the line, or -1 */
};

void qp_init(struct qp_enc *q);
void qp_encode(struct qp_enc *q, struct buf *out, const void *p, size_t len);
/* The original line ended: pending white space is encoded, CR LF out. */
void qp_line_end(struct qp_enc *q, struct buf *out);
/* The text ended without a line end: pending white space is encoded. */
void qp_finish(struct qp_enc *q, struct buf *out);

void qp_decode(struct buf *out, const char *in, size_t len);

#endif
