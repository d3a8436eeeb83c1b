/*
 * test_attr - lib/attr: encoding, the strict decoder on every malformed
 * form, and attr_send/attr_recv over a real socketpair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "iostuff.h"
#include "sock.h"
#include "xalloc.h"

static enum attr_status
decode_str(const char *s, size_t max_len, struct attr_list *l, size_t *used)
{
	return attr_decode(s, strlen(s), max_len, l, used);
}

static void
test_encode_known(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct buf b = BUF_INIT;

	(void)state;
	attr_encode(&l, &b);
	assert_string_equal(buf_cstr(&b), "0:,");
	attr_add_str(&l, "a", "bc");
	attr_add_int(&l, "n", -12);
	buf_reset(&b);
	attr_encode(&l, &b);
	assert_string_equal(buf_cstr(&b), "19:1:a,2:bc,1:n,3:-12,,");
	buf_free(&b);
	attr_list_free(&l);
}

static void
test_round_trip_binary(void **state)
{
	struct attr_list l = ATTR_LIST_INIT, d = ATTR_LIST_INIT;
	struct buf b = BUF_INIT, b2 = BUF_INIT;
	const char bin[] = {'x', '\0', 'y', ',', ':', '\0'};
	const struct attr *a;
	long long v;
	size_t used;

	(void)state;
	attr_add(&l, "bin", bin, sizeof(bin));
	attr_add_str(&l, "rcpt", "a@example.com");
	attr_add_str(&l, "rcpt", "b@example.com");
	attr_add_str(&l, "empty", "");
	attr_add_int(&l, "size", 1234567890123LL);
	attr_add_str(&l, "name_0_z", "1:x,");
	attr_encode(&l, &b);
	/* Trailing bytes after the list are not part of it. */
	buf_puts(&b, "7:garbage");
	assert_int_equal(attr_decode(b.data, b.len, 4096, &d, &used), ATTR_OK);
	assert_int_equal(used, b.len - 9);
	assert_int_equal(d.count, 6);
	a = attr_get(&d, "bin");
	assert_non_null(a);
	assert_int_equal(a->len, sizeof(bin));
	assert_memory_equal(a->value, bin, sizeof(bin));
	assert_int_equal(a->value[a->len], '\0');
	assert_null(attr_get_str(&d, "bin")); /* contains NUL */
	/* The first of repeated names, and the order is kept. */
	assert_string_equal(attr_get_str(&d, "rcpt"), "a@example.com");
	assert_string_equal(d.items[2].name, "rcpt");
	assert_string_equal(d.items[2].value, "b@example.com");
	assert_string_equal(attr_get_str(&d, "empty"), "");
	assert_int_equal(attr_get_int(&d, "size", &v), 0);
	assert_true(v == 1234567890123LL);
	assert_string_equal(attr_get_str(&d, "name_0_z"), "1:x,");
	assert_null(attr_get(&d, "missing"));
	/* Canonical: re-encoding gives the same bytes. */
	attr_encode(&d, &b2);
	assert_int_equal(b2.len, used);
	assert_memory_equal(b2.data, b.data, used);
	buf_free(&b);
	buf_free(&b2);
	attr_list_free(&l);
	attr_list_free(&d);
}

static void
test_get_int(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	long long v = 99;

	(void)state;
	attr_add_str(&l, "ok", "-42");
	attr_add_str(&l, "space", " 42");
	attr_add_str(&l, "plus", "+42");
	attr_add_str(&l, "junk", "42x");
	attr_add_str(&l, "empty", "");
	attr_add_str(&l, "huge", "99999999999999999999999");
	attr_add(&l, "nul", "4\0002", 3);
	assert_int_equal(attr_get_int(&l, "ok", &v), 0);
	assert_true(v == -42);
	assert_int_equal(attr_get_int(&l, "space", &v), -1);
	assert_int_equal(attr_get_int(&l, "plus", &v), -1);
	assert_int_equal(attr_get_int(&l, "junk", &v), -1);
	assert_int_equal(attr_get_int(&l, "empty", &v), -1);
	assert_int_equal(attr_get_int(&l, "huge", &v), -1);
	assert_int_equal(attr_get_int(&l, "nul", &v), -1);
	assert_int_equal(attr_get_int(&l, "absent", &v), -1);
	assert_true(v == -42);
	attr_list_free(&l);
}

