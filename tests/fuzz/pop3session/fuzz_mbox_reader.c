/*
 * fuzz_mbox_reader - libFuzzer target for pop3session/mbox_reader.
 *
 * The input is an mbox.  Checks: the result is the same whether the input
 * comes in one piece or byte by byte; messages are in order and inside
 * the input, each starts with "From " at the start of the input or after
 * an empty line; each size equals what pop3_wire makes of the message's
 * bytes; UIDLs are MBOX_UIDL_LEN hex digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbox_reader.h"
#include "pop3_cmd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct mbox_scan one, each;
	struct pop3_wire w;
	unsigned long long prev_end = 0;
	int s1, s2;

	mbox_scan_init(&one);
	mbox_scan_feed(&one, in, size);
	s1 = mbox_scan_finish(&one);
	mbox_scan_init(&each);
	for (size_t i = 0; i < size; i++)
		mbox_scan_feed(&each, in + i, 1);
	s2 = mbox_scan_finish(&each);
	if (s1 != s2 || one.count != each.count)
		abort();
	if (s1 != MBOX_SCAN_OK && one.count != 0 && in[0] != 'F')
		abort();
	for (size_t i = 0; i < one.count && s1 == MBOX_SCAN_OK; i++) {
		const struct mbox_msg *m = &one.msgs[i];

		if (memcmp(m, &each.msgs[i], sizeof(*m)) != 0)
			abort();
		if (m->start < prev_end || m->start > m->body ||
		    m->body > m->end || m->end > size ||
		    memcmp(in + m->start, "From ", 5) != 0)
			abort();
		if (m->start > 0 && in[m->start - 1] != '\n')
			abort();
		pop3_wire_init(&w, POP3_WIRE_UNQUOTE, -1);
		pop3_wire_feed(&w, in + m->body, (size_t)(m->end - m->body),
			       NULL);
		pop3_wire_finish(&w, NULL);
		if (w.octets != m->octets)
			abort();
		if (strlen(m->uidl) != MBOX_UIDL_LEN ||
		    strspn(m->uidl, "0123456789abcdef") != MBOX_UIDL_LEN)
			abort();
		prev_end = m->end;
	}
	mbox_scan_free(&one);
	mbox_scan_free(&each);
	return 0;
}
