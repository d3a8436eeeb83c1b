/*
 * fuzz_qp - libFuzzer target for lib/util/qp.
 *
 * The input, split at LF into lines (each LF an original line end) and
 * fed in pieces whose size the first octet chooses, is encoded; the
 * output must be 7-bit, with lines of at most QP_LINE_MAX octets, no
 * white space before a line end, and decode (qp_decode) to the input
 * with its LFs as CR LF.  Any input is also decoded as is (no crash, and
 * at most twice as long as the input: an LF becomes CR LF).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT, dec = BUF_INIT, want = BUF_INIT;
	struct qp_enc q;
	const char *p = (const char *)data + 1;
	size_t len, step, i, n, col = 0;

	if (size < 1)
		return 0;
	len = size - 1;
	step = 1 + data[0];
	qp_init(&q);
	for (i = 0; i < len; i += n) {
		const char *nl = memchr(p + i, '\n', len - i);

		n = nl ? (size_t)(nl - (p + i)) : len - i;
		if (n > step)
			n = step;
		qp_encode(&q, &out, p + i, n);
		if (nl && p + i + n == nl) {
			qp_line_end(&q, &out);
			n++;
		}
	}
	qp_finish(&q, &out);
	for (i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		if (c >= 0x80)
			abort();
		if (c == '\r') {
			if (i + 1 >= out.len || out.data[i + 1] != '\n')
				abort();
			if (col > 0 && (out.data[i - 1] == ' ' ||
					out.data[i - 1] == '\t'))
				abort();
			col = 0;
			i++;
		} else if (++col > QP_LINE_MAX) {
			abort();
		}
	}
	for (i = 0; i < len; i++) {
		if (p[i] == '\n')
			buf_append(&want, "\r\n", 2);
		else
			buf_putc(&want, p[i]);
	}
	qp_decode(&dec, out.data ? out.data : "", out.len);
	if (dec.len != want.len ||
	    (want.len && memcmp(dec.data, want.data, want.len) != 0))
		abort();
	buf_reset(&dec);
	qp_decode(&dec, p, len);
	if (dec.len > 2 * len) /* LF becomes CR LF */
		abort();
	buf_free(&out);
	buf_free(&dec);
	buf_free(&want);
	return 0;
}
