/*
 * pop3_handoff - the list the pop3d front sends pop3session with one end
 * of a socketpair, for a logged-in session (pop3session/pop3session.c,
 * steps 2 and 3):
 *   ticket   the auth service's login ticket (AUTH_PROTO_TICKET_LEN
 *            lowercase hex digits), the only thing pop3session trusts
 *   method   how the client logged in ("USER", "APOP", "SASL PLAIN"...),
 *            for the log: 1 .. POP3_HANDOFF_FIELD_MAX bytes of one line
 *   tls      the TLS summary for the log, "" without TLS: 0 ..
 *            POP3_HANDOFF_FIELD_MAX bytes of one line
 *   socket   where the session is served: "relay", on the socketpair,
 *            which the front relays (TLS is on: its state lives in the
 *            front); or "client", on the client's own TCP connection
 *            (no TLS), which the session process asks the front for
 *            over the socketpair once it runs as the mailbox owner
 *            (pop3d/pop3d_relay.c), so that no root process ever holds
 *            it; "client" requires an empty tls
 *   input    with "client" only, optional: what the client sent after
 *            the login command and the front had already read
 *            (pipelining), 1 .. POP3_HANDOFF_INPUT_MAX bytes as
 *            canonical base64; with "relay" the front writes those bytes
 *            to the socketpair instead
 * ticket, method, tls and socket exactly once, input at most once,
 * nothing else (attr_scan.h); the whole list is at most
 * POP3_HANDOFF_LIST_MAX bytes.
 */
#ifndef PANACEA_POP3_HANDOFF_H
#define PANACEA_POP3_HANDOFF_H

#include "attr.h"
#include "buf.h"

#define POP3_HANDOFF_FIELD_MAX 400
/* One read of the front's stream (lib/util/stream.c) is at most 16 KiB,
 * so this is all a front can hold after the login line. */
#define POP3_HANDOFF_INPUT_MAX 16384
#define POP3_HANDOFF_INPUT_B64_MAX ((POP3_HANDOFF_INPUT_MAX + 2) / 3 * 4)
#define POP3_HANDOFF_LIST_MAX                                                  \
	(POP3_HANDOFF_INPUT_B64_MAX + 2 * POP3_HANDOFF_FIELD_MAX + 1024)

#define POP3_HANDOFF_RELAY "relay"
#define POP3_HANDOFF_CLIENT "client"

struct pop3_handoff {
	char *ticket;
	char *method;
	char *tls;
	int client;	  /* socket: 1 "client", 0 "relay" */
	struct buf input; /* raw bytes; empty when absent */
};

/* Every string field set; input may be empty; with client set, tls
 * must be "" and input at most POP3_HANDOFF_INPUT_MAX bytes (a caller's
 * bug otherwise: fatal). */
void pop3_handoff_encode(const struct pop3_handoff *h, struct attr_list *out);
/* h zeroed by the caller; 0, or -1 with the reason appended to why; either
 * way pop3_handoff_free() releases it (the ticket is wiped, and so is
 * the input: it may hold the client's next commands). */
int pop3_handoff_decode(const struct attr_list *in, struct pop3_handoff *h,
			struct buf *why);
void pop3_handoff_free(struct pop3_handoff *h);

#endif
