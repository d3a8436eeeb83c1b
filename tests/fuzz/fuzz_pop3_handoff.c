/*
 * fuzz_pop3_handoff - libFuzzer target for the pop3d front's hand-off
 * list (lib/pop3_handoff) as pop3session reads it: any bytes, decoded
 * with its limit; an accepted list keeps the contract (the ticket's
 * form, fields within bounds, input only with the client's socket and
 * within POP3_HANDOFF_INPUT_MAX, no TLS with the client's socket) and
 * re-encodes to the same list, a refused one has a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "auth_proto.h"
#include "buf.h"
#include "pop3_handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_list l = ATTR_LIST_INIT, again = ATTR_LIST_INIT;
	struct buf why = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct pop3_handoff h;
	size_t used;

	memset(&h, 0, sizeof(h));
	if (attr_decode((const char *)data, size, POP3_HANDOFF_LIST_MAX, &l,
			&used) != ATTR_OK)
		goto out;
	if (pop3_handoff_decode(&l, &h, &why) < 0) {
		if (why.len == 0)
			abort();
		goto out;
	}
	if (!auth_proto_ticket_ok(h.ticket) || *h.method == '\0' ||
	    strlen(h.method) > POP3_HANDOFF_FIELD_MAX ||
	    strlen(h.tls) > POP3_HANDOFF_FIELD_MAX ||
	    h.input.len > POP3_HANDOFF_INPUT_MAX ||
	    (h.input.len > 0 && !h.client) || (h.client && *h.tls != '\0'))
		abort();
	/* Four attributes, five with input, in any order: the encoding
	 * (canonical base64 for input) has the same length. */
	pop3_handoff_encode(&h, &again);
	attr_encode(&l, &a);
	attr_encode(&again, &b);
	if (l.count != (h.input.len > 0 ? 5u : 4u) || again.count != l.count ||
	    a.len != b.len)
		abort();
out:
	pop3_handoff_free(&h);
	attr_list_free(&l);
	attr_list_free(&again);
	buf_free(&why);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
