/*
 * content_filter - the route a message with a content filter takes:
 * "transport:destination", from content_filter or from a FILTER action
 * of an access(5), header_checks or body_checks table (Postfix's
 * FILTER_README).  The queue keeps the value with the message
 * (struct queue_envelope.filter) and qmgr sends every recipient there,
 * whatever its own route; the filter hands the message back through an
 * smtpd whose content_filter is empty.
 *
 * A value is valid when the transport is 1..CONTENT_FILTER_TRANSPORT_MAX
 * octets of [A-Za-z0-9._-] (a services table name, not starting with
 * '.'), followed by ':' and a destination of at most
 * CONTENT_FILTER_DEST_MAX printable octets without white space (empty:
 * qmgr uses default_filter_nexthop, else the recipient's domain).  The
 * same bounds as qmgr's routes, so a value accepted here is never
 * refused there.
 */
#ifndef PANACEA_CONTENT_FILTER_H
#define PANACEA_CONTENT_FILTER_H

#include "buf.h"

#define CONTENT_FILTER_TRANSPORT_MAX 64
#define CONTENT_FILTER_DEST_MAX 300

/* 1 when spec is a valid "transport:destination", 0 when not. */
int content_filter_valid(const char *spec);

/* receive_override_options (postconf(5)): what the program that queues
 * a message leaves out, typically the smtpd a content filter hands mail
 * back to. */
#define RECEIVE_NO_UNKNOWN_RECIPIENT_CHECKS 0x01
#define RECEIVE_NO_HEADER_BODY_CHECKS 0x02
#define RECEIVE_NO_ADDRESS_MAPPINGS 0x04
#define RECEIVE_NO_MILTERS 0x08

/* The RECEIVE_* bits of value (words separated by commas or white
 * space); -1 with err for a word Panacea does not know. */
int receive_override_parse(const char *value, unsigned *flags, struct buf *err);

#endif
