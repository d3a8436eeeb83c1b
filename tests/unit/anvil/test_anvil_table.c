/*
 * test_anvil_table - anvil's counters (anvil/anvil_table.c): counts in
 * flight, rates within a time unit that starts at a client's first event
 * and starts over after it, idents counted apart, expiry of idle
 * clients, and the statistics lines with their peaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anvil.h"
#include "buf.h"

#define UNIT 60000

static void
test_connect_count_and_rate(void **state)
{
	struct anvil_table *t = anvil_table_new(UNIT);
	int count, rate;

	(void)state;
	anvil_table_connect(t, "smtp:192.0.2.1", 1000, &count, &rate);
	assert_int_equal(count, 1);
	assert_int_equal(rate, 1);
	anvil_table_connect(t, "smtp:192.0.2.1", 2000, &count, &rate);
	assert_int_equal(count, 2);
	assert_int_equal(rate, 2);
	/* Another ident (service or address) is counted apart. */
	anvil_table_connect(t, "submission:192.0.2.1", 2000, &count, &rate);
	assert_int_equal(count, 1);
	assert_int_equal(rate, 1);
	assert_int_equal(anvil_table_size(t), 2);
	assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 3000), 0);
	anvil_table_connect(t, "smtp:192.0.2.1", 4000, &count, &rate);
	assert_int_equal(count, 2);
	assert_int_equal(rate, 3);
	/* Disconnects beyond the connects are refused. */
	assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 5000), 0);
	assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 5000), 0);
	assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 5000), -1);
	assert_int_equal(anvil_table_disconnect(t, "smtp:198.51.100.1", 5000),
			 -1);
	anvil_table_free(t);
}

static void
test_rates_start_over_after_the_unit(void **state)
{
	struct anvil_table *t = anvil_table_new(UNIT);
	int count, rate;

	(void)state;
	/* The window starts at the first event (t = 1000). */
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_MAIL, 1, 1000),
			 1);
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_MAIL, 1, 30000),
			 2);
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_RCPT, 1, 30000),
			 1);
	/* A report counts nothing. */
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_MAIL, 0, 60999),
			 2);
	assert_int_equal(
	    anvil_table_event(t, "s:a", ANVIL_RATE_NEWTLS, 0, 60999), 0);
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_MAIL, 1, 60999),
			 3);
	/* At 1000 + UNIT every rate starts over, the count does not. */
	anvil_table_connect(t, "s:a", 60999, &count, &rate);
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_MAIL, 0, 61000),
			 0);
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_AUTH, 1, 61000),
			 1);
	assert_int_equal(anvil_table_event(t, "s:a", ANVIL_RATE_MAIL, 1, 61000),
			 1);
	anvil_table_connect(t, "s:a", 62000, &count, &rate);
	assert_int_equal(count, 2);
	assert_int_equal(rate, 1);
	/* A report on an unknown ident makes no entry. */
	assert_int_equal(
	    anvil_table_event(t, "s:b", ANVIL_RATE_NEWTLS, 0, 62000), 0);
	assert_int_equal(anvil_table_size(t), 1);
	anvil_table_free(t);
}

static void
test_expire(void **state)
{
	struct anvil_table *t = anvil_table_new(UNIT);
	char ident[32];
	int count, rate;

	(void)state;
	/* Enough idents to make the table grow. */
	for (int i = 0; i < 1000; i++) {
		snprintf(ident, sizeof(ident), "smtp:10.0.%d.%d", i / 256,
			 i % 256);
		anvil_table_event(t, ident, ANVIL_RATE_RCPT, 1, 1000);
	}
	anvil_table_connect(t, "smtp:10.9.9.9", 1000, &count, &rate);
	assert_int_equal(anvil_table_size(t), 1001);
	anvil_table_expire(t, 1000 + UNIT - 1);
	assert_int_equal(anvil_table_size(t), 1001);
	anvil_table_expire(t, 1000 + UNIT);
	/* A client still connected stays. */
	assert_int_equal(anvil_table_size(t), 1);
	assert_int_equal(
	    anvil_table_event(t, "smtp:10.0.0.1", ANVIL_RATE_RCPT, 1, 70000),
	    1);
	assert_int_equal(anvil_table_disconnect(t, "smtp:10.9.9.9", 70000), 0);
	anvil_table_expire(t, 1000 + 2 * UNIT);
	assert_int_equal(anvil_table_size(t), 1);
	anvil_table_expire(t, 70000 + UNIT);
	assert_int_equal(anvil_table_size(t), 0);
	anvil_table_free(t);
}

static void
collect(const char *line, void *ctx)
{
	struct buf *b = ctx;

	buf_puts(b, line);
	buf_puts(b, "\n");
}

static void
test_report(void **state)
{
	struct anvil_table *t = anvil_table_new(UNIT);
	struct buf out = BUF_INIT;
	int count, rate;

	(void)state;
	setenv("TZ", "UTC", 1);
	anvil_table_connect(t, "smtp:192.0.2.1", 1000, &count, &rate);
	anvil_table_connect(t, "smtp:192.0.2.1", 2000, &count, &rate);
	anvil_table_connect(t, "smtp:192.0.2.2", 3000, &count, &rate);
	anvil_table_event(t, "smtp:192.0.2.2", ANVIL_RATE_MAIL, 1, 4000);
	anvil_table_event(t, "smtp:192.0.2.2", ANVIL_RATE_AUTH, 1, 5000);
	anvil_table_event(t, "smtp:192.0.2.2", ANVIL_RATE_NEWTLS, 0, 5000);
	/* now_ms 11000 is 2021-02-03 04:05:16 UTC: the events 10 s before
	 * are at 04:05:06 and later. */
	anvil_table_report(t, 11000, 1612325116, collect, &out);
	assert_string_equal(
	    buf_cstr(&out),
	    "statistics: max connection rate 2/60s for (smtp:192.0.2.1) at "
	    "Feb  3 04:05:07\n"
	    "statistics: max connection count 2 for (smtp:192.0.2.1) at "
	    "Feb  3 04:05:07\n"
	    "statistics: max message rate 1/60s for (smtp:192.0.2.2) at "
	    "Feb  3 04:05:09\n"
	    "statistics: max auth rate 1/60s for (smtp:192.0.2.2) at "
	    "Feb  3 04:05:10\n"
	    "statistics: max cache size 2 at Feb  3 04:05:08\n");
	/* The peaks are forgotten: nothing new, nothing said. */
	buf_reset(&out);
	anvil_table_report(t, 12000, 1612325117, collect, &out);
	assert_int_equal(out.len, 0);
	anvil_table_event(t, "smtp:192.0.2.2", ANVIL_RATE_RCPT, 1, 13000);
	anvil_table_report(t, 13000, 1612325118, collect, &out);
	assert_string_equal(buf_cstr(&out),
			    "statistics: max recipient rate 1/60s for "
			    "(smtp:192.0.2.2) at Feb  3 04:05:18\n");
	buf_free(&out);
	anvil_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_count_and_rate),
	    cmocka_unit_test(test_rates_start_over_after_the_unit),
	    cmocka_unit_test(test_expire),
	    cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
