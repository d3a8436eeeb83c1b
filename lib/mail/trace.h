/*
 * trace - a delivered message's path, as its header tells it: one line
 * per Received: hop (from, by, with, id, date) and per
 * Authentication-Results: field (authserv-id and verdicts), top to
 * bottom, each marked as written by this host ("ours", trustworthy) or
 * by someone else ("outside", which anyone upstream could have forged).
 *
 * Trust follows the order of the fields, since each host adds its
 * fields on top: the topmost Received: is ours when its "by" names this
 * host, and each one below it is ours only while the hop above it
 * received the message from this host (its HELO name or client name is
 * this host or localhost: a content filter, a reinjection).  Every
 * other field below came with the message, even one that claims this
 * host's name (marked "outside, claims this host").  An
 * Authentication-Results: field is ours when its authserv-id is this
 * host's and it is above our lowest Received: (RFC 8601 5: a receiver
 * adds its field on top and removes fields with its own authserv-id
 * that arrive with a message).
 *
 * Input: the message as stored or delivered (CRLF or LF lines; an mbox
 * "From " line first is skipped); only the header section is read.
 * Output lines:
 *   N ours|outside: from X; by Y; with Z; id W; date D
 *     auth ours|outside: AUTHSERV-ID: method=result ...; method=result ...
 * Control characters are shown as '?'.
 */
#ifndef PANACEA_TRACE_H
#define PANACEA_TRACE_H

#include <stddef.h>

#include "buf.h"

/* Writes the trace of msg (len bytes) into out for a host named host
 * (its myhostname, also its authserv-id); returns the number of
 * Received: hops. */
int trace_message(const char *msg, size_t len, const char *host,
		  struct buf *out);

/* The parts of one Received: field value ("-" for a missing part);
 * each at most TRACE_PART_MAX bytes. */
#define TRACE_PART_MAX 256
struct trace_hop {
	char from[TRACE_PART_MAX];
	char by[TRACE_PART_MAX];
	char with[TRACE_PART_MAX];
	char id[TRACE_PART_MAX];
	char date[TRACE_PART_MAX];
};
void trace_received(const char *value, size_t len, struct trace_hop *hop);

#endif
