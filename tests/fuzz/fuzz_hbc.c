/*
 * fuzz_hbc - libFuzzer target for lib/hbc (header and body checks).
 *
 * The first input byte picks small limits and MIME on or off, the second
 * a seed for split points; the rest is message content.  Fixed tables
 * with every editing action (IGNORE, PREPEND, REPLACE, WARN, HOLD, PASS,
 * REJECT on a rare word) run on it at once and in pseudo-random pieces:
 * output and result must agree, and without a match that edits, the
 * output must be the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hbc.h"
#include "maps.h"
#include "msg.h"

static struct maps *tables[HBC_CLASSES];
static struct maps *quiet[HBC_CLASSES];

static struct maps *
open_or_die(const char *spec)
{
	struct buf err = BUF_INIT;
	struct maps *m = maps_open(spec, &err);

	if (m == NULL)
		abort();
	buf_free(&err);
	return m;
}

static void
init(void)
{
	tables[HBC_HEADER] = open_or_die(
	    "regexp:{ {/^X-Drop:/ IGNORE}, {/^X-Pre:/ PREPEND X-Added: 1}, "
	    "{/^X-Rep:(.*)/ REPLACE X-Was:$1}, {/^X-Hold:/ HOLD}, "
	    "{/^X-Rej:/ REJECT no} }");
	tables[HBC_MIME] = open_or_die(
	    "pcre:{ {/name=.*\\.exe/ REJECT exe}, {/^Content-/ WARN m} }");
	tables[HBC_NESTED] =
	    open_or_die("pcre:{ {/^Subject:/ PREPEND X-Nested: 1} }");
	tables[HBC_BODY] = open_or_die(
	    "regexp:{ {/^drop/ IGNORE}, {/^pass/ PASS}, {/^rep/ REPLACE r} }");
	/* Tables that never edit: output must equal input. */
	quiet[HBC_HEADER] = open_or_die("regexp:{ {/^Q/ WARN q} }");
	quiet[HBC_BODY] = open_or_die("pcre:{ {/^q/ INFO q} }");
}

static void
run(const struct hbc_config *cfg, const uint8_t *p, size_t len, unsigned seed,
    struct buf *out, unsigned *flags)
{
	struct hbc *h = hbc_new(cfg, "QID", "from x[1.2.3.4];");
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
		hbc_feed(h, p + off, n, out);
		off += n;
	}
	hbc_finish(h, out);
	*flags = hbc_result(h)->flags;
	hbc_free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct hbc_config cfg = {0};
	struct buf a = BUF_INIT, b = BUF_INIT;
	unsigned fa, fb;

	if (!ready) {
		msg_init("fuzz_hbc");
		msg_log_to("/dev/null");
		init();
		ready = 1;
	}
	if (size < 2)
		return 0;
	cfg.line_limit = 8 + (data[0] & 0x1f);
	cfg.header_limit = 16 + (data[0] & 0x3f) * 4;
	cfg.boundary_limit = 4 + (data[0] & 7);
	cfg.nesting_limit = 1 + (data[0] & 3);
	cfg.body_size_limit = (data[0] & 0x40) ? 64 : 1 << 20;
	cfg.disable_mime = (data[0] & 0x80) != 0;
	cfg.actions = HBC_ALL_ACTIONS;
	memcpy(cfg.maps, tables, sizeof(tables));
	run(&cfg, data + 2, size - 2, 0, &a, &fa);
	run(&cfg, data + 2, size - 2, data[1] | 1u, &b, &fb);
	if (fa != fb || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_reset(&a);
	buf_reset(&b);
	memcpy(cfg.maps, quiet, sizeof(quiet));
	run(&cfg, data + 2, size - 2, data[1] | 1u, &a, &fa);
	if (a.len != size - 2 || memcmp(a.data, data + 2, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
