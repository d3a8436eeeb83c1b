/*
 * xtext - RFC 3461 section 4 "xtext" encoding.
 *
 * xtext carries arbitrary octets in ESMTP parameter values (ENVID, ORCPT,
 * AUTH=): the printable ASCII characters "!" to "~" stand for themselves,
 * except "+" and "=", and every other octet is written "+XX" with two
 * upper-case hex digits.
 *
 * Contract:
 *  - xtext_encode() appends the encoding of len bytes (any value, NULs
 *    included) to out; the result is always valid xtext;
 *  - xtext_decode() appends the decoded octets to out and returns 0, or
 *    returns -1 when s is not valid xtext (out then holds a partial result
 *    that the caller must ignore).  The decoded value may contain any octet,
 *    NUL included: callers that log or store it as text must check it;
 *  - xtext_valid() says whether s is valid xtext without decoding it.
 * The decoder accepts lower-case hex digits too (the RFC grammar says
 * upper case, but being strict there only breaks sloppy clients and buys
 * nothing); the encoder always writes upper case.  Empty input is valid.
 */
#ifndef PANACEA_XTEXT_H
#define PANACEA_XTEXT_H

#include <stddef.h>

#include "buf.h"

void xtext_encode(struct buf *out, const void *data, size_t len);
int xtext_decode(struct buf *out, const char *s, size_t len);
int xtext_valid(const char *s, size_t len);

#endif
