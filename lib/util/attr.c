/*
 * attr - attribute lists encoded as nested netstrings; see attr.h.
 *
 * Encoding is canonical (one encoding per list), so decode followed by
 * encode gives back exactly the bytes consumed: the fuzz target checks it.
 *
 * The decoder never reads past len and never allocates more than the
 * input it was given: every length is checked against what encloses it
 * (the list against max_len, a name or value against the rest of the
 * list) before anything is copied.  On an incomplete input it still
 * checks every byte that is there, so ATTR_INCOMPLETE really means "a
 * valid prefix", and an oversized list is refused as soon as its length
 * digits show it, before the payload arrives.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attr.h"
#include "iostuff.h"
#include "xalloc.h"

void
attr_list_init(struct attr_list *list)
{
	list->items = NULL;
	list->count = 0;
	list->cap = 0;
}

void
attr_list_reset(struct attr_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++) {
		xfree(list->items[i].name);
		xfree(list->items[i].value);
	}
	list->count = 0;
}

void
attr_list_free(struct attr_list *list)
{
	attr_list_reset(list);
	xfree(list->items);
	attr_list_init(list);
}

void
attr_add(struct attr_list *list, const char *name, const void *value,
	 size_t len)
{
	struct attr *a;

	if (list->count == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->items = xreallocarray(list->items, list->cap, sizeof(*a));
	}
	a = &list->items[list->count++];
	a->name = xstrdup(name);
	a->value = xmemdup(value, len);
	a->len = len;
}

void
attr_add_str(struct attr_list *list, const char *name, const char *value)
{
	attr_add(list, name, value, strlen(value));
}

void
attr_add_int(struct attr_list *list, const char *name, long long value)
{
	char num[32];
	int n;

	n = snprintf(num, sizeof(num), "%lld", value);
	attr_add(list, name, num, (size_t)n);
}

const struct attr *
attr_get(const struct attr_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
}

const char *
attr_get_str(const struct attr_list *list, const char *name)
{
	const struct attr *a = attr_get(list, name);

	if (a == NULL || memchr(a->value, '\0', a->len) != NULL)
		return NULL;
	return a->value;
}

int
attr_get_int(const struct attr_list *list, const char *name, long long *out)
{
	const char *s = attr_get_str(list, name);
	const char *digits;
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	/* strtoll would accept white space and a '+': a peer may not. */
	digits = s[0] == '-' ? s + 1 : s;
	if (*digits < '0' || *digits > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Bytes of the decimal representation of n. */
static size_t
digits_of(size_t n)
{
	size_t d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

static void
put_netstring(struct buf *out, const void *data, size_t len)
{
	buf_printf(out, "%zu:", len);
	buf_append(out, data, len);
	buf_putc(out, ',');
}

static size_t
netstring_size(size_t len)
{
	return digits_of(len) + 1 + len + 1;
}

void
attr_encode(const struct attr_list *list, struct buf *out)
{
	size_t i, payload = 0;
	const struct attr *a;

	for (i = 0; i < list->count; i++) {
		a = &list->items[i];
		payload += netstring_size(strlen(a->name));
		payload += netstring_size(a->len);
	}
	buf_reserve(out, netstring_size(payload));
	buf_printf(out, "%zu:", payload);
	for (i = 0; i < list->count; i++) {
		a = &list->items[i];
		put_netstring(out, a->name, strlen(a->name));
		put_netstring(out, a->value, a->len);
	}
	buf_putc(out, ',');
}

/*
 * Parses the "LEN:" header at data[0..len).  limit is the largest LEN
 * acceptable; over_status is what a larger one means (ATTR_TOO_BIG for a
 * list, ATTR_MALFORMED for a field that would overrun its list).  On
 * ATTR_OK, *value is LEN and *used counts the digits and the ':'.
 */
static enum attr_status
parse_len(const char *data, size_t len, size_t limit,
	  enum attr_status over_status, size_t *value, size_t *used)
{
	size_t i, v = 0, d;

	for (i = 0; i < len; i++) {
		if (data[i] == ':') {
			if (i == 0)
				return ATTR_MALFORMED;
			*value = v;
			*used = i + 1;
			return ATTR_OK;
		}
		if (data[i] < '0' || data[i] > '9')
			return ATTR_MALFORMED;
		if (i == 1 && data[0] == '0')
			return ATTR_MALFORMED; /* leading zero */
		/* v only grows with more digits: refuse as soon as the
		 * digits show that LEN is over the limit, which also bounds
		 * how many digits are ever read. */
		d = (size_t)(data[i] - '0');
		if (v > limit / 10)
			return over_status;
		v *= 10;
		if (d > limit - v)
			return over_status;
		v += d;
	}
	return ATTR_INCOMPLETE;
}

/* 1 when every byte is in [a-z0-9_]. */
static int
name_chars_ok(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

/*
 * One inner netstring at data[0..avail) of a list whose payload has room
 * bytes left from data on; avail < room when the input stops early.  On
 * ATTR_OK, *field and *flen are its content and *used its size.  On
 * ATTR_INCOMPLETE after a complete header, *field and *flen are the part
 * of the content that is present (so a caller can check it), else *flen
 * is 0.
 */
static enum attr_status
parse_field(const char *data, size_t avail, size_t room, size_t max_field,
	    const char **field, size_t *flen, size_t *used)
{
	enum attr_status st;
	size_t n, hdr, limit;

	*field = data;
	*flen = 0;
	/* The payload length is known: a field needs at least 3 bytes. */
	if (room < 3)
		return ATTR_MALFORMED;
	limit = room - 3 < max_field ? room - 3 : max_field;
	st = parse_len(data, avail, limit, ATTR_MALFORMED, &n, &hdr);
	if (st == ATTR_INCOMPLETE && avail == room)
		return ATTR_MALFORMED; /* digits up to the end of the list */
	if (st != ATTR_OK)
		return st;
	if (hdr + n + 1 > room)
		return ATTR_MALFORMED;
	*field = data + hdr;
	if (hdr + n + 1 > avail) {
		*flen = avail - hdr < n ? avail - hdr : n;
		return ATTR_INCOMPLETE;
	}
	if (data[hdr + n] != ',')
		return ATTR_MALFORMED;
	*flen = n;
	*used = hdr + n + 1;
	return ATTR_OK;
}

/* One name and its value: bounded checks, then a copy on success. */
static enum attr_status
parse_pair(const char *p, size_t avail, size_t room, struct attr_list *out,
	   size_t *used)
{
	const char *name, *value;
	size_t nlen, vlen, u1, u2;
	enum attr_status st;
	char nbuf[ATTR_NAME_MAX + 1];

	st = parse_field(p, avail, room, ATTR_NAME_MAX, &name, &nlen, &u1);
	if (st == ATTR_INCOMPLETE)
		return name_chars_ok(name, nlen) ? st : ATTR_MALFORMED;
	if (st != ATTR_OK)
		return st;
	if (nlen == 0 || !name_chars_ok(name, nlen))
		return ATTR_MALFORMED;
	if (u1 == room)
		return ATTR_MALFORMED; /* a name without a value */
	if (u1 == avail)
		return ATTR_INCOMPLETE;
	st = parse_field(p + u1, avail - u1, room - u1, SIZE_MAX, &value, &vlen,
			 &u2);
	if (st != ATTR_OK)
		return st;
	memcpy(nbuf, name, nlen);
	nbuf[nlen] = '\0';
	attr_add(out, nbuf, value, vlen);
	*used = u1 + u2;
	return ATTR_OK;
}

/* Validates and collects the pairs of a payload of plen bytes, of which
 * avail are present. */
static enum attr_status
parse_payload(const char *p, size_t avail, size_t plen, struct attr_list *out)
{
	enum attr_status st;
	size_t off = 0, used;

	while (off < avail && off < plen) {
		if (out->count >= ATTR_COUNT_MAX)
			return ATTR_TOO_BIG;
		st = parse_pair(p + off, avail - off, plen - off, out, &used);
		if (st != ATTR_OK)
			return st;
		off += used;
	}
	return off < plen ? ATTR_INCOMPLETE : ATTR_OK;
}

enum attr_status
attr_decode(const char *data, size_t len, size_t max_len, struct attr_list *out,
	    size_t *consumed)
{
	enum attr_status st;
	size_t plen, hdr, avail, limit;

	attr_list_reset(out);
	/* The header and the final ',' are part of max_len as well. */
	limit = max_len >= 3 ? max_len - 2 : 0;
	st = parse_len(data, len, limit, ATTR_TOO_BIG, &plen, &hdr);
	if (st == ATTR_OK && hdr + plen + 1 > max_len)
		st = ATTR_TOO_BIG;
	if (st != ATTR_OK)
		return st;
	avail = len - hdr < plen ? len - hdr : plen;
	st = parse_payload(data + hdr, avail, plen, out);
	if (st == ATTR_OK && hdr + plen >= len)
		st = ATTR_INCOMPLETE;
	else if (st == ATTR_OK && data[hdr + plen] != ',')
		st = ATTR_MALFORMED;
	if (st != ATTR_OK) {
		attr_list_reset(out);
		return st;
	}
	*consumed = hdr + plen + 1;
	return ATTR_OK;
}

int
attr_send(int fd, const struct attr_list *list, int timeout_ms)
{
	struct buf b = BUF_INIT;
	int rc;

	attr_encode(list, &b);
	rc = io_write_full(fd, b.data, b.len, timeout_ms);
	buf_free(&b);
	return rc;
}

/* Sets errno for a decoder status that is not ATTR_OK. */
static int
decode_error(enum attr_status st)
{
	errno = st == ATTR_INCOMPLETE ? ECONNRESET : EPROTO;
	return -1;
}

/* The longest header: 20 digits and the ':'. */
#define ATTR_HEADER_PEEK 24
/* How much one peek looks at: a whole list of the usual size (a delivery
 * request, a reply), so that it is read with one call. */
#define ATTR_LIST_PEEK 4096

/* The list's length header, seen with MSG_PEEK and then read into b:
 * the whole list when the peek saw all of it, else only the header's
 * bytes; nothing after the list is taken.  0 then (b->len bytes read);
 * 1 when the caller must read byte by byte (nothing was read: a
 * malformed header is left for that reader to see); -1 on a read error,
 * with errno. */
static int
peek_header(int fd, size_t max_len, long long deadline, size_t *plen,
	    size_t *hdr, struct buf *b)
{
	size_t want = max_len < ATTR_LIST_PEEK ? max_len : ATTR_LIST_PEEK;
	size_t whole;
	ssize_t n;

	if (want < ATTR_HEADER_PEEK)
		want = ATTR_HEADER_PEEK;
	if (io_wait_readable(fd, io_left_ms(deadline)) <= 0)
		return 1;
	buf_reserve(b, want);
	n = recv(fd, b->data, want, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0 ||
	    parse_len(b->data, (size_t)n, max_len >= 3 ? max_len - 2 : 0,
		      ATTR_TOO_BIG, plen, hdr) != ATTR_OK)
		return 1;
	whole = *hdr + *plen + 1;
	if (whole <= (size_t)n && whole <= max_len) {
		/* One call for all of it: what a peek saw is there. */
		n = recv(fd, b->data, whole, MSG_DONTWAIT);
		if (n >= (ssize_t)*hdr) {
			b->len = (size_t)n;
			return 0;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		/* Not all of the header (cannot happen on a stream socket):
		 * the bytes read are kept and the rest is read below. */
		b->len = n > 0 ? (size_t)n : 0;
		if (io_read_full(fd, b->data + b->len, *hdr - b->len,
				 io_left_ms(deadline)) < 0)
			return -1;
		b->len = *hdr;
		return 0;
	}
	if (io_read_full(fd, b->data, *hdr, io_left_ms(deadline)) < 0)
		return -1;
	b->len = *hdr;
	return 0;
}

int
attr_recv(int fd, struct attr_list *list, size_t max_len, int timeout_ms)
{
	long long deadline = io_deadline(timeout_ms);
	struct buf b = BUF_INIT;
	enum attr_status st;
	size_t plen, hdr, used;
	char c;
	int rc = -1;

	attr_list_reset(list);
	/* Not one byte of whatever follows the list (a descriptor's byte)
	 * may be taken from the socket: the header is looked at with
	 * MSG_PEEK and only its own bytes read; when the peek cannot tell
	 * (not a socket, a header in pieces), one byte at a time. */
	switch (peek_header(fd, max_len, deadline, &plen, &hdr, &b)) {
	case 0:
		goto payload;
	case -1:
		goto out;
	}
	for (;;) {
		if (io_read_full(fd, &c, 1, io_left_ms(deadline)) < 0)
			goto out;
		buf_putc(&b, c);
		st = parse_len(b.data, b.len, max_len >= 3 ? max_len - 2 : 0,
			       ATTR_TOO_BIG, &plen, &hdr);
		if (st == ATTR_OK)
			break;
		if (st != ATTR_INCOMPLETE) {
			decode_error(st);
			goto out;
		}
	}
payload:
	if (hdr + plen + 1 > max_len) {
		decode_error(ATTR_TOO_BIG);
		goto out;
	}
	/* What is still missing: all of the list after the header, or
	 * none of it when the peek could read it whole. */
	buf_reserve(&b, hdr + plen + 1 - b.len);
	if (io_read_full(fd, b.data + b.len, hdr + plen + 1 - b.len,
			 io_left_ms(deadline)) < 0)
		goto out;
	b.len = hdr + plen + 1;
	b.data[b.len] = '\0';
	st = attr_decode(b.data, b.len, max_len, list, &used);
	if (st != ATTR_OK) {
		decode_error(st);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}
