/*
 * pop3_handoff - the pop3d front's hand-off list; see pop3_handoff.h.
 *
 * The table scans into a wire struct of strings; decode then checks
 * what a table cannot say (the ticket's form, the socket's two values,
 * input only with "client", tls empty with "client") and turns socket
 * and input into the public struct's int and bytes.
 */
#include <string.h>

#include "attr_scan.h"
#include "auth_proto.h"
#include "base64.h"
#include "msg.h"
#include "pop3_handoff.h"
#include "xalloc.h"

struct handoff_wire {
	char *ticket;
	char *method;
	char *tls;
	char *socket;
	char *input; /* base64; NULL when absent */
};

static const struct attr_scan_spec handoff_spec[] = {
    ATTR_SCAN_ROW_STR("ticket", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE,
		      AUTH_PROTO_TICKET_LEN, AUTH_PROTO_TICKET_LEN,
		      struct handoff_wire, ticket),
    ATTR_SCAN_ROW_STR("method", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 1,
		      POP3_HANDOFF_FIELD_MAX, struct handoff_wire, method),
    ATTR_SCAN_ROW_STR("tls", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 0,
		      POP3_HANDOFF_FIELD_MAX, struct handoff_wire, tls),
    ATTR_SCAN_ROW_STR("socket", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 5, 6,
		      struct handoff_wire, socket),
    ATTR_SCAN_ROW_STR("input", ATTR_SCAN_LINE, 4, POP3_HANDOFF_INPUT_B64_MAX,
		      struct handoff_wire, input),
    ATTR_SCAN_END,
};

void
pop3_handoff_encode(const struct pop3_handoff *h, struct attr_list *out)
{
	struct handoff_wire w = {
	    .ticket = h->ticket,
	    .method = h->method,
	    .tls = h->tls,
	    .socket = h->client ? POP3_HANDOFF_CLIENT : POP3_HANDOFF_RELAY,
	};
	struct buf b64 = BUF_INIT;

	if (h->input.len > 0) {
		if (!h->client || h->input.len > POP3_HANDOFF_INPUT_MAX)
			msg_panic("pop3_handoff_encode: %zu bytes of input "
				  "with socket %s",
				  h->input.len, w.socket);
		base64_encode(&b64, h->input.data, h->input.len);
		w.input = (char *)buf_cstr(&b64);
	}
	if (h->client && *h->tls != '\0')
		msg_panic("pop3_handoff_encode: a client socket with TLS");
	attr_print(out, handoff_spec, &w);
	buf_free(&b64);
}

static int
refuse(struct buf *why, const char *name)
{
	buf_printf(why, "bad attribute \"%s\"", name);
	return -1;
}

int
pop3_handoff_decode(const struct attr_list *in, struct pop3_handoff *h,
		    struct buf *why)
{
	struct handoff_wire w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	if (attr_scan(in, handoff_spec, &w, why) < 0)
		goto out;
	/* Taken over now, so that pop3_handoff_free() wipes the ticket
	 * whatever follows. */
	h->ticket = w.ticket;
	h->method = w.method;
	h->tls = w.tls;
	w.ticket = w.method = w.tls = NULL;
	if (!auth_proto_ticket_ok(h->ticket)) {
		refuse(why, "ticket");
		goto out;
	}
	if (strcmp(w.socket, POP3_HANDOFF_CLIENT) == 0)
		h->client = 1;
	else if (strcmp(w.socket, POP3_HANDOFF_RELAY) != 0) {
		refuse(why, "socket");
		goto out;
	}
	/* The client's socket is passed only when no TLS is on it. */
	if (h->client && *h->tls != '\0') {
		refuse(why, "tls");
		goto out;
	}
	if (w.input != NULL &&
	    (!h->client ||
	     base64_decode(&h->input, w.input, strlen(w.input),
			   POP3_HANDOFF_INPUT_MAX) < 0 ||
	     h->input.len == 0)) {
		refuse(why, "input");
		goto out;
	}
	rc = 0;
out:
	if (w.input)
		explicit_bzero(w.input, strlen(w.input));
	if (w.ticket)
		explicit_bzero(w.ticket, strlen(w.ticket));
	attr_scan_free(handoff_spec, &w);
	return rc;
}

void
pop3_handoff_free(struct pop3_handoff *h)
{
	if (h->ticket)
		explicit_bzero(h->ticket, strlen(h->ticket));
	if (h->input.data)
		explicit_bzero(h->input.data, h->input.len);
	xfree(h->ticket);
	xfree(h->method);
	xfree(h->tls);
	buf_free(&h->input);
	h->ticket = h->method = h->tls = NULL;
	h->client = 0;
}
