/*
 * fuzz_mime - libFuzzer target for lib/mail/mime and lib/mail/mime_conv.
 *
 * The first two octets choose the limits (line length 80..335 or none,
 * boundary 1..16, nesting 1..8) and the split of the input into pieces;
 * the rest is a message, run through both passes twice (whole, and in
 * those pieces).  Beyond "no crash": both runs give the same output; a
 * conversion to 7 bits with nothing reported unconvertible leaves no
 * octet above 127; with a line limit no output line is longer, except
 * where a bare CR that the SMTP layer makes a line end cut it (those
 * lines are not counted as one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_conv.h"

static unsigned
run(const struct mime_conv_opts *o, const char *p, size_t len, size_t step,
    struct buf *out)
{
	struct mime_conv *c = mime_conv_new(o);
	size_t i, n;
	unsigned flags;

	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		mime_conv_scan(c, p + i, n);
	}
	mime_conv_scan_end(c);
	flags = mime_conv_flags(c);
	mime_conv_plan(c, 1);
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		mime_conv_feed(c, p + i, n, out);
	}
	mime_conv_finish(c, out);
	mime_conv_free(c);
	return flags;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_conv_opts o;
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *p = (const char *)data + 2;
	size_t len, step, i, col = 0;
	unsigned flags;

	if (size < 2)
		return 0;
	len = size - 2;
	memset(&o, 0, sizeof(o));
	o.line_limit = (data[0] & 0x80) ? 0 : 80 + (size_t)(data[0] & 0x7f) * 2;
	o.lim.boundary_limit = 1 + (data[1] & 0x0f);
	o.lim.nesting_limit = 1 + ((data[1] >> 4) & 0x07);
	step = 1 + (size_t)(data[0] & 0x3f);
	flags = run(&o, p, len, len ? len : 1, &a);
	run(&o, p, len, step, &b);
	if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	if (!(flags & (MIME_CONV_8BIT_HEADER | MIME_CONV_8BIT_BODY |
		       MIME_CONV_NESTING)))
		for (i = 0; i < a.len; i++)
			if ((unsigned char)a.data[i] >= 0x80)
				abort();
	if (o.line_limit > 0)
		for (i = 0; i < a.len; i++) {
			if (a.data[i] == '\n' || a.data[i] == '\r') {
				col = 0;
				continue;
			}
			if (++col > o.line_limit)
				abort();
		}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
