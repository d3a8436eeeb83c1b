/*
 * test_delivery_log - lib/delivery_log: Postfix's delay numbers, the
 * delays= stages, orig_to, and ORCPT decoding, as tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "delivery_log.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void
test_delay_numbers(void **state)
{
	static const struct {
		long long usec;
		int decimals;
		const char *want;
	} rows[] = {
	    /* The default, two decimals. */
	    {0, 2, "0"},
	    {4999, 2, "0"},
	    {5000, 2, "0.01"},
	    {12345, 2, "0.01"},
	    {50000, 2, "0.05"},
	    {234000, 2, "0.23"},
	    {500000, 2, "0.5"},
	    {995000, 2, "1"},
	    {1000000, 2, "1"},
	    {1050000, 2, "1.1"},
	    {1234000, 2, "1.2"},
	    {9960000, 2, "10"},
	    {12499999, 2, "12"},
	    {12600000, 2, "13"},
	    {3600000000LL, 2, "3600"},
	    {-5, 2, "0"},
	    /* More decimals: still two significant digits. */
	    {23400, 3, "0.023"},
	    {234000, 3, "0.23"},
	    {400, 3, "0"},
	    {1, 6, "0.000001"},
	    {123456, 6, "0.12"},
	    {1234567, 6, "1.2"},
	    /* Fewer. */
	    {234000, 1, "0.2"},
	    {40000, 1, "0"},
	    {499999, 0, "0"},
	    {500000, 0, "1"},
	    {1234000, 0, "1"},
	    {12600000, 0, "13"},
	    /* Out of range: clamped. */
	    {1, 9, "0.000001"},
	    {1234000, -1, "1"},
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		buf_reset(&out);
		delivery_log_delay(&out, rows[i].usec, rows[i].decimals);
		if (strcmp(buf_cstr(&out), rows[i].want) != 0)
			fail_msg("%lld us, %d decimals: \"%s\", want \"%s\"",
				 rows[i].usec, rows[i].decimals, buf_cstr(&out),
				 rows[i].want);
	}
	buf_free(&out);
}

#define T 1764355213.0

static void
test_lines(void **state)
{
	static const struct {
		struct delivery_event ev;
		int decimals;
		const char *want;
	} rows[] = {
	    /* local: an agent without a connection; orig_to differing only
	     * in case is not shown. */
	    {{"1K1T9ZD2AKY0050F", "alice@example.org", "Alice@Example.ORG",
	      "local", "2.0.0", "sent", "delivered to mailbox", T, T + 0.25,
	      T + 0.5, 0, T + 1.734},
	     2,
	     "1K1T9ZD2AKY0050F: to=<alice@example.org>, relay=local, "
	     "delay=1.7, delays=0.25/0.25/0/1.2, dsn=2.0.0, status=sent "
	     "(delivered to mailbox)"},
	    /* smtp: every stage. */
	    {{"1K1T9ZD26GF0050F", "rcpt@panacea.test", "orig+x@panacea.test",
	      "mx1.panacea.test[127.0.0.1]:25", "4.0.0", "deferred",
	      "host mx1.panacea.test[127.0.0.1] said: 451 try later (in "
	      "reply to RCPT TO command)",
	      T, T + 0.012, T + 0.02, T + 0.5, T + 13.1},
	     2,
	     "1K1T9ZD26GF0050F: to=<rcpt@panacea.test>, "
	     "orig_to=<orig+x@panacea.test>, "
	     "relay=mx1.panacea.test[127.0.0.1]:25, delay=13, "
	     "delays=0.01/0.01/0.48/13, dsn=4.0.0, status=deferred (host "
	     "mx1.panacea.test[127.0.0.1] said: 451 try later (in reply to "
	     "RCPT TO command))"},
	    /* qmgr alone: b runs to the end. */
	    {{"1K1T9ZD2DWF0050H", "dave@remote.example", NULL, "none", "4.4.1",
	      "deferred", "connect refused", T, T + 2, 0, 0, T + 5},
	     2,
	     "1K1T9ZD2DWF0050H: to=<dave@remote.example>, relay=none, "
	     "delay=5, delays=2/3/0/0, dsn=4.4.1, status=deferred (connect "
	     "refused)"},
	    /* Never active: everything is a. */
	    {{"1K1T9ZD2GJ50050F", "x@y", "", "none", "5.0.0", "bounced", "", T,
	      0, 0, 0, T + 0.7},
	     2,
	     "1K1T9ZD2GJ50050F: to=<x@y>, relay=none, delay=0.7, "
	     "delays=0.7/0/0/0, dsn=5.0.0, status=bounced ()"},
	    /* A clock step: a stage ending before it starts counts 0. */
	    {{"1K1T9ZD2GJ50050F", "x@y", NULL, "local", "2.0.0", "sent", "ok",
	      T, T - 5, T + 1, 0, T + 2},
	     2,
	     "1K1T9ZD2GJ50050F: to=<x@y>, relay=local, delay=2, "
	     "delays=0/6/0/1, dsn=2.0.0, status=sent (ok)"},
	    /* Three decimals. */
	    {{"1K1T9ZD2GJ50050F", "x@y", "z@y", "local", "2.0.0", "sent", "ok",
	      T, T + 0.0234, T + 0.0468, 0, T + 0.5},
	     3,
	     "1K1T9ZD2GJ50050F: to=<x@y>, orig_to=<z@y>, relay=local, "
	     "delay=0.5, delays=0.023/0.023/0/0.45, dsn=2.0.0, status=sent "
	     "(ok)"},
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		buf_reset(&out);
		delivery_log_format(&out, &rows[i].ev, rows[i].decimals);
		if (strcmp(buf_cstr(&out), rows[i].want) != 0)
			fail_msg("row %zu:\n got \"%s\"\nwant \"%s\"", i,
				 buf_cstr(&out), rows[i].want);
	}
	buf_free(&out);
}

static void
test_orcpt(void **state)
{
	static const struct {
		const char *orcpt, *want;
	} rows[] = {
	    {"rfc822;orig+2Bx@panacea.test", "orig+x@panacea.test"},
	    {"orig+2Bx@panacea.test", "orig+x@panacea.test"},
	    {"rfc822;a+0Ab@x", "a?b@x"},
	    {"rfc822;a+00b@x", "a?b@x"},
	    {"rfc822;a+7Fb@x", "a?b@x"},
	    {"rfc822;bad+zz@x", "bad+zz@x"},
	    {"", ""},
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		buf_set(&out, "junk");
		delivery_log_orcpt(&out, rows[i].orcpt);
		assert_string_equal(buf_cstr(&out), rows[i].want);
	}
	buf_free(&out);
}

static void
test_status(void **state)
{
	(void)state;
	assert_string_equal(delivery_log_status(2), "sent");
	assert_string_equal(delivery_log_status(4), "deferred");
	assert_string_equal(delivery_log_status(5), "bounced");
	assert_string_equal(delivery_log_status(0), "deferred");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay_numbers),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_orcpt),
	    cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
