/*
 * fuzz_hdr_rewrite - libFuzzer target for lib/hdr_rewrite (addresses in
 * message headers, which come from the network).
 *
 * The first input byte is a seed for split points; the rest is message
 * content.  Two rewriters run on it: one that changes addresses (the
 * standard form, a canonical table, masquerading), fed at once and in
 * pseudo-random pieces, whose outputs must agree; and one that changes
 * nothing, whose output must be the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hdr_rewrite.h"
#include "msg.h"
#include "rewrite.h"

static struct rewrite *active, *quiet;

static struct rewrite *
open_or_die(const struct rewrite_conf *c)
{
	struct buf err = BUF_INIT;
	struct rewrite *rw = rewrite_open(c, &err);

	if (rw == NULL)
		abort();
	buf_free(&err);
	return rw;
}

static void
init(void)
{
	struct rewrite_conf c = {
	    .myorigin = "host.example.com",
	    .mydomain = "example.com",
	    .mydestination = "host.example.com",
	    .recipient_delimiter = "+",
	    .propagate_unmatched_extensions = "canonical",
	    .swap_bangpath = 1,
	    .allow_percent_hack = 1,
	    .append_at_myorigin = 1,
	    .append_dot_mydomain = 1,
	    .canonical_maps = "inline:{ a@b=c@d, @x.test=@y.test }",
	    .canonical_classes = "header_sender, header_recipient",
	    .masquerade_domains = "example.com",
	    .masquerade_classes = "header_sender, header_recipient",
	    .expansion_limit = 10,
	    .recursion_limit = 10,
	    .address_length_limit = 100,
	};
	struct rewrite_conf q = {
	    .myorigin = "",
	    .mydomain = "",
	    .mydestination = "",
	    .recipient_delimiter = "",
	    .canonical_classes = "",
	    .masquerade_classes = "",
	    .expansion_limit = 10,
	    .recursion_limit = 10,
	    .address_length_limit = 100,
	};

	active = open_or_die(&c);
	quiet = open_or_die(&q);
}

static void
run(struct rewrite *rw, const uint8_t *p, size_t len, unsigned seed,
    struct buf *out)
{
	struct hdr_rewrite *hr = hdr_rewrite_begin(rw, "QID", 0);
	size_t off = 0, n;

	while (off < len) {
		if (seed == 0) {
			n = len - off;
		} else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 23;
			if (n > len - off)
				n = len - off;
		}
		hdr_rewrite_feed(hr, p + off, n, out);
		off += n;
	}
	hdr_rewrite_finish(hr, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct buf a = BUF_INIT, b = BUF_INIT;

	if (!ready) {
		msg_init("fuzz_hdr_rewrite");
		msg_log_to("/dev/null");
		init();
		ready = 1;
	}
	if (size < 1)
		return 0;
	unsigned seed = data[0] | 1u;
	data++;
	size--;
	run(active, data, size, 0, &a);
	run(active, data, size, seed, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_reset(&a);
	run(quiet, data, size, seed, &a);
	if (a.len != size || (size && memcmp(a.data, data, size) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
