/*
 * hdr_rewrite - canonical mapping and masquerading of the addresses in a
 * message's primary header (Postfix's cleanup does it after the header
 * checks, before the queue file), as canonical_classes and
 * masquerade_classes allow (header_sender, header_recipient).
 *
 * Sender fields: From, Sender, Resent-From, Resent-Sender, Errors-To,
 * Return-Receipt-To; recipient fields: To, Cc, Bcc, Apparently-To,
 * Reply-To, Resent-To, Resent-Cc, Resent-Bcc, Resent-Reply-To (names
 * case-insensitive).  In such a field each address (the addr-spec inside
 * <...>, or a bare one: words, quoted strings, dots, '@' and a domain or
 * domain literal with no blank or comment inside) is rewritten with
 * lib/rewrite.h's rewrite_addr() (the standard form too: "joe" becomes
 * "joe@$myorigin"); everything else of the field (phrases, comments,
 * folding, group names, a route "@a,@b:") is kept byte for byte.  A field
 * whose addresses do not change is passed on unchanged.  A table that
 * cannot answer leaves an address as it is (the message is not refused
 * for a header, as the envelope already decided) and is logged.
 *
 * The filter is fed the content as it is stored (CRLF lines, the
 * Received: header of the receiving program first) and rewrites until
 * the first empty line; the body goes through untouched, so memory use is
 * one header field at most (which smtp_data bounds by
 * header_size_limit).
 */
#ifndef PANACEA_HDR_REWRITE_H
#define PANACEA_HDR_REWRITE_H

#include <stddef.h>

#include "buf.h"
#include "rewrite.h"

struct hdr_rewrite;

/* NULL when rw is NULL (callers then pass the content on themselves).
 * id names the message in logs; remote: a remote client's header
 * (REWRITE_REMOTE: remote_header_rewrite_domain completes addresses). */
struct hdr_rewrite *hdr_rewrite_begin(struct rewrite *rw, const char *id,
				      int remote);
/* Appends to out what of data is decided (a header field is held until
 * the next line shows it is complete). */
void hdr_rewrite_feed(struct hdr_rewrite *hr, const void *data, size_t len,
		      struct buf *out);
/* Appends what is held and frees hr (NULL is fine). */
void hdr_rewrite_finish(struct hdr_rewrite *hr, struct buf *out);

/* The pure part: rewrites the addresses of the field value (the text
 * after "Name:", folding included) into out; klass is REWRITE_HDR_SENDER
 * or REWRITE_HDR_RECIPIENT, maybe with REWRITE_REMOTE.  Returns 1 when an
 * address changed, 0 when out is a copy of value. */
int hdr_rewrite_value(struct rewrite *rw, int klass, const char *value,
		      size_t len, struct buf *out);

#endif