/* Every proper prefix of a valid list is INCOMPLETE, never more. */
static void
test_truncated_every_offset(void **state)
{
	struct attr_list l = ATTR_LIST_INIT, d = ATTR_LIST_INIT;
	struct buf b = BUF_INIT;
	size_t i, used;

	(void)state;
	attr_add_str(&l, "request", "deliver");
	attr_add(&l, "data", "a\0b,c", 5);
	attr_add_str(&l, "x", "");
	attr_encode(&l, &b);
	for (i = 0; i < b.len; i++) {
		used = 12345;
		assert_int_equal(attr_decode(b.data, i, 4096, &d, &used),
				 ATTR_INCOMPLETE);
		assert_int_equal(d.count, 0);
		assert_int_equal(used, 12345);
	}
	assert_int_equal(attr_decode(b.data, b.len, 4096, &d, &used), ATTR_OK);
	assert_int_equal(used, b.len);
	buf_free(&b);
	attr_list_free(&l);
	attr_list_free(&d);
}

static void
test_malformed(void **state)
{
	static const char *bad[] = {
	    "x",			   /* garbage */
	    ":,",			   /* no digits */
	    "-1:,",			   /* sign */
	    "01:x,",			   /* leading zero (outer) */
	    "00:,",			   /* leading zero */
	    "0:.",			   /* wrong terminator */
	    "0;,",			   /* missing ':' */
	    "3:abc,",			   /* payload is not netstrings */
	    "8:1:a,1:b.,",		   /* inner ',' missing */
	    "8:1:a,3:b,,",		   /* inner length overruns the list */
	    "8:1:a,1:bc,",		   /* inner length too short */
	    "9:1:a,01:b,",		   /* leading zero (inner) */
	    "5:1:a,,",			   /* name without value */
	    "6:0:,0:,,",		   /* empty name */
	    "8:1:A,1:b,,",		   /* upper case name */
	    "8:1:-,1:b,,",		   /* '-' in name */
	    "9:1:a,1:b,x,",		   /* trailing byte in payload */
	    "7:1:a,1:b,",		   /* payload shorter than declared */
	    "11:1:a,1:b,123,",		   /* digits up to the end of payload */
	    "10:1:a,1:b,1,,",		   /* a pair cut short by the payload */
	    "8:1:a 1:b,,",		   /* missing inner ',' after name */
	    "8:1:a,1 b,,",		   /* missing inner ':' */
	    " 8:1:a,1:b,,",		   /* white space */
	    "99999999999999999999999999:", /* absurd digit count */
	};
	struct attr_list d = ATTR_LIST_INIT;
	size_t i, used;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum attr_status st = decode_str(bad[i], 1 << 20, &d, &used);

		if (i == sizeof(bad) / sizeof(bad[0]) - 1) {
			/* Too many digits for max_len: refused as too big. */
			assert_int_equal(st, ATTR_TOO_BIG);
			continue;
		}
		if (st != ATTR_MALFORMED)
			fail_msg("\"%s\": status %d", bad[i], st);
		assert_int_equal(d.count, 0);
	}
	/* A NUL in a name. */
	assert_int_equal(attr_decode("8:1:\0,1:b,,", 11, 1 << 20, &d, &used),
			 ATTR_MALFORMED);
	attr_list_free(&d);
}

static void
test_names(void **state)
{
	struct attr_list l = ATTR_LIST_INIT, d = ATTR_LIST_INIT;
	struct buf b = BUF_INIT;
	char name[ATTR_NAME_MAX + 2];
	size_t used;

	(void)state;
	memset(name, 'a', ATTR_NAME_MAX);
	name[ATTR_NAME_MAX] = '\0';
	attr_add_str(&l, name, "v");
	attr_encode(&l, &b);
	assert_int_equal(attr_decode(b.data, b.len, 4096, &d, &used), ATTR_OK);
	assert_non_null(attr_get(&d, name));
	/* One byte longer is refused. */
	attr_list_reset(&l);
	buf_reset(&b);
	name[ATTR_NAME_MAX] = 'a';
	name[ATTR_NAME_MAX + 1] = '\0';
	attr_add_str(&l, name, "v");
	attr_encode(&l, &b);
	assert_int_equal(attr_decode(b.data, b.len, 4096, &d, &used),
			 ATTR_MALFORMED);
	/* A partial bad name is refused before the rest arrives. */
	assert_int_equal(decode_str("20:5:aB", 4096, &d, &used),
			 ATTR_MALFORMED);
	assert_int_equal(decode_str("20:5:ab", 4096, &d, &used),
			 ATTR_INCOMPLETE);
	buf_free(&b);
	attr_list_free(&l);
	attr_list_free(&d);
}

