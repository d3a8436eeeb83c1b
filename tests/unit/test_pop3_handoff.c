/*
 * test_pop3_handoff - lib/pop3_handoff: the front's list round-trips
 * (a relayed socketpair, the client's own socket with and without the
 * input the front had read); a missing, repeated, unknown or malformed
 * attribute, input with a relay, input beyond the limit and a client
 * socket that claims TLS are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "attr.h"
#include "base64.h"
#include "buf.h"
#include "pop3_handoff.h"

#define TICKET "0123456789abcdef0123456789abcdef"

static int
decode(const struct attr_list *l, struct pop3_handoff *h)
{
	struct buf why = BUF_INIT;
	int rc;

	memset(h, 0, sizeof(*h));
	rc = pop3_handoff_decode(l, h, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct pop3_handoff h = {(char *)TICKET, (char *)"USER", (char *)"", 0,
				 BUF_INIT};
	struct pop3_handoff d;
	struct attr_list l = ATTR_LIST_INIT;

	(void)state;
	pop3_handoff_encode(&h, &l);
	assert_int_equal(l.count, 4);
	assert_int_equal(decode(&l, &d), 0);
	assert_string_equal(d.ticket, TICKET);
	assert_string_equal(d.method, "USER");
	assert_string_equal(d.tls, "");
	assert_int_equal(d.client, 0);
	assert_int_equal(d.input.len, 0);
	pop3_handoff_free(&d);
	assert_null(d.ticket);
	attr_list_free(&l);
}

/* The client's socket, with the commands pipelined after the login
 * command (any bytes: CR, LF, NUL, 8-bit), up to the limit. */
static void
test_round_trip_client(void **state)
{
	static const char bytes[] = "STAT\r\nLIST\r\n\0\xff RETR 1\r\n";
	struct pop3_handoff h = {(char *)TICKET, (char *)"SASL PLAIN",
				 (char *)"", 1, BUF_INIT};
	struct pop3_handoff d;
	struct attr_list l = ATTR_LIST_INIT;

	(void)state;
	pop3_handoff_encode(&h, &l);
	assert_int_equal(l.count, 4); /* no input: no attribute */
	assert_int_equal(decode(&l, &d), 0);
	assert_int_equal(d.client, 1);
	assert_int_equal(d.input.len, 0);
	pop3_handoff_free(&d);
	attr_list_free(&l);

	buf_append(&h.input, bytes, sizeof(bytes) - 1);
	pop3_handoff_encode(&h, &l);
	assert_int_equal(l.count, 5);
	assert_int_equal(decode(&l, &d), 0);
	assert_int_equal(d.client, 1);
	assert_int_equal(d.input.len, sizeof(bytes) - 1);
	assert_memory_equal(d.input.data, bytes, sizeof(bytes) - 1);
	pop3_handoff_free(&d);
	assert_null(d.input.data);
	attr_list_free(&l);

	buf_reset(&h.input);
	for (size_t i = 0; i < POP3_HANDOFF_INPUT_MAX; i++)
		buf_putc(&h.input, (char)('a' + i % 26));
	pop3_handoff_encode(&h, &l);
	assert_int_equal(decode(&l, &d), 0);
	assert_int_equal(d.input.len, POP3_HANDOFF_INPUT_MAX);
	pop3_handoff_free(&d);
	attr_list_free(&l);
	buf_free(&h.input);
}

/* A valid list with one change. */
static int
with(const char *name, const char *value)
{
	static const char *const pairs[][2] = {{"ticket", TICKET},
					       {"method", "APOP"},
					       {"tls", "TLSv1.3"},
					       {"socket", "relay"}};
	struct attr_list l = ATTR_LIST_INIT;
	struct pop3_handoff d;
	int found = 0, rc;

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(pairs[i][0], name) == 0) {
			found = 1;
			if (value)
				attr_add_str(&l, name, value);
			continue;
		}
		attr_add_str(&l, pairs[i][0], pairs[i][1]);
	}
	if (!found)
		attr_add_str(&l, name, value);
	rc = decode(&l, &d);
	pop3_handoff_free(&d);
	attr_list_free(&l);
	return rc;
}

static void
test_refused(void **state)
{
	(void)state;
	assert_int_equal(with("method", "USER"), 0);
	assert_int_equal(with("ticket", NULL), -1);
	assert_int_equal(with("ticket", "0123456789ABCDEF0123456789ABCDEF"),
			 -1);
	assert_int_equal(with("ticket", "0123"), -1);
	assert_int_equal(with("method", NULL), -1);
	assert_int_equal(with("method", ""), -1);
	assert_int_equal(with("method", "USER\r\n+OK"), -1);
	assert_int_equal(with("tls", NULL), -1);
	assert_int_equal(with("user", "root"), -1);
	assert_int_equal(with("socket", NULL), -1);
	assert_int_equal(with("socket", "pair"), -1);
	assert_int_equal(with("socket", "Relay"), -1);
	assert_int_equal(with("socket", "client"), -1); /* TLS is on */
	/* Input goes with the client's socket only. */
	assert_int_equal(with("input", "U1RBVA0K"), -1);
}

/* A list for the client's socket, without TLS, with input as given. */
static int
client_with_input(const char *input)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct pop3_handoff d;
	int rc;

	attr_add_str(&l, "ticket", TICKET);
	attr_add_str(&l, "method", "USER");
	attr_add_str(&l, "tls", "");
	attr_add_str(&l, "socket", "client");
	if (input)
		attr_add_str(&l, "input", input);
	rc = decode(&l, &d);
	pop3_handoff_free(&d);
	attr_list_free(&l);
	return rc;
}

static void
test_refused_input(void **state)
{
	struct buf big = BUF_INIT, b64 = BUF_INIT;

	(void)state;
	assert_int_equal(client_with_input(NULL), 0);
	assert_int_equal(client_with_input("U1RBVA0K"), 0); /* "STAT\r\n" */
	assert_int_equal(client_with_input(""), -1);
	assert_int_equal(client_with_input("U1RBVA0K\n"), -1);
	assert_int_equal(client_with_input("U1RBVA0"), -1);  /* no padding */
	assert_int_equal(client_with_input("U1RBVA1="), -1); /* not canonical */
	assert_int_equal(client_with_input("U1RB-A0K"), -1); /* URL alphabet */
	/* One byte beyond the limit. */
	for (size_t i = 0; i < POP3_HANDOFF_INPUT_MAX + 1; i++)
		buf_putc(&big, 'x');
	base64_encode(&b64, big.data, big.len);
	assert_int_equal(client_with_input(buf_cstr(&b64)), -1);
	buf_free(&big);
	buf_free(&b64);
}

static void
test_repeated(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct pop3_handoff d;

	(void)state;
	attr_add_str(&l, "ticket", TICKET);
	attr_add_str(&l, "method", "USER");
	attr_add_str(&l, "tls", "");
	attr_add_str(&l, "socket", "relay");
	attr_add_str(&l, "ticket", TICKET);
	assert_int_equal(decode(&l, &d), -1);
	pop3_handoff_free(&d);
	attr_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_round_trip_client),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_refused_input),
	    cmocka_unit_test(test_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
