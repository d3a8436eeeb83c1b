/*
 * base64 - RFC 4648 base64, strict and bounded; see base64.h.
 *
 * The decoder validates the whole input before it writes anything, so a
 * rejected input leaves the output buffer as it was.
 */
#include <stdint.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1 for anything else ('=' included). */
static int
value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
base64_encoded_len(size_t len)
{
	size_t groups = len / 3 + (len % 3 != 0);

	if (groups > SIZE_MAX / 4)
		return SIZE_MAX;
	return groups * 4;
}

size_t
base64_decoded_max(size_t inlen)
{
	return inlen / 4 * 3;
}

void
base64_encode(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char quad[4];
	unsigned long v;
	size_t i;

	buf_reserve(out, base64_encoded_len(len));
	for (i = 0; i + 3 <= len; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		quad[0] = alphabet[v >> 18 & 63];
		quad[1] = alphabet[v >> 12 & 63];
		quad[2] = alphabet[v >> 6 & 63];
		quad[3] = alphabet[v & 63];
		buf_append(out, quad, 4);
	}
	if (len - i == 1) {
		v = (unsigned long)p[i] << 16;
		quad[0] = alphabet[v >> 18 & 63];
		quad[1] = alphabet[v >> 12 & 63];
		quad[2] = '=';
		quad[3] = '=';
		buf_append(out, quad, 4);
	} else if (len - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		quad[0] = alphabet[v >> 18 & 63];
		quad[1] = alphabet[v >> 12 & 63];
		quad[2] = alphabet[v >> 6 & 63];
		quad[3] = '=';
		buf_append(out, quad, 4);
	}
}

/* Checks in for canonical base64; returns the number of padding
 * characters (0-2), or -1. */
static int
validate(const char *in, size_t inlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, body;
	int pad = 0;

	if (inlen % 4 != 0)
		return -1;
	if (inlen == 0)
		return 0;
	if (s[inlen - 1] == '=')
		pad = s[inlen - 2] == '=' ? 2 : 1;
	body = inlen - pad;
	for (i = 0; i < body; i++)
		if (value_of(s[i]) < 0)
			return -1;
	/* The bits past the last full byte must be zero. */
	if (pad == 2 && (value_of(s[body - 1]) & 0x0f) != 0)
		return -1;
	if (pad == 1 && (value_of(s[body - 1]) & 0x03) != 0)
		return -1;
	return pad;
}

int
base64_decode(struct buf *out, const char *in, size_t inlen, size_t max)
{
	const unsigned char *s = (const unsigned char *)in;
	unsigned long v;
	unsigned char tri[3];
	size_t i, outlen;
	int pad;

	if ((pad = validate(in, inlen)) < 0)
		return -1;
	outlen = base64_decoded_max(inlen) - (size_t)pad;
	if (outlen > max)
		return -1;
	buf_reserve(out, outlen);
	for (i = 0; i < inlen; i += 4) {
		v = (unsigned long)value_of(s[i]) << 18 |
		    (unsigned long)value_of(s[i + 1]) << 12;
		if (i + 4 == inlen && pad == 2) {
			tri[0] = v >> 16 & 0xff;
			buf_append(out, tri, 1);
			break;
		}
		v |= (unsigned long)value_of(s[i + 2]) << 6;
		if (i + 4 == inlen && pad == 1) {
			tri[0] = v >> 16 & 0xff;
			tri[1] = v >> 8 & 0xff;
			buf_append(out, tri, 2);
			break;
		}
		v |= (unsigned long)value_of(s[i + 3]);
		tri[0] = v >> 16 & 0xff;
		tri[1] = v >> 8 & 0xff;
		tri[2] = v & 0xff;
		buf_append(out, tri, 3);
	}
	return 0;
}
