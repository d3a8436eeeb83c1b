/*
 * anvil_proto - the requests and replies of the anvil service
 * (private/anvil, anvil/), Postfix's anvil(8) protocol as attribute lists
 * (attr.h) with one scan table each (attr_scan.h), so that smtpd's
 * encoder and anvil's decoder cannot disagree (and are fuzzed:
 * tests/fuzz/fuzz_anvil_proto.c).
 *
 * A connection is long-lived (one smtpd process, all its sessions) and
 * carries one request and one reply at a time:
 *
 *   request  connect | disconnect | message | recipient | newtls |
 *            newtls_report | auth           (one word, exactly once)
 *   ident    "SERVICE:CLIENT_ADDRESS": what anvil counts by; anvil
 *            does not look inside it (1 .. ANVIL_IDENT_MAX bytes of one
 *            line, exactly once)
 *
 *   status   0 done, -1 refused (a malformed request, a disconnect of an
 *            ident this connection did not connect, too many idents on
 *            one connection)
 *   count    connect: the client's connections in flight, this one
 *            included
 *   rate     connect, message, recipient, newtls, auth: the events of
 *            this kind in the current time unit (anvil_rate_time_unit),
 *            this one included; newtls_report: the same without counting
 *            one
 * The reply always holds all three (0 when they do not apply).  A whole
 * list is at most ANVIL_PROTO_LIST_MAX bytes.
 */
#ifndef PANACEA_ANVIL_PROTO_H
#define PANACEA_ANVIL_PROTO_H

#include "attr.h"
#include "buf.h"

#define ANVIL_SERVICE "private/anvil"
#define ANVIL_PROTO_LIST_MAX 1024
#define ANVIL_IDENT_MAX 300
#define ANVIL_VALUE_MAX 2147483647LL /* counts and rates are C ints */

enum anvil_request_type {
	ANVIL_REQ_CONNECT,
	ANVIL_REQ_DISCONNECT,
	ANVIL_REQ_MESSAGE,
	ANVIL_REQ_RECIPIENT,
	ANVIL_REQ_NEWTLS,
	ANVIL_REQ_NEWTLS_REPORT,
	ANVIL_REQ_AUTH,
	ANVIL_REQ_COUNT
};

struct anvil_request {
	enum anvil_request_type type;
	char *ident;
};

struct anvil_reply {
	long long status; /* 0 or -1 */
	long long count;
	long long rate;
};

/* The request's word ("connect", ...), for the wire and the log. */
const char *anvil_request_name(enum anvil_request_type type);

/* r->ident set. */
void anvil_request_encode(const struct anvil_request *r, struct attr_list *out);
/* r zeroed by the caller; 0, or -1 with the reason appended to why;
 * either way anvil_request_free() releases it. */
int anvil_request_decode(const struct attr_list *in, struct anvil_request *r,
			 struct buf *why);
void anvil_request_free(struct anvil_request *r);

void anvil_reply_encode(const struct anvil_reply *r, struct attr_list *out);
/* r zeroed by the caller (nothing to free); 0, or -1 with why. */
int anvil_reply_decode(const struct attr_list *in, struct anvil_reply *r,
		       struct buf *why);

#endif
