/*
 * stream - buffered, deadline-bound I/O for line protocols (SMTP, POP3).
 *
 * A stream wraps a connected descriptor with an input and an output
 * buffer.  Reads and writes go through a struct stream_io, which is the
 * plain descriptor by default and TLS once stream_set_io() switches it
 * (tls.h): the protocol code never knows which it talks through.
 *
 * Contract:
 *  - every wait is bounded by the stream's timeout (milliseconds, per
 *    operation); errors are sticky: once a read or write fails, later
 *    calls fail the same way (stream_error() tells which), except that
 *    after a read timeout writes still go out (so that a server can say
 *    "421 timeout" before it hangs up) until one of them fails;
 *  - stream_getline() never buffers more than max bytes of one line: a
 *    longer line is consumed to its end and reported as STREAM_TOO_LONG
 *    (out holds its first max bytes), so a peer cannot grow memory by
 *    sending no newline;
 *  - it reports how the line ended: CRLF, or a bare LF (the caller decides
 *    whether that is acceptable); a CR not followed by LF is part of the
 *    line; out never holds the terminator; end of file in the middle of a
 *    line is STREAM_IOERR (errno ECONNRESET), never a line;
 *  - stream_pending() says how many received bytes are buffered but not
 *    yet consumed (pipelining; after STARTTLS the caller discards them with
 *    stream_discard_input(), CVE-2011-0411);
 *  - output is buffered until stream_flush() or until the buffer passes
 *    STREAM_OUT_FLUSH bytes.
 */
#ifndef PANACEA_STREAM_H
#define PANACEA_STREAM_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define STREAM_OUT_FLUSH 16384

enum stream_status {
	STREAM_LINE = 1,	 /* a line ended by CRLF */
	STREAM_LINE_BARE_LF = 2, /* a line ended by LF alone */
	STREAM_TOO_LONG = 3,	 /* longer than max; consumed and truncated */
	STREAM_EOF = 0,		 /* end of file before any byte of a line */
	STREAM_TIMEOUT = -1,
	STREAM_IOERR = -2,
};

struct stream_io {
	/* Like read(2)/write(2) with a deadline; return -1 with errno
	 * ETIMEDOUT on timeout, 0 from read at end of file. */
	ssize_t (*read)(void *ctx, void *buf, size_t len, int timeout_ms);
	ssize_t (*write)(void *ctx, const void *buf, size_t len,
			 int timeout_ms);
};

struct stream {
	int fd;
	int timeout_ms;
	struct buf in;
	size_t in_pos;
	struct buf out;
	const struct stream_io *io;
	void *io_ctx;
	int error; /* 0, or the enum stream_status of the first failure */
	int read_timed_out; /* that failure was a read timing out */
	unsigned long long bytes_in;
	unsigned long long bytes_out;
};

void stream_init(struct stream *s, int fd, int timeout_ms);
/* Frees the buffers; does not close fd. */
void stream_free(struct stream *s);
void stream_set_timeout(struct stream *s, int timeout_ms);
/* NULL io restores plain descriptor I/O. */
void stream_set_io(struct stream *s, const struct stream_io *io, void *ctx);

int stream_getline(struct stream *s, struct buf *out, size_t max);
/* Up to len bytes (buffered first); 0 at end of file; -1 on error. */
ssize_t stream_read(struct stream *s, void *buf, size_t len);
/* Exactly len bytes, or -1 (EOF counts as an error). */
int stream_read_full(struct stream *s, void *buf, size_t len);
size_t stream_pending(const struct stream *s);
/* Zero-copy reading for byte-stream parsers (DATA): makes input available
 * (reading when nothing is buffered) and points *data at it; returns the
 * number of bytes available, 0 at end of file, -1 on error.  The caller
 * then says how many it used with stream_consume(); the rest stays
 * buffered for the next read or getline. */
ssize_t stream_peek(struct stream *s, const char **data);
void stream_consume(struct stream *s, size_t n);
void stream_discard_input(struct stream *s);
/* Bytes that another reader took from the descriptor before it was
 * passed here (pop3d's hand-off: what the client pipelined after its
 * login command): they are read first, before the descriptor. */
void stream_preload(struct stream *s, const void *data, size_t len);

void stream_write(struct stream *s, const void *data, size_t len);
void stream_puts(struct stream *s, const char *str);
void stream_printf(struct stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void stream_vprintf(struct stream *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* One protocol line: the formatted text and "\r\n", written whole
 * (buf_line_vprintf). */
void stream_line_vprintf(struct stream *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Writes out everything buffered; 0, or -1 (error recorded). */
int stream_flush(struct stream *s);
int stream_error(const struct stream *s);

#endif