static void
test_too_big(void **state)
{
	struct attr_list l = ATTR_LIST_INIT, d = ATTR_LIST_INIT;
	struct buf b = BUF_INIT;
	size_t used, i;

	(void)state;
	attr_add_str(&l, "a", "0123456789");
	attr_encode(&l, &b); /* "18:1:a,10:0123456789,," = 22 bytes */
	assert_int_equal(b.len, 22);
	assert_int_equal(attr_decode(b.data, b.len, 22, &d, &used), ATTR_OK);
	assert_int_equal(attr_decode(b.data, b.len, 21, &d, &used),
			 ATTR_TOO_BIG);
	assert_int_equal(d.count, 0);
	/* Known from the digits alone, before any payload. */
	assert_int_equal(decode_str("2000", 1000, &d, &used), ATTR_TOO_BIG);
	assert_int_equal(decode_str("200", 1000, &d, &used), ATTR_INCOMPLETE);
	assert_int_equal(decode_str("0:,", 2, &d, &used), ATTR_TOO_BIG);
	assert_int_equal(decode_str("0:,", 3, &d, &used), ATTR_OK);
	assert_int_equal(
	    decode_str("18446744073709551616:", SIZE_MAX, &d, &used),
	    ATTR_TOO_BIG);
	/* More than ATTR_COUNT_MAX pairs. */
	attr_list_reset(&l);
	for (i = 0; i <= ATTR_COUNT_MAX; i++)
		attr_add_str(&l, "r", "");
	buf_reset(&b);
	attr_encode(&l, &b);
	assert_int_equal(attr_decode(b.data, b.len, 1 << 20, &d, &used),
			 ATTR_TOO_BIG);
	attr_list_reset(&l);
	for (i = 0; i < ATTR_COUNT_MAX; i++)
		attr_add_str(&l, "r", "");
	buf_reset(&b);
	attr_encode(&l, &b);
	assert_int_equal(attr_decode(b.data, b.len, 1 << 20, &d, &used),
			 ATTR_OK);
	assert_int_equal(d.count, ATTR_COUNT_MAX);
	buf_free(&b);
	attr_list_free(&l);
	attr_list_free(&d);
}

