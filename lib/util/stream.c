/*
 * stream - buffered, deadline-bound line I/O; see stream.h.
 *
 * The input buffer holds what one read brought in (at most
 * STREAM_READ_CHUNK bytes, plus what was not consumed yet); it is refilled
 * only when everything in it has been consumed, so it never grows with
 * what a peer sends.  stream_getline() copies at most max + 1 bytes of a
 * line into the caller's buffer (the extra byte may be the CR of a CRLF)
 * and drops the rest up to the LF.
 *
 * The timeout is a deadline for each call (one stream_getline, one
 * stream_read_full, one stream_flush): a peer that trickles a byte at a
 * time cannot keep one call alive longer than that.
 *
 * The plain descriptor I/O passes the descriptor itself as the context
 * (not a pointer into the struct), so a struct stream stays valid when
 * copied.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "iostuff.h"
#include "stream.h"

#define STREAM_READ_CHUNK 16384

static ssize_t
plain_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	return io_read_timeout((int)(intptr_t)ctx, buf, len, timeout_ms);
}

static ssize_t
plain_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	if (io_write_full((int)(intptr_t)ctx, buf, len, timeout_ms) < 0)
		return -1;
	return (ssize_t)len;
}

static const struct stream_io plain_io = {plain_read, plain_write};

void
stream_init(struct stream *s, int fd, int timeout_ms)
{
	s->fd = fd;
	s->timeout_ms = timeout_ms;
	buf_init(&s->in);
	s->in_pos = 0;
	buf_init(&s->out);
	s->io = &plain_io;
	s->io_ctx = (void *)(intptr_t)fd;
	s->error = 0;
	s->read_timed_out = 0;
	s->bytes_in = 0;
	s->bytes_out = 0;
}

void
stream_free(struct stream *s)
{
	buf_free(&s->in);
	buf_free(&s->out);
	s->in_pos = 0;
}

void
stream_set_timeout(struct stream *s, int timeout_ms)
{
	s->timeout_ms = timeout_ms;
}

void
stream_set_io(struct stream *s, const struct stream_io *io, void *ctx)
{
	if (io == NULL) {
		s->io = &plain_io;
		s->io_ctx = (void *)(intptr_t)s->fd;
	} else {
		s->io = io;
		s->io_ctx = ctx;
	}
}

int
stream_error(const struct stream *s)
{
	return s->error;
}

/* Records the first failure (sticky) from errno; returns its status. */
static int
fail(struct stream *s)
{
	if (s->error == 0)
		s->error = errno == ETIMEDOUT ? STREAM_TIMEOUT : STREAM_IOERR;
	return s->error;
}

/* A write failure; it also ends what a read timeout left open. */
static int
fail_write(struct stream *s)
{
	s->read_timed_out = 0;
	if (s->error == STREAM_TIMEOUT)
		s->error = 0;
	return fail(s);
}

/* Writes go on after a read timeout (the server says why it hangs up),
 * never after any other failure. */
static int
write_blocked(const struct stream *s)
{
	return s->error && !(s->error == STREAM_TIMEOUT && s->read_timed_out);
}

/* A read failure; a timeout leaves the writing side usable. */
static int
fail_read(struct stream *s)
{
	int first = s->error == 0;

	fail(s);
	if (first && s->error == STREAM_TIMEOUT)
		s->read_timed_out = 1;
	return s->error;
}

/* errno for a call refused because of an earlier failure. */
static void
sticky_errno(const struct stream *s)
{
	errno = s->error == STREAM_TIMEOUT ? ETIMEDOUT : EIO;
}

/* Reads more input once everything buffered is consumed: 1, 0 at end of
 * file, or -1 (recorded). */
static int
fill(struct stream *s, long long deadline)
{
	ssize_t n;

	buf_reset(&s->in);
	s->in_pos = 0;
	buf_reserve(&s->in, STREAM_READ_CHUNK);
	n = s->io->read(s->io_ctx, s->in.data, STREAM_READ_CHUNK,
			io_left_ms(deadline));
	if (n < 0) {
		fail_read(s);
		return -1;
	}
	s->in.len = (size_t)n;
	s->in.data[n] = '\0';
	s->bytes_in += (unsigned long long)n;
	return n > 0;
}

/* Appends what fits of data[0..len) under cap to out; 1 when some byte
 * did not fit. */
static int
append_capped(struct buf *out, const char *data, size_t len, size_t cap)
{
	size_t room = out->len < cap ? cap - out->len : 0;

	if (len <= room) {
		buf_append(out, data, len);
		return 0;
	}
	buf_append(out, data, room);
	return 1;
}

