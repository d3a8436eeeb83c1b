/*
 * test_stream - lib/stream over a real socketpair: line endings, bounded
 * lines, end of file, timeouts, pending input, output buffering, a custom
 * stream_io.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "iostuff.h"
#include "stream.h"

struct fixture {
	int peer;	 /* the test's end */
	struct stream s; /* the stream's end */
	struct buf line;
};

static int
setup(void **state)
{
	static struct fixture f;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	f.peer = sv[0];
	stream_init(&f.s, sv[1], 1000);
	buf_init(&f.line);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	close(f->peer);
	close(f->s.fd);
	stream_free(&f->s);
	buf_free(&f->line);
	return 0;
}

static void
send_str(struct fixture *f, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(io_write_full(f->peer, s, n, 1000), 0);
}

static void
expect_line(struct fixture *f, size_t max, int status, const char *text)
{
	int st = stream_getline(&f->s, &f->line, max);

	if (st != status)
		fail_msg("status %d, expected %d (\"%s\")", st, status,
			 buf_cstr(&f->line));
	assert_string_equal(buf_cstr(&f->line), text);
}

static void
test_line_endings(void **state)
{
	struct fixture *f = *state;

	send_str(f, "HELO a\r\nbare\nin\rside\r\n\r\n\n\r\r\nlast\n");
	expect_line(f, 100, STREAM_LINE, "HELO a");
	expect_line(f, 100, STREAM_LINE_BARE_LF, "bare");
	expect_line(f, 100, STREAM_LINE, "in\rside");
	expect_line(f, 100, STREAM_LINE, "");
	expect_line(f, 100, STREAM_LINE_BARE_LF, "");
	expect_line(f, 100, STREAM_LINE, "\r");
	expect_line(f, 100, STREAM_LINE_BARE_LF, "last");
	assert_int_equal(stream_pending(&f->s), 0);
}

/* A line split over many writes (and reads) is put back together. */
static void
test_line_in_pieces(void **state)
{
	struct fixture *f = *state;

	send_str(f, "MAIL FROM:<a");
	send_str(f, "@b>\r");
	send_str(f, "\nNEXT\r\n");
	expect_line(f, 100, STREAM_LINE, "MAIL FROM:<a@b>");
	expect_line(f, 100, STREAM_LINE, "NEXT");
}

static void
test_too_long(void **state)
{
	struct fixture *f = *state;
	static char big[200000];
	pid_t pid;

	memset(big, 'x', sizeof(big));
	/* A writer process: the line is larger than the socket buffer. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		io_write_full(f->peer, big, sizeof(big), 5000);
		send_str(f, "\r\nQUIT\r\n");
		_exit(0);
	}
	expect_line(f, 10, STREAM_TOO_LONG, "xxxxxxxxxx");
	assert_true(f->line.len == 10);
	/* The buffer holding the line stayed small. */
	assert_true(f->line.cap < 64 + 16);
	/* ... and so did the input buffer: bounded by the read size, not
	 * by the 200000-byte line. */
	assert_true(f->s.in.cap <= 65536);
	expect_line(f, 10, STREAM_LINE, "QUIT");
	assert_int_equal(stream_error(&f->s), 0);
	waitpid(pid, NULL, 0);
}

/* Exactly max bytes is a line; max + 1 is too long, CR or not. */
static void
test_limit_boundaries(void **state)
{
	struct fixture *f = *state;

	send_str(f, "12345\r\n12345\n123456\r\n12345\r\r\n1234\r5\r\n");
	expect_line(f, 5, STREAM_LINE, "12345");
	expect_line(f, 5, STREAM_LINE_BARE_LF, "12345");
	expect_line(f, 5, STREAM_TOO_LONG, "12345");
	expect_line(f, 5, STREAM_TOO_LONG, "12345");
	expect_line(f, 5, STREAM_TOO_LONG, "1234\r");
	send_str(f, "\r\n");
	expect_line(f, 0, STREAM_LINE, "");
}

static void
test_eof(void **state)
{
	struct fixture *f = *state;

	send_str(f, "one\r\npartial");
	shutdown(f->peer, SHUT_WR);
	expect_line(f, 100, STREAM_LINE, "one");
	/* The peer left in the middle of a line: never a line. */
	assert_int_equal(stream_getline(&f->s, &f->line, 100), STREAM_IOERR);
	assert_int_equal(errno, ECONNRESET);
	assert_string_equal(buf_cstr(&f->line), "partial");
	assert_int_equal(stream_error(&f->s), STREAM_IOERR);
}

static void
test_eof_clean(void **state)
{
	struct fixture *f = *state;
	char c;

	send_str(f, "one\n");
	shutdown(f->peer, SHUT_WR);
	expect_line(f, 100, STREAM_LINE_BARE_LF, "one");
	expect_line(f, 100, STREAM_EOF, "");
	expect_line(f, 100, STREAM_EOF, "");
	assert_int_equal(stream_read(&f->s, &c, 1), 0);
	assert_int_equal(stream_error(&f->s), 0);
}

