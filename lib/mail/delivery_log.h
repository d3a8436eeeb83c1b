/*
 * delivery_log - the delivery-status log line, one per recipient and
 * attempt, in Postfix's shape so that pflogsumm and other log analysers
 * read it unchanged:
 *
 *   QUEUEID: to=<ADDR>, orig_to=<ADDR>, relay=R, delay=D,
 *   delays=a/b/c/d, dsn=X.Y.Z, status=S (TEXT)
 *
 * Who logs it: the delivery agent that tried (local, smtp), or qmgr for
 * what it decides without an agent (expiry, the error and retry
 * transports, routing failures, forwarded copies).  Everyone builds it
 * here, so the fields and the number formats cannot drift apart.
 *
 * Fields.  orig_to is printed only when it is set and differs from to
 * other than in case (as Postfix); it is an address as a user wrote it,
 * never xtext: a DSN ORCPT goes through delivery_log_orcpt() first.
 * delay is the time from arrival to the end of the attempt; delays splits
 * it into a = arrival to qmgr taking the message in hand, b = from there
 * to the agent receiving the request, c = the agent's connection set-up
 * (DNS, connect, greeting, EHLO, STARTTLS; 0 for an agent without one),
 * d = the transfer.  A stage that did not happen counts as 0 and its time
 * goes to the next stage that did (qmgr deciding alone: b runs to the
 * end, c and d are 0).  A stage that seems to end before it starts
 * (clock steps) counts as 0.
 *
 * Numbers (Postfix's rules, delay_logging_resolution_limit = N, 0..6,
 * default 2): at least 10 s is rounded to whole seconds ("13"); from 1 s
 * to 10 s one decimal ("1.2"); below 1 s two significant digits but never
 * more than N decimals ("0.23", "0.023" with N >= 3); rounding is half up
 * and may carry ("9.96" is "10"); trailing zeros and a bare point are
 * dropped ("1.5", "2", "0.05"); below half a unit of the N-th decimal is
 * "0".  N = 0 gives whole seconds everywhere.
 */
#ifndef PANACEA_DELIVERY_LOG_H
#define PANACEA_DELIVERY_LOG_H

#include "buf.h"

#define DELIVERY_LOG_DECIMALS_MAX 6

struct delivery_event {
	const char *queue_id;
	const char *to;
	const char *orig_to; /* NULL or "" for none; see above */
	const char *relay;   /* "local", "HOST[IP]:PORT", "none" */
	const char *dsn;     /* "2.0.0" */
	const char *status;  /* "sent", "deferred", "bounced", ... */
	const char *text;    /* the reason, without parentheses */
	/* Time stamps, seconds since the epoch; 0 when the stage did not
	 * happen (done: 0 for "now"). */
	double arrival;	   /* queued */
	double active;	   /* qmgr took the message in hand */
	double handoff;	   /* the agent received the request */
	double conn_setup; /* the agent's connection was ready */
	double done;	   /* the attempt ended */
};

/* Appends a delay of usec microseconds (negative counts as 0) with at
 * most decimals (0..DELIVERY_LOG_DECIMALS_MAX, clamped) decimals. */
void delivery_log_delay(struct buf *out, long long usec, int decimals);

/* Appends the line (without the program's prefix) for ev, with delays
 * formatted to at most decimals decimals. */
void delivery_log_format(struct buf *out, const struct delivery_event *ev,
			 int decimals);

/* Logs ev (msg_info) with delay_logging_resolution_limit's decimals. */
void delivery_log(const struct delivery_event *ev);

/* Sets out to the address of a DSN ORCPT ("rfc822;XTEXT", or XTEXT with
 * the type already removed), decoded, with control characters and DEL
 * as '?' so that one log line stays one line; the text as received
 * (likewise cleaned) when it is no valid xtext; "" for "". */
void delivery_log_orcpt(struct buf *out, const char *orcpt);

/* "sent" for class 2, "deferred" for 4, "bounced" for 5 (anything else
 * is "deferred": a result nobody understood is tried again). */
const char *delivery_log_status(int cls);

#endif
