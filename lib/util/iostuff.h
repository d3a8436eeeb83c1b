/*
 * iostuff - descriptor I/O with deadlines.
 *
 * Every wait is bounded by a timeout in milliseconds (-1 = wait forever)
 * that covers the whole call, not each read(2).  EINTR is retried.
 * Functions return -1 with errno set: ETIMEDOUT when the deadline passes,
 * ECONNRESET for an unexpected end of file in io_read_full(), or the
 * system's error.  They work on blocking and non-blocking descriptors.
 */
#ifndef PANACEA_IOSTUFF_H
#define PANACEA_IOSTUFF_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* 1 when ready, 0 on timeout, -1 on error. */
int io_wait_readable(int fd, int timeout_ms);
int io_wait_writable(int fd, int timeout_ms);
/* One read of at most len bytes once readable; 0 = end of file. */
ssize_t io_read_timeout(int fd, void *buf, size_t len, int timeout_ms);
/* Exactly len bytes, or -1. */
int io_read_full(int fd, void *buf, size_t len, int timeout_ms);
/* All of len bytes, or -1 (EPIPE is returned, SIGPIPE is not raised on
 * sockets). */
int io_write_full(int fd, const void *buf, size_t len, int timeout_ms);
int io_set_nonblock(int fd, int on);
int io_set_cloexec(int fd, int on);
/* Monotonic clock in milliseconds. */
long long io_now_ms(void);
/* The absolute deadline of a timeout (-1, none, stays -1), and what is
 * left of a deadline as a timeout for the calls above (never negative,
 * clamped to what poll(2) takes).  Callers that make several calls under
 * one deadline use these instead of passing the same timeout twice. */
long long io_deadline(int timeout_ms);

/* Reads a whole text file (a configuration file, a table source) into b:
 * 0, or -1 with errno set (ENOENT for a missing file, EFBIG beyond max
 * bytes, EINVAL for a NUL byte) and "PATH: reason" in err. */
int io_read_text_file(const char *path, struct buf *b, size_t max,
		      struct buf *err);
int io_left_ms(long long deadline);

#endif
