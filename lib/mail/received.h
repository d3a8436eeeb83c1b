/*
 * received - builds the Received: header smtpd prepends (RFC 5321 4.4).
 *
 * The shape is Postfix's, so that log and header tools read it unchanged:
 *
 *   Received: from HELO (RDNS [IP])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
 *   	(Authenticated sender: NAME)
 *   	by MYHOSTNAME (Panacea) with ESMTPSA id QUEUEID
 *   	for <rcpt@example.org>; Sat, 28 Nov 2026 19:01:01 +0000
 *
 * Contract:
 *  - received_build() appends the whole header, folded as above, every
 *    line ending in CRLF, to out; it does no I/O and reads no global
 *    state except the time zone (localtime_r; call tzset() before chroot);
 *  - the TLS line appears only when tls_protocol is set, the
 *    "Authenticated sender" line only when auth_sender is set (Postfix's
 *    smtpd_sasl_authenticated_header), "for <rcpt>" only when rcpt is set
 *    (the caller passes it only for a single-recipient message); without
 *    it the date goes on its own line after "id QUEUEID;";
 *  - the protocol is SMTP (HELO), ESMTP (EHLO) or UTF8SMTP (SMTPUTF8),
 *    with "S" appended for TLS and "A" for an authenticated client
 *    (RFC 3848, RFC 6531): ESMTPSA, UTF8SMTPS, ...;
 *  - every client-supplied string is sanitised so that it cannot break
 *    the header's structure: HELO, rDNS, address, TLS names and the
 *    authenticated name keep [A-Za-z0-9] and "-._:[]@+=/" and have every
 *    other octet (CR, LF, parentheses, ';', spaces, 8-bit...) replaced by
 *    '_', and are truncated to 255 octets; the recipient (already a valid
 *    path from addr.h) only has control octets replaced;
 *  - missing names are written "unknown", as Postfix does; an IPv6
 *    address is written [IPv6:...];
 *  - the date is RFC 5322 with a numeric zone, English names.
 */
#ifndef PANACEA_RECEIVED_H
#define PANACEA_RECEIVED_H

#include <time.h>

#include "buf.h"

struct received_info {
	const char *helo;	 /* HELO/EHLO argument, or NULL */
	const char *client_name; /* verified reverse DNS name, or NULL */
	const char *client_addr; /* printable IP address */
	const char *myhostname;
	const char *queue_id;
	const char *rcpt; /* the single recipient (without <>), or NULL */
	int esmtp;	  /* EHLO (else HELO) */
	int smtputf8;	  /* SMTPUTF8 transaction */
	int authenticated;
	const char *auth_sender;  /* name to show, or NULL (the default) */
	const char *tls_protocol; /* "TLSv1.3", or NULL without TLS */
	const char *tls_cipher;
	int tls_bits;	     /* cipher bits used */
	int tls_alg_bits;    /* cipher algorithm bits */
	const char *tls_kex; /* "key-exchange ...", or NULL */
	int tls;	     /* over TLS ("ESMTPS"), with or without the line */
	time_t when;
};

void received_build(struct buf *out, const struct received_info *ri);

/* RFC 5322 date-time of t in the local zone: "Sat, 28 Nov 2026 ... +0000". */
void received_date(struct buf *out, time_t t);

#endif
