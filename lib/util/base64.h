/*
 * base64 - RFC 4648 base64, strict and bounded.
 *
 * Used for SASL exchanges (SMTP AUTH, POP3 AUTH: RFC 4954, RFC 5034) and
 * anywhere else binary data crosses a text protocol.
 *
 * Contract:
 *  - base64_encode() appends the padded encoding of len bytes to out; no
 *    line breaks are ever inserted;
 *  - base64_decode() accepts only the canonical encoding: characters of
 *    the standard alphabet (A-Z a-z 0-9 + /), a length that is a multiple
 *    of four, "=" padding only at the end and only as much as needed, and
 *    zero bits in the unused tail of the last group (so that one byte
 *    string has exactly one accepted encoding).  White space, the URL-safe
 *    alphabet and missing padding are rejected.  The empty string decodes
 *    to zero bytes;
 *  - base64_decode() never produces more than max bytes: a longer input is
 *    rejected before anything is decoded, so a peer cannot make it
 *    allocate more than the caller allows;
 *  - on failure base64_decode() returns -1 and leaves out unchanged; on
 *    success it appends the decoded bytes to out (NUL-terminated as every
 *    struct buf) and returns 0.
 */
#ifndef PANACEA_BASE64_H
#define PANACEA_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Length of the encoding of len bytes (without a NUL); SIZE_MAX when it
 * would overflow. */
size_t base64_encoded_len(size_t len);
/* Most bytes an input of inlen characters can decode to. */
size_t base64_decoded_max(size_t inlen);

void base64_encode(struct buf *out, const void *data, size_t len);
int base64_decode(struct buf *out, const char *in, size_t inlen, size_t max);

#endif
