/*
 * attr - attribute lists: the one IPC format between Panacea programs.
 *
 * A list is an ordered sequence of (name, value) pairs; names may repeat
 * (a delivery request carries one "rcpt" per recipient).  Values are
 * arbitrary bytes.
 *
 * Wire format: netstrings (LEN ":" BYTES ","), LEN in decimal without
 * leading zeros.  A list is one netstring whose payload is the
 * concatenation of netstring(name) netstring(value) for each pair.  So
 * every value has an explicit length, nothing a peer sends can become a
 * separator, and a reader knows how much to read before reading it.
 *
 * Decoding is strict and bounded: names are 1..ATTR_NAME_MAX bytes of
 * [a-z0-9_]; at most ATTR_COUNT_MAX pairs; the whole list at most the
 * caller's max_len; a length with leading zeros, non-digits, more digits
 * than needed, or a missing ':' / ',' is malformed.  max_len counts the
 * whole encoded list, its length header and final ',' included; a list
 * longer than that (or than ATTR_COUNT_MAX pairs) is ATTR_TOO_BIG, as soon
 * as its length digits show it.
 */
#ifndef PANACEA_ATTR_H
#define PANACEA_ATTR_H

#include <stddef.h>

#include "buf.h"

#define ATTR_NAME_MAX 64
#define ATTR_COUNT_MAX 10000
#define ATTR_LIST_MAX_DEFAULT (1024 * 1024)

struct attr {
	char *name;
	char *value; /* NUL-terminated copy; may also contain NULs */
	size_t len;
};

struct attr_list {
	struct attr *items;
	size_t count;
	size_t cap;
};

#define ATTR_LIST_INIT                                                         \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

enum attr_status {
	ATTR_OK = 0,
	ATTR_INCOMPLETE = 1, /* more input needed */
	ATTR_MALFORMED = -1,
	ATTR_TOO_BIG = -2,
};

void attr_list_init(struct attr_list *list);
void attr_list_free(struct attr_list *list);
void attr_list_reset(struct attr_list *list);

void attr_add(struct attr_list *list, const char *name, const void *value,
	      size_t len);
void attr_add_str(struct attr_list *list, const char *name, const char *value);
void attr_add_int(struct attr_list *list, const char *name, long long value);

/* The first pair with this name, or NULL. */
const struct attr *attr_get(const struct attr_list *list, const char *name);
/* Its value as a string, or NULL when absent or when it contains NUL. */
const char *attr_get_str(const struct attr_list *list, const char *name);
/* 0 and *out set when present and a valid decimal integer, else -1. */
int attr_get_int(const struct attr_list *list, const char *name,
		 long long *out);

/* Appends the encoding of list to out. */
void attr_encode(const struct attr_list *list, struct buf *out);
/* Decodes one list from the start of data.  On ATTR_OK, *consumed is the
 * number of bytes used and out holds the pairs (appended after a reset).
 * ATTR_INCOMPLETE means data is a valid prefix of a list. */
enum attr_status attr_decode(const char *data, size_t len, size_t max_len,
			     struct attr_list *out, size_t *consumed);

/* Stream helpers over a socket: one list per call, with a timeout for the
 * whole operation (milliseconds; -1 = none).  attr_recv reads exactly the
 * bytes of one list, never more (a descriptor sent after it stays): it
 * looks at up to 4 KiB with MSG_PEEK and reads a list that is all there
 * with one call.  Both return 0, or -1 with errno set
 * (ETIMEDOUT, EPROTO for malformed/oversized input, ECONNRESET for EOF in
 * the middle or before a list, or the system error). */
int attr_send(int fd, const struct attr_list *list, int timeout_ms);
int attr_recv(int fd, struct attr_list *list, size_t max_len, int timeout_ms);

#endif
