/*
 * pop3_handoff - the pop3d front's hand-off list; see pop3_handoff.h.
 */
#include <string.h>

#include "attr_scan.h"
#include "auth_proto.h"
#include "pop3_handoff.h"
#include "xalloc.h"

static const struct attr_scan_spec handoff_spec[] = {
    ATTR_SCAN_ROW_STR("ticket", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE,
		      AUTH_PROTO_TICKET_LEN, AUTH_PROTO_TICKET_LEN,
		      struct pop3_handoff, ticket),
    ATTR_SCAN_ROW_STR("method", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 1,
		      POP3_HANDOFF_FIELD_MAX, struct pop3_handoff, method),
    ATTR_SCAN_ROW_STR("tls", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 0,
		      POP3_HANDOFF_FIELD_MAX, struct pop3_handoff, tls),
    ATTR_SCAN_END,
};

void
pop3_handoff_encode(const struct pop3_handoff *h, struct attr_list *out)
{
	attr_print(out, handoff_spec, h);
}

int
pop3_handoff_decode(const struct attr_list *in, struct pop3_handoff *h,
		    struct buf *why)
{
	if (attr_scan(in, handoff_spec, h, why) < 0)
		return -1;
	if (!auth_proto_ticket_ok(h->ticket)) {
		buf_puts(why, "bad attribute \"ticket\"");
		return -1;
	}
	return 0;
}

void
pop3_handoff_free(struct pop3_handoff *h)
{
	if (h->ticket)
		explicit_bzero(h->ticket, strlen(h->ticket));
	attr_scan_free(handoff_spec, h);
}
