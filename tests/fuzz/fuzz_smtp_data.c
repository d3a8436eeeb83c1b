/*
 * fuzz_smtp_data - libFuzzer target for lib/smtp_data.
 *
 * The first input byte selects the mode and small limits, the second a
 * seed for split points, the rest is the client's stream.  The same
 * stream is fed at once, byte by byte, and in pseudo-random pieces: all
 * three must agree on everything (the split-point invariance that makes
 * smuggling by packet boundaries impossible).  In DATA mode the end must
 * be exactly the first <CR><LF>.<CR><LF> (the start counting as a line
 * start), and normalised output never holds a bare LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_data.h"

struct run {
	struct smtp_data d;
	struct buf out;
	size_t consumed;
};

static void
feed(struct run *r, const uint8_t *p, size_t len, enum smtp_data_mode mode,
     const struct smtp_data_limits *lim, unsigned step_seed, int bytewise)
{
	size_t off = 0, n, used;
	unsigned s = step_seed;

	buf_init(&r->out);
	r->consumed = 0;
	smtp_data_init(&r->d, mode, lim);
	while (off < len && !smtp_data_done(&r->d)) {
		if (bytewise) {
			n = 1;
		} else {
			s = s * 1103515245u + 12345u;
			n = 1 + (s >> 16) % 17;
		}
		if (n > len - off)
			n = len - off;
		used = smtp_data_feed(&r->d, p + off, n, &r->out);
		if (used > n || (used < n && !smtp_data_done(&r->d)))
			abort();
		r->consumed += used;
		off += n;
	}
	if (mode != SMTP_DATA_MODE_DATA)
		smtp_data_finish(&r->d, &r->out);
}

static void
same(const struct run *a, const struct run *b)
{
	if (a->consumed != b->consumed || a->out.len != b->out.len ||
	    (a->out.len && memcmp(a->out.data, b->out.data, a->out.len)) ||
	    !smtp_data_same_results(&a->d, &b->d))
		abort();
}

/* Offset just past the first "\r\n.\r\n" of "\r\n" + p, or 0. */
static size_t
first_end(const uint8_t *p, size_t len)
{
	size_t i;

	if (len >= 3 && memcmp(p, ".\r\n", 3) == 0)
		return 3;
	for (i = 0; i + 5 <= len; i++)
		if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_limits lim = {0, 0, 0};
	enum smtp_data_mode mode;
	struct run one, bytes, pieces;
	size_t i, end;

	if (size < 2)
		return 0;
	mode = (enum smtp_data_mode)(data[0] % 3);
	if (data[0] & 0x04)
		lim.size_limit = 1 + data[1] % 64;
	if (data[0] & 0x08)
		lim.line_limit = 1 + data[1] % 16;
	if (data[0] & 0x10)
		lim.header_limit = 1 + data[1] % 32;
	/* One-shot feeding. */
	buf_init(&one.out);
	smtp_data_init(&one.d, mode, &lim);
	one.consumed = smtp_data_feed(&one.d, data + 2, size - 2, &one.out);
	if (mode != SMTP_DATA_MODE_DATA)
		smtp_data_finish(&one.d, &one.out);
	feed(&bytes, data + 2, size - 2, mode, &lim, 0, 1);
	feed(&pieces, data + 2, size - 2, mode, &lim, data[1], 0);
	same(&one, &bytes);
	same(&one, &pieces);

	if (mode == SMTP_DATA_MODE_DATA) {
		end = first_end(data + 2, size - 2);
		if (smtp_data_done(&one.d) != (end != 0))
			abort();
		if (end && one.consumed != end)
			abort();
		if (!end && one.consumed != size - 2)
			abort();
	}
	if (mode != SMTP_DATA_MODE_BINARY)
		for (i = 0; i < one.out.len; i++)
			if (one.out.data[i] == '\n' &&
			    (i == 0 || one.out.data[i - 1] != '\r'))
				abort();
	if (!lim.size_limit && one.d.size != one.out.len)
		abort();
	if (lim.size_limit && one.out.len > lim.size_limit)
		abort();
	if (strlen(one.d.message_id) > SMTP_DATA_MSGID_MAX)
		abort();
	buf_free(&one.out);
	buf_free(&bytes.out);
	buf_free(&pieces.out);
	return 0;
}
