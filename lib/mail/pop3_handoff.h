/*
 * pop3_handoff - the list the pop3d front sends pop3session with a
 * client's session socket (pop3session/pop3session.c, steps 2 and 3):
 *   ticket   the auth service's login ticket (AUTH_PROTO_TICKET_LEN
 *            lowercase hex digits), the only thing pop3session trusts
 *   method   how the client logged in ("USER", "APOP", "SASL PLAIN"...),
 *            for the log: 1 .. POP3_HANDOFF_FIELD_MAX bytes of one line
 *   tls      the TLS summary for the log, "" without TLS: 0 ..
 *            POP3_HANDOFF_FIELD_MAX bytes of one line
 * Each exactly once, nothing else (attr_scan.h); the whole list is at
 * most POP3_HANDOFF_LIST_MAX bytes.
 */
#ifndef PANACEA_POP3_HANDOFF_H
#define PANACEA_POP3_HANDOFF_H

#include "attr.h"
#include "buf.h"

#define POP3_HANDOFF_LIST_MAX 1024
#define POP3_HANDOFF_FIELD_MAX 400

struct pop3_handoff {
	char *ticket;
	char *method;
	char *tls;
};

/* Every field set. */
void pop3_handoff_encode(const struct pop3_handoff *h, struct attr_list *out);
/* h zeroed by the caller; 0, or -1 with the reason appended to why; either
 * way pop3_handoff_free() releases it (the ticket is wiped). */
int pop3_handoff_decode(const struct attr_list *in, struct pop3_handoff *h,
			struct buf *why);
void pop3_handoff_free(struct pop3_handoff *h);

#endif
