/*
 * xtext - RFC 3461 xtext encoding and decoding; see xtext.h.
 */
#include "strutil.h"
#include "xtext.h"

/* xchar: "!" to "~" except "+" and "=" (RFC 3461 section 4). */
static int
is_xchar(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '+' && c != '=';
}

void
xtext_encode(struct buf *out, const void *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	char enc[3];
	size_t i;

	for (i = 0; i < len; i++) {
		if (is_xchar(p[i])) {
			buf_putc(out, p[i]);
			continue;
		}
		enc[0] = '+';
		enc[1] = hex[p[i] >> 4];
		enc[2] = hex[p[i] & 0x0f];
		buf_append(out, enc, 3);
	}
}

/*
 * Walks s once; when out is NULL only checks the syntax.
 */
static int
xtext_scan(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (p[i] == '+') {
			if (len - i < 3)
				return -1;
			if ((hi = str_hexval(p[i + 1])) < 0 ||
			    (lo = str_hexval(p[i + 2])) < 0)
				return -1;
			if (out)
				buf_putc(out, hi << 4 | lo);
			i += 2;
		} else if (is_xchar(p[i])) {
			if (out)
				buf_putc(out, p[i]);
		} else {
			return -1;
		}
	}
	return 0;
}

int
xtext_decode(struct buf *out, const char *s, size_t len)
{
	return xtext_scan(out, s, len);
}

int
xtext_valid(const char *s, size_t len)
{
	return xtext_scan(NULL, s, len) == 0;
}