static void
test_timeout_sticky(void **state)
{
	struct fixture *f = *state;
	long long t0, dt;
	char c;

	stream_set_timeout(&f->s, 200);
	send_str(f, "no newline");
	t0 = io_now_ms();
	assert_int_equal(stream_getline(&f->s, &f->line, 100), STREAM_TIMEOUT);
	dt = io_now_ms() - t0;
	assert_true(dt >= 190 && dt < 3000);
	assert_int_equal(stream_error(&f->s), STREAM_TIMEOUT);
	/* Sticky: data arriving later does not revive the stream. */
	send_str(f, "\r\nmore\r\n");
	assert_int_equal(stream_getline(&f->s, &f->line, 100), STREAM_TIMEOUT);
	assert_int_equal(stream_read(&f->s, &c, 1), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* But the way back still works: a server can say why it hangs up. */
	stream_puts(&f->s, "421 timeout\r\n");
	assert_int_equal(stream_flush(&f->s), 0);
	{
		char got[16] = {0};
		assert_int_equal(io_read_full(f->peer, got, 13, 1000), 0);
		assert_string_equal(got, "421 timeout\r\n");
	}
	assert_int_equal(stream_getline(&f->s, &f->line, 100), STREAM_TIMEOUT);
	assert_int_equal(stream_error(&f->s), STREAM_TIMEOUT);
}

/* Writing text to a peer that is gone fails (STREAM_IOERR), and the
 * error sticks: later writes are dropped, later flushes fail. */
static void
expect_write_failure(struct fixture *f, const char *text)
{
	stream_puts(&f->s, text);
	assert_int_equal(stream_flush(&f->s), -1);
	assert_int_equal(stream_error(&f->s), STREAM_IOERR);
	stream_puts(&f->s, "more");
	assert_int_equal(f->s.out.len, 0);
	assert_int_equal(stream_flush(&f->s), -1);
}

/* A failed write ends the stream for good, also after a read timeout. */
static void
test_write_failure_after_read_timeout(void **state)
{
	struct fixture *f = *state;

	stream_set_timeout(&f->s, 100);
	assert_int_equal(stream_getline(&f->s, &f->line, 100), STREAM_TIMEOUT);
	close(f->peer);
	f->peer = open("/dev/null", O_RDONLY);
	expect_write_failure(f, "421 timeout\r\n");
}

/* A peer trickling bytes cannot stretch one getline past the timeout. */
static void
test_timeout_whole_line(void **state)
{
	struct fixture *f = *state;
	long long t0, dt;
	pid_t pid;
	int i;

	stream_set_timeout(&f->s, 300);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (i = 0; i < 20; i++) {
			if (write(f->peer, "x", 1) != 1)
				_exit(1);
			usleep(50 * 1000);
		}
		_exit(0);
	}
	t0 = io_now_ms();
	assert_int_equal(stream_getline(&f->s, &f->line, 100), STREAM_TIMEOUT);
	dt = io_now_ms() - t0;
	assert_true(dt >= 290 && dt < 900);
	close(f->peer);
	f->peer = -1;
	close(f->s.fd);
	f->s.fd = -1;
	assert_true(waitpid(pid, NULL, 0) == pid);
}

static void
test_pending_discard(void **state)
{
	struct fixture *f = *state;

	/* Pipelined: STARTTLS and the plaintext injected behind it. */
	send_str(f, "STARTTLS\r\nRSET\r\nMAIL FROM:<x>\r\n");
	expect_line(f, 100, STREAM_LINE, "STARTTLS");
	assert_int_equal(stream_pending(&f->s), 6 + 15);
	stream_discard_input(&f->s);
	assert_int_equal(stream_pending(&f->s), 0);
	send_str(f, "EHLO x\r\n");
	expect_line(f, 100, STREAM_LINE, "EHLO x");
}

static void
test_write_flush(void **state)
{
	struct fixture *f = *state;
	char got[64], *big;
	size_t i;

	stream_puts(&f->s, "250-a\r\n");
	stream_printf(&f->s, "%d %s\r\n", 250, "ok");
	stream_write(&f->s, "", 0);
	/* Nothing is sent before the flush. */
	assert_int_equal(io_wait_readable(f->peer, 50), 0);
	assert_int_equal(stream_flush(&f->s), 0);
	assert_int_equal(io_read_full(f->peer, got, 15, 1000), 0);
	assert_memory_equal(got, "250-a\r\n250 ok\r\n", 15);
	assert_true(f->s.bytes_out == 15);
	assert_int_equal(stream_flush(&f->s), 0); /* empty: no-op */

	/* Passing STREAM_OUT_FLUSH sends without an explicit flush. */
	big = malloc(STREAM_OUT_FLUSH);
	assert_non_null(big);
	for (i = 0; i < STREAM_OUT_FLUSH; i++)
		big[i] = (char)('a' + i % 26);
	stream_write(&f->s, big, STREAM_OUT_FLUSH);
	assert_int_equal(f->s.out.len, 0);
	for (i = 0; i < STREAM_OUT_FLUSH; i += 64) {
		size_t n =
		    STREAM_OUT_FLUSH - i < 64 ? STREAM_OUT_FLUSH - i : 64;

		assert_int_equal(io_read_full(f->peer, got, n, 1000), 0);
		assert_memory_equal(got, big + i, n);
	}
	free(big);
	assert_int_equal(stream_error(&f->s), 0);
}