static void
make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void
test_send_recv_two_lists(void **state)
{
	struct attr_list a = ATTR_LIST_INIT, b = ATTR_LIST_INIT;
	struct attr_list r = ATTR_LIST_INIT;
	int sv[2];
	char c;

	(void)state;
	make_pair(sv);
	attr_add_str(&a, "request", "one");
	attr_add(&a, "blob", "\0\0,", 3);
	attr_add_str(&b, "request", "two");
	assert_int_equal(attr_send(sv[0], &a, 1000), 0);
	assert_int_equal(attr_send(sv[0], &b, 1000), 0);
	assert_int_equal(write(sv[0], "Z", 1), 1);
	/* Both lists are already in the socket: each recv takes one. */
	assert_int_equal(attr_recv(sv[1], &r, 4096, 1000), 0);
	assert_int_equal(r.count, 2);
	assert_string_equal(attr_get_str(&r, "request"), "one");
	assert_int_equal(attr_get(&r, "blob")->len, 3);
	assert_int_equal(attr_recv(sv[1], &r, 4096, 1000), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(attr_get_str(&r, "request"), "two");
	/* Not one byte past the second list was taken. */
	assert_int_equal(read(sv[1], &c, 1), 1);
	assert_int_equal(c, 'Z');
	close(sv[0]);
	close(sv[1]);
	attr_list_free(&a);
	attr_list_free(&b);
	attr_list_free(&r);
}

/* A list read whole in one call (small) or header first (larger than a
 * peek), each followed by a descriptor: the descriptor's byte stays for
 * sock_recv_fd. */
static void
test_recv_then_descriptor(void **state)
{
	struct attr_list a = ATTR_LIST_INIT, r = ATTR_LIST_INIT;
	char big[10000];
	int sv[2], fd;

	(void)state;
	memset(big, 'b', sizeof(big));
	make_pair(sv);
	for (int round = 0; round < 2; round++) {
		attr_list_reset(&a);
		attr_add_str(&a, "request", "deliver");
		if (round == 1)
			attr_add(&a, "big", big, sizeof(big));
		assert_int_equal(attr_send(sv[0], &a, 1000), 0);
		assert_int_equal(sock_send_fd(sv[0], 0), 0);
		assert_int_equal(attr_recv(sv[1], &r, 65536, 1000), 0);
		assert_string_equal(attr_get_str(&r, "request"), "deliver");
		assert_int_equal(r.count, round == 1 ? 2 : 1);
		fd = sock_recv_fd(sv[1], 1000);
		assert_true(fd >= 0);
		close(fd);
	}
	close(sv[0]);
	close(sv[1]);
	attr_list_free(&a);
	attr_list_free(&r);
}

static void
test_recv_timeout(void **state)
{
	struct attr_list r = ATTR_LIST_INIT;
	long long t0;
	int sv[2];

	(void)state;
	make_pair(sv);
	t0 = io_now_ms();
	assert_int_equal(attr_recv(sv[1], &r, 4096, 200), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(io_now_ms() - t0 >= 190);
	assert_true(io_now_ms() - t0 < 2000);
	/* A list that stalls half way also times out, as a whole. */
	assert_int_equal(write(sv[0], "10:1:a", 6), 6);
	assert_int_equal(attr_recv(sv[1], &r, 4096, 200), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
	attr_list_free(&r);
}

static void
test_recv_eof(void **state)
{
	struct attr_list r = ATTR_LIST_INIT;
	int sv[2];

	(void)state;
	/* Peer closes before a list. */
	make_pair(sv);
	close(sv[0]);
	assert_int_equal(attr_recv(sv[1], &r, 4096, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	close(sv[1]);
	/* Peer closes in the middle of the digits, then of the payload. */
	make_pair(sv);
	assert_int_equal(write(sv[0], "1", 1), 1);
	close(sv[0]);
	assert_int_equal(attr_recv(sv[1], &r, 4096, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	close(sv[1]);
	make_pair(sv);
	assert_int_equal(write(sv[0], "10:1:a,3:", 9), 9);
	close(sv[0]);
	assert_int_equal(attr_recv(sv[1], &r, 4096, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(r.count, 0);
	close(sv[1]);
	attr_list_free(&r);
}

static void
test_recv_bad_input(void **state)
{
	struct attr_list r = ATTR_LIST_INIT;
	int sv[2];
	char c;

	(void)state;
	make_pair(sv);
	/* Oversized: refused from the digits, the payload is not read. */
	assert_int_equal(write(sv[0], "99999:xyz", 9), 9);
	assert_int_equal(attr_recv(sv[1], &r, 1000, 1000), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(read(sv[1], &c, 1), 1);
	assert_int_equal(c, '9'); /* stopped at the 4th digit */
	close(sv[0]);
	close(sv[1]);
	make_pair(sv);
	assert_int_equal(write(sv[0], "8:1:A,1:b,,", 11), 11);
	assert_int_equal(attr_recv(sv[1], &r, 1000, 1000), -1);
	assert_int_equal(errno, EPROTO);
	close(sv[0]);
	close(sv[1]);
	make_pair(sv);
	assert_int_equal(write(sv[0], "GET / HTTP/1.0\r\n", 16), 16);
	assert_int_equal(attr_recv(sv[1], &r, 1000, 1000), -1);
	assert_int_equal(errno, EPROTO);
	close(sv[0]);
	close(sv[1]);
	attr_list_free(&r);
}

static void
test_send_to_closed_peer(void **state)
{
	struct attr_list a = ATTR_LIST_INIT;
	int sv[2];

	(void)state;
	make_pair(sv);
	close(sv[1]);
	attr_add_str(&a, "x", "y");
	/* EPIPE, and no SIGPIPE killing the test. */
	assert_int_equal(attr_send(sv[0], &a, 1000), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
	attr_list_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_known),
	    cmocka_unit_test(test_round_trip_binary),
	    cmocka_unit_test(test_get_int),
	    cmocka_unit_test(test_truncated_every_offset),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_send_recv_two_lists),
	    cmocka_unit_test(test_recv_then_descriptor),
	    cmocka_unit_test(test_recv_timeout),
	    cmocka_unit_test(test_recv_eof),
	    cmocka_unit_test(test_recv_bad_input),
	    cmocka_unit_test(test_send_to_closed_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