int
stream_getline(struct stream *s, struct buf *out, size_t max)
{
	long long deadline = io_deadline(s->timeout_ms);
	size_t cap = max == SIZE_MAX ? max : max + 1;
	int overflow = 0, crlf, rc;
	const char *p, *lf;
	size_t avail, n;

	buf_reset(out);
	if (s->error)
		return s->error;
	for (;;) {
		if (s->in_pos == s->in.len) {
			rc = fill(s, deadline);
			if (rc < 0)
				return s->error;
			if (rc == 0 && out->len == 0 && !overflow)
				return STREAM_EOF;
			if (rc == 0) {
				/* The peer left in the middle of a line. */
				errno = ECONNRESET;
				return fail_read(s);
			}
		}
		p = s->in.data + s->in_pos;
		avail = s->in.len - s->in_pos;
		lf = memchr(p, '\n', avail);
		n = lf ? (size_t)(lf - p) : avail;
		overflow |= append_capped(out, p, n, cap);
		s->in_pos += lf ? n + 1 : n;
		if (lf)
			break;
	}
	/* A CR just before the LF is the terminator; out may hold it in its
	 * extra byte. */
	crlf = out->len > 0 && out->data[out->len - 1] == '\r';
	if (crlf && !overflow)
		buf_truncate(out, out->len - 1);
	if (overflow || out->len > max) {
		buf_truncate(out, max);
		return STREAM_TOO_LONG;
	}
	return crlf ? STREAM_LINE : STREAM_LINE_BARE_LF;
}

ssize_t
stream_read(struct stream *s, void *buf, size_t len)
{
	size_t avail = s->in.len - s->in_pos;
	ssize_t n;

	if (s->error) {
		sticky_errno(s);
		return -1;
	}
	if (len == 0)
		return 0;
	if (avail > 0) {
		n = (ssize_t)(avail < len ? avail : len);
		memcpy(buf, s->in.data + s->in_pos, (size_t)n);
		s->in_pos += (size_t)n;
		return n;
	}
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	n = s->io->read(s->io_ctx, buf, len, s->timeout_ms);
	if (n < 0) {
		fail_read(s);
		return -1;
	}
	s->bytes_in += (unsigned long long)n;
	return n;
}

int
stream_read_full(struct stream *s, void *buf, size_t len)
{
	long long deadline = io_deadline(s->timeout_ms);
	size_t avail, take;
	char *p = buf;
	ssize_t n;

	if (s->error) {
		sticky_errno(s);
		return -1;
	}
	avail = s->in.len - s->in_pos;
	take = avail < len ? avail : len;
	memcpy(p, s->in.data + s->in_pos, take);
	s->in_pos += take;
	p += take;
	len -= take;
	while (len > 0) {
		n = s->io->read(s->io_ctx, p, len > SSIZE_MAX ? SSIZE_MAX : len,
				io_left_ms(deadline));
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0) {
			fail_read(s);
			return -1;
		}
		s->bytes_in += (unsigned long long)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t
stream_pending(const struct stream *s)
{
	return s->in.len - s->in_pos;
}

ssize_t
stream_peek(struct stream *s, const char **data)
{
	int got;

	if (s->error) {
		sticky_errno(s);
		return -1;
	}
	if (s->in_pos >= s->in.len) {
		got = fill(s, io_deadline(s->timeout_ms));
		if (got <= 0)
			return got;
	}
	*data = s->in.data + s->in_pos;
	return (ssize_t)(s->in.len - s->in_pos);
}

void
stream_consume(struct stream *s, size_t n)
{
	size_t avail = s->in.len - s->in_pos;

	s->in_pos += n < avail ? n : avail;
}

void
stream_discard_input(struct stream *s)
{
	buf_reset(&s->in);
	s->in_pos = 0;
}

void
stream_preload(struct stream *s, const void *data, size_t len)
{
	/* Unconsumed input moves to the front so the buffer stays one run
	 * of bytes. */
	if (s->in_pos > 0) {
		memmove(s->in.data, s->in.data + s->in_pos,
			s->in.len - s->in_pos);
		buf_truncate(&s->in, s->in.len - s->in_pos);
		s->in_pos = 0;
	}
	buf_append(&s->in, data, len);
}

int
stream_flush(struct stream *s)
{
	long long deadline = io_deadline(s->timeout_ms);
	size_t done = 0;
	ssize_t n;

	if (write_blocked(s)) {
		buf_reset(&s->out);
		sticky_errno(s);
		return -1;
	}
	while (done < s->out.len) {
		n = s->io->write(s->io_ctx, s->out.data + done,
				 s->out.len - done, io_left_ms(deadline));
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			fail_write(s);
			buf_reset(&s->out);
			return -1;
		}
		done += (size_t)n;
		s->bytes_out += (unsigned long long)n;
	}
	buf_reset(&s->out);
	return 0;
}

/* Output is dropped after a failure: the error is already sticky, and a
 * stuck peer must not make the buffer grow. */
void
stream_write(struct stream *s, const void *data, size_t len)
{
	if (write_blocked(s))
		return;
	buf_append(&s->out, data, len);
	if (s->out.len >= STREAM_OUT_FLUSH)
		stream_flush(s);
}

void
stream_puts(struct stream *s, const char *str)
{
	stream_write(s, str, strlen(str));
}

void
stream_vprintf(struct stream *s, const char *fmt, va_list ap)
{
	if (write_blocked(s))
		return;
	buf_vprintf(&s->out, fmt, ap);
	if (s->out.len >= STREAM_OUT_FLUSH)
		stream_flush(s);
}

void
stream_printf(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stream_vprintf(s, fmt, ap);
	va_end(ap);
}

void
stream_line_vprintf(struct stream *s, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	buf_line_vprintf(&b, fmt, ap);
	stream_write(s, b.data, b.len);
	buf_free(&b);
}