static void
test_write_to_closed_peer(void **state)
{
	struct fixture *f = *state;

	close(f->peer);
	f->peer = -1;
	/* EPIPE, no SIGPIPE; the error sticks. */
	expect_write_failure(f, "221 bye\r\n");
}

static void
test_read_full(void **state)
{
	struct fixture *f = *state;
	char got[32];

	send_str(f, "BDAT 10\r\n0123");
	expect_line(f, 100, STREAM_LINE, "BDAT 10");
	send_str(f, "456789QUIT\r\n");
	assert_int_equal(stream_read_full(&f->s, got, 10), 0);
	assert_memory_equal(got, "0123456789", 10);
	expect_line(f, 100, STREAM_LINE, "QUIT");
	/* stream_read: buffered bytes first, never more than asked. */
	send_str(f, "abcdef");
	assert_int_equal(stream_read(&f->s, got, 4), 4);
	assert_memory_equal(got, "abcd", 4);
	send_str(f, "\n");
	expect_line(f, 100, STREAM_LINE_BARE_LF, "ef");
	/* End of file inside read_full is an error. */
	send_str(f, "12");
	shutdown(f->peer, SHUT_WR);
	assert_int_equal(stream_read_full(&f->s, got, 5), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(stream_error(&f->s), STREAM_IOERR);
}

/* A stream_io that upper-cases what it reads, standing in for TLS. */
struct upper_ctx {
	int fd;
	int reads;
};

static ssize_t
upper_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct upper_ctx *u = ctx;
	ssize_t n, i;

	u->reads++;
	n = io_read_timeout(u->fd, buf, len, timeout_ms);
	for (i = 0; i < n; i++)
		if (((char *)buf)[i] >= 'a' && ((char *)buf)[i] <= 'z')
			((char *)buf)[i] -= 32;
	return n;
}

static ssize_t
upper_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	struct upper_ctx *u = ctx;

	/* Short writes: the stream must loop. */
	if (len > 3)
		len = 3;
	if (io_write_full(u->fd, buf, len, timeout_ms) < 0)
		return -1;
	return (ssize_t)len;
}

static void
test_custom_io(void **state)
{
	static const struct stream_io upper = {upper_read, upper_write};
	struct fixture *f = *state;
	struct upper_ctx u = {f->s.fd, 0};
	char got[16];

	stream_set_io(&f->s, &upper, &u);
	send_str(f, "ehlo x\r\n");
	expect_line(f, 100, STREAM_LINE, "EHLO X");
	assert_true(u.reads > 0);
	stream_puts(&f->s, "250 ok\r\n");
	assert_int_equal(stream_flush(&f->s), 0);
	assert_int_equal(io_read_full(f->peer, got, 8, 1000), 0);
	assert_memory_equal(got, "250 ok\r\n", 8);
	/* Back to the plain descriptor. */
	stream_set_io(&f->s, NULL, NULL);
	send_str(f, "quit\r\n");
	expect_line(f, 100, STREAM_LINE, "quit");
}

/* peek/consume: a byte parser takes what it wants, the rest stays for
 * the line reader (DATA followed by a pipelined QUIT). */
static void
test_peek_consume(void **state)
{
	struct fixture *f = *state;
	const char *p = NULL;
	ssize_t n;

	send_str(f, "body\r\n.\r\nQUIT\r\n");
	n = stream_peek(&f->s, &p);
	assert_int_equal(n, 15);
	assert_memory_equal(p, "body\r\n.\r\n", 9);
	stream_consume(&f->s, 9);
	assert_int_equal(stream_pending(&f->s), 6);
	expect_line(f, 100, STREAM_LINE, "QUIT");
	/* Consuming more than is buffered stops at what is there. */
	send_str(f, "ab");
	assert_int_equal(stream_peek(&f->s, &p), 2);
	stream_consume(&f->s, 10);
	assert_int_equal(stream_pending(&f->s), 0);
	close(f->peer);
	f->peer = open("/dev/null", O_RDONLY);
	assert_int_equal(stream_peek(&f->s, &p), 0);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_line_endings),
	    T(test_line_in_pieces),
	    T(test_too_long),
	    T(test_limit_boundaries),
	    T(test_eof),
	    T(test_eof_clean),
	    T(test_timeout_sticky),
	    T(test_timeout_whole_line),
	    T(test_pending_discard),
	    T(test_write_flush),
	    T(test_write_to_closed_peer),
	    T(test_read_full),
	    T(test_custom_io),
	    T(test_peek_consume),
	    T(test_write_failure_after_read_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
