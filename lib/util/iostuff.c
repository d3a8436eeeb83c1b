/*
 * iostuff - descriptor I/O with deadlines; see iostuff.h.
 *
 * Every public call turns its timeout into an absolute deadline on the
 * monotonic clock once, and every poll(2) after that waits only for what
 * is left, so a peer that trickles one byte at a time cannot stretch a
 * call past its timeout.  Reads and writes are attempted only after
 * poll(2) says the descriptor is ready (or with MSG_DONTWAIT), so blocking
 * descriptors never block past the deadline either.
 *
 * Writes use send(2) with MSG_NOSIGNAL so that a peer that went away
 * gives EPIPE rather than killing the process; descriptors that are not
 * sockets (ENOTSOCK: pipes, files) fall back to write(2) in chunks of at
 * most PIPE_BUF bytes, which a writable pipe always accepts without
 * blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iostuff.h"

long long
io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
io_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : io_now_ms() + timeout_ms;
}

int
io_left_ms(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - io_now_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* 1 when fd is ready for events, 0 when the deadline passed, -1 on error.
 * POLLHUP and POLLERR count as ready: the next read or write reports
 * what happened. */
static int
wait_until(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	int n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, io_left_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		return 1;
	}
}

/* wait_until() for a caller that cannot go on without the event: 0 when
 * fd is ready, -1 on error or when the deadline passed (errno
 * ETIMEDOUT). */
static int
wait_or_timeout(int fd, short events, long long deadline)
{
	int ready = wait_until(fd, events, deadline);

	if (ready == 0)
		errno = ETIMEDOUT;
	return ready > 0 ? 0 : -1;
}

int
io_wait_readable(int fd, int timeout_ms)
{
	return wait_until(fd, POLLIN, io_deadline(timeout_ms));
}

int
io_wait_writable(int fd, int timeout_ms)
{
	return wait_until(fd, POLLOUT, io_deadline(timeout_ms));
}

/* One read once readable; a spurious wake-up (EAGAIN on a non-blocking
 * descriptor) waits again. */
static ssize_t
read_deadline(int fd, void *buf, size_t len, long long deadline)
{
	ssize_t n;

	for (;;) {
		if (wait_or_timeout(fd, POLLIN, deadline) < 0)
			return -1;
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
}

ssize_t
io_read_timeout(int fd, void *buf, size_t len, int timeout_ms)
{
	return read_deadline(fd, buf, len, io_deadline(timeout_ms));
}

int
io_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	long long deadline = io_deadline(timeout_ms);
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read_deadline(fd, p, len, deadline);
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One write attempt that cannot block: send(2) on sockets, a write(2) of
 * at most PIPE_BUF bytes otherwise.  *not_sock remembers the fallback. */
static ssize_t
write_once(int fd, const char *p, size_t len, int *not_sock)
{
	ssize_t n;

	if (!*not_sock) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			*not_sock = 1; /* the caller waits, then writes */
		return n;
	}
	return write(fd, p, len > PIPE_BUF ? PIPE_BUF : len);
}

int
io_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = io_deadline(timeout_ms);
	const char *p = buf;
	int not_sock = 0;
	ssize_t n;

	while (len > 0) {
		/* Non-socket writes may block, so wait for room first. */
		if (not_sock && wait_or_timeout(fd, POLLOUT, deadline) < 0)
			return -1;
		n = write_once(fd, p, len, &not_sock);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOTSOCK)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* A full socket buffer (or a zero-length write): wait. */
		if (wait_or_timeout(fd, POLLOUT, deadline) < 0)
			return -1;
	}
	return 0;
}

/* Sets or clears one bit of the flags that get and set read and write. */
static int
fd_flag(int fd, int get, int set, int bit, int on)
{
	int flags = fcntl(fd, get);

	if (flags < 0)
		return -1;
	flags = on ? flags | bit : flags & ~bit;
	return fcntl(fd, set, flags);
}

int
io_set_nonblock(int fd, int on)
{
	return fd_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on);
}

int
io_set_cloexec(int fd, int on)
{
	return fd_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on);
}

int
io_read_text_file(const char *path, struct buf *b, size_t max, struct buf *err)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0) {
		buf_printf(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			buf_printf(err, "%s: read: %s", path, strerror(errno));
			close(fd);
			errno = saved;
			return -1;
		}
		if (b->len + (size_t)n > max) {
			buf_printf(err, "%s: file larger than %zu bytes", path,
				   max);
			close(fd);
			errno = EFBIG;
			return -1;
		}
		buf_append(b, chunk, (size_t)n);
	}
	close(fd);
	if (b->len > 0 && memchr(b->data, 0, b->len) != NULL) {
		buf_printf(err, "%s: contains a NUL byte", path);
		errno = EINVAL;
		return -1;
	}
	return 0;
}
