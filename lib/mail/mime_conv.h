/*
 * mime_conv - a message made fit for a hop: 8-bit MIME to 7-bit, and
 * lines no longer than the SMTP limit (the smtp client's
 * disable_mime_output_conversion and smtp_line_length_limit).
 *
 * Two passes over the same content, each fed in any pieces:
 *  1. mime_conv_scan() / mime_conv_scan_end(): the MIME structure
 *     (lib/mail/mime) and, per part, whether its body has 8-bit octets
 *     and lines longer than line_limit;
 *  2. mime_conv_plan() decides, mime_conv_feed() / mime_conv_finish()
 *     write the converted content (lines end in CR LF).
 * Pass 2 needs pass 1 because a part's headers come before its body: a
 * part is re-encoded, and its Content-Transfer-Encoding rewritten, only
 * when its body needs it.
 *
 * What pass 2 does (mime_conv_plan(), downgrade set when the next hop
 * lacks 8BITMIME):
 *  - a leaf part of a MIME message (MIME-Version in the primary
 *    headers) declared 7bit, 8bit or binary (or not declared) whose body
 *    has 8-bit octets (when downgrading) or a line longer than line_limit
 *    is re-encoded as quoted-printable, its Content-Transfer-Encoding
 *    replaced (or added) as "quoted-printable": its content survives
 *    exactly, which breaking its lines would not guarantee;
 *  - when downgrading, a part declared 8bit or binary that is not
 *    re-encoded (a multipart, an attached message, a leaf with no 8-bit
 *    octet) is relabelled "7bit";
 *  - what cannot be converted is left as is and reported by
 *    mime_conv_flags(): 8-bit octets in headers (MIME_CONV_8BIT_HEADER),
 *    in a body that is no MIME leaf of an identity encoding (a non-MIME
 *    message, a preamble or epilogue, a part declared base64 or
 *    quoted-printable: MIME_CONV_8BIT_BODY);
 *  - other lines longer than line_limit are broken as Postfix does:
 *    header lines folded at the last white space that fits, else (and
 *    body lines always) by inserting CR LF and a space.
 * Memory: the parser's bound, one line piece (MIME_CONV_PIECE octets, or
 * boundary_limit + 4 when larger), and three octets per part.
 */
#ifndef PANACEA_MIME_CONV_H
#define PANACEA_MIME_CONV_H

#include <stddef.h>

#include "buf.h"
#include "mime.h"

#define MIME_CONV_PIECE 65536

/* mime_conv_flags() after pass 1 */
#define MIME_CONV_8BIT 0x01	   /* an 8-bit octet anywhere */
#define MIME_CONV_LONG 0x02	   /* a line longer than line_limit */
#define MIME_CONV_8BIT_HEADER 0x04 /* ... in a header: not convertible */
#define MIME_CONV_8BIT_BODY 0x08   /* ... in a body not convertible */
#define MIME_CONV_NESTING 0x10	   /* MIME_ERR_NESTING */
#define MIME_CONV_MIME 0x20	   /* MIME-Version in the primary headers */

struct mime_conv_opts {
	struct mime_limits lim;
	size_t line_limit; /* smtp_line_length_limit; 0: none */
};

struct mime_conv;

struct mime_conv *mime_conv_new(const struct mime_conv_opts *o);
void mime_conv_free(struct mime_conv *c);

/* Pass 1. */
void mime_conv_scan(struct mime_conv *c, const void *p, size_t len);
void mime_conv_scan_end(struct mime_conv *c);
/* MIME_CONV_* of the content scanned; MIME_CONV_8BIT_HEADER and
 * MIME_CONV_8BIT_BODY as if downgrading. */
unsigned mime_conv_flags(const struct mime_conv *c);

/* Decides pass 2; returns 1 when it changes the content, 0 when the
 * content may be sent as it is (pass 2 then copies). */
int mime_conv_plan(struct mime_conv *c, int downgrade);

/* Pass 2: appends the converted content to out. */
void mime_conv_feed(struct mime_conv *c, const void *p, size_t len,
		    struct buf *out);
void mime_conv_finish(struct mime_conv *c, struct buf *out);

#endif
