/*
 * smtpd_policy_proto - Postfix's policy delegation protocol
 * (SMTPD_POLICY_README), the codec alone: no sockets, so that the unit
 * test and the fuzz target see exactly what smtpd sends and accepts.
 *
 * Request: "name=value" lines ended by an empty line.  A value never
 * carries a newline or another control character (each becomes '?'),
 * so that a client cannot smuggle attributes through its HELO name or
 * address; a value is cut at POLICY_VALUE_MAX bytes.
 *
 * Reply: "name=value" lines ended by an empty line; the one smtpd acts on
 * is "action=" (an access(5) value), other attributes are ignored as in
 * Postfix.  A reply without action, with a line that is not
 * "name=value", with more than POLICY_REPLY_LINES lines or a line over
 * POLICY_LINE_MAX bytes is malformed: smtpd then applies the default
 * action.
 */
#ifndef PANACEA_SMTPD_POLICY_PROTO_H
#define PANACEA_SMTPD_POLICY_PROTO_H

#include <stddef.h>

#include "buf.h"

#define POLICY_VALUE_MAX 2048
#define POLICY_LINE_MAX 4096
#define POLICY_REPLY_LINES 100

/* Appends "name=value\n"; value NULL is "". */
void policy_request_add(struct buf *out, const char *name, const char *value);
/* Ends a request: the empty line. */
void policy_request_end(struct buf *out);

struct policy_reply {
	struct buf action; /* the value of action= */
	int have_action;
	size_t lines;
	int done;
};

void policy_reply_init(struct policy_reply *r);
void policy_reply_free(struct policy_reply *r);
/* One line of a reply, without its newline (a final '\r' is dropped):
 * 0 more lines wanted, 1 the reply is complete, -1 malformed (err). */
int policy_reply_line(struct policy_reply *r, const char *line, size_t len,
		      struct buf *err);

#endif
