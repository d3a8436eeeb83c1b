/*
 * buf - growable byte buffer.
 *
 * A struct buf holds arbitrary bytes (NULs included) and grows on demand;
 * everything Panacea reads from outside (network lines, files, IPC) lands
 * in one, so no input is ever bounded by a fixed array.  Callers bound what
 * they accept explicitly (a line limit, a message size limit), never by
 * accident of storage.
 *
 * Contract:
 *  - data is always NUL-terminated at data[len] (the NUL is not counted),
 *    so buf_cstr() may be used whenever the content is text;
 *  - a zero-initialised struct buf (BUF_INIT) is a valid empty buffer;
 *  - growth failure or size overflow is fatal (see xalloc.h);
 *  - pointers into data are invalidated by any call that appends, but
 *    buf_append() of a part of the buffer itself is allowed;
 */
#ifndef PANACEA_BUF_H
#define PANACEA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Makes room for at least extra more bytes (plus the NUL). */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, int c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends the formatted text and "\r\n": one line of a network protocol
 * (SMTP, POP3), built whole before it is sent. */
void buf_line_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Replaces the content with s. */
void buf_set(struct buf *b, const char *s);
/* Drops the first n bytes (n > len drops everything). */
void buf_consume(struct buf *b, size_t n);
/* Shortens the content to len bytes (no-op when already shorter). */
void buf_truncate(struct buf *b, size_t len);
/* The content as a NUL-terminated string ("" for an unused buffer). */
const char *buf_cstr(const struct buf *b);
/* Hands the storage to the caller (free with xfree) and empties b. */
char *buf_steal(struct buf *b);

#endif
