/*
 * test_event_conn - lib/event_conn over a socketpair in the event loop:
 * requests split across reads and pipelined ones are answered one at a
 * time and in order, a request handler's -1 and the peer's end of file
 * close the connection (closed() runs once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "event_conn.h"
#include "events.h"
#include "iostuff.h"

/* The test protocol: a request is a line; the reply is "<LINE>\n";
 * "bye" closes. */
static int nrequests, nclosed;

static int
line_request(struct event_conn *c, struct buf *in, struct buf *out)
{
	const char *nl = memchr(in->data, '\n', in->len);
	size_t n;

	(void)c;
	assert_int_equal(out->len, 0); /* one reply at a time */
	if (nl == NULL)
		return 0;
	n = (size_t)(nl - in->data);
	nrequests++;
	if (n == 3 && memcmp(in->data, "bye", 3) == 0)
		return -1;
	buf_puts(out, "<");
	buf_append(out, in->data, n);
	buf_puts(out, ">\n");
	buf_consume(in, n + 1);
	return 0;
}

static void
closed(struct event_conn *c)
{
	(void)c;
	nclosed++;
}

static const struct event_conn_ops ops = {
    .request = line_request,
    .closed = closed,
};

static int
teardown(void **state)
{
	(void)state;
	event_reset();
	return 0;
}

/* A connection served on sv[0] (event_conn_new with wipe), its peer
 * sv[1]; the counters start at 0. */
static void
serve_pair(int sv[2], int wipe)
{
	nrequests = nclosed = 0;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	io_set_nonblock(sv[0], 1);
	event_conn_new(sv[0], &ops, NULL, wipe);
}

/* Runs the loop until the connection is closed, which it must be soon. */
static void
expect_closed(void)
{
	for (int i = 0; i < 10 && nclosed == 0; i++)
		event_loop(50);
	assert_int_equal(nclosed, 1);
}

/* Runs the loop until the peer has want bytes (or the loop idles). */
static void
read_reply(int fd, char *out, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n;

		event_loop(100);
		n = recv(fd, out + got, want - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	out[got] = '\0';
}

static void
test_requests_in_order(void **state)
{
	int sv[2];
	char reply[64];

	(void)state;
	serve_pair(sv, 1);
	/* Split across writes. */
	assert_int_equal(write(sv[1], "he", 2), 2);
	event_loop(50);
	assert_int_equal(nrequests, 0);
	assert_int_equal(write(sv[1], "llo\n", 4), 4);
	read_reply(sv[1], reply, 8);
	assert_string_equal(reply, "<hello>\n");
	/* Pipelined: both answered, in order. */
	assert_int_equal(write(sv[1], "a\nbb\n", 5), 5);
	read_reply(sv[1], reply, 9);
	assert_string_equal(reply, "<a>\n<bb>\n");
	assert_int_equal(nrequests, 3);
	/* The handler's -1 closes: end of file for the peer. */
	assert_int_equal(write(sv[1], "bye\n", 4), 4);
	expect_closed();
	assert_int_equal(recv(sv[1], reply, sizeof(reply), 0), 0);
	close(sv[1]);
}

static void
test_peer_end_of_file(void **state)
{
	int sv[2];

	(void)state;
	serve_pair(sv, 0);
	assert_int_equal(write(sv[1], "half", 4), 4);
	close(sv[1]);
	expect_closed();
	assert_int_equal(nrequests, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_requests_in_order, teardown),
	    cmocka_unit_test_teardown(test_peer_end_of_file, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
