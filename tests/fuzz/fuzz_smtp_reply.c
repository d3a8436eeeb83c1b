/*
 * fuzz_smtp_reply - libFuzzer target for lib/smtp_reply.
 *
 * The input is split at newlines into reply lines and fed until the
 * reply ends or is refused; a complete 2xx reply is also parsed as an
 * EHLO capability list.  Beyond "no crash", it checks the contract: the
 * text stays bounded and printable, the enhanced code (when any) is well
 * formed and of the reply's class, and the mechanism list fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"

static void
check_printable(const struct buf *b, int newlines_ok)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\n' && newlines_ok)
			continue;
		if (c < 0x20 || c > 0x7e)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	struct smtp_caps caps;
	int st = SMTP_REPLY_MORE;

	smtp_reply_init(&r);
	while (p < end && st == SMTP_REPLY_MORE) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		st = smtp_reply_feed(&r, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (r.text.len > SMTP_REPLY_TEXT_MAX || r.nlines > SMTP_REPLY_LINES_MAX)
		abort();
	check_printable(&r.text, 0);
	check_printable(&r.lines, 1);
	if (st == SMTP_REPLY_DONE) {
		if (r.code < 200 || r.code > 559)
			abort();
		if (r.dsn[0] != '\0' &&
		    (r.dsn[0] - '0' != r.code / 100 ||
		     smtp_dsn_prefix(r.dsn, strlen(r.dsn)) != strlen(r.dsn)))
			abort();
		smtp_ehlo_parse(&r, &caps);
		if (memchr(caps.auth_mechs, '\0', sizeof(caps.auth_mechs)) ==
		    NULL)
			abort();
	}
	smtp_reply_free(&r);
	return 0;
}
