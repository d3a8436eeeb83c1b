/*
 * test_backoff - the retry delay of deferred messages (qmgr/backoff).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

static void
test_doubles_from_minimum(void **state)
{
	(void)state;
	assert_int_equal(backoff_delay(1, 300, 4000), 300);
	assert_int_equal(backoff_delay(2, 300, 4000), 600);
	assert_int_equal(backoff_delay(3, 300, 4000), 1200);
	assert_int_equal(backoff_delay(4, 300, 4000), 2400);
}

static void
test_capped_at_maximum(void **state)
{
	(void)state;
	assert_int_equal(backoff_delay(5, 300, 4000), 4000);
	assert_int_equal(backoff_delay(100, 300, 4000), 4000);
	assert_int_equal(backoff_delay(UINT32_MAX, 300, 4000), 4000);
	/* Near the top of int64: no overflow on the way. */
	assert_int_equal(backoff_delay(UINT32_MAX, 1, INT64_MAX), INT64_MAX);
	assert_int_equal(backoff_delay(63, 1, INT64_MAX), INT64_C(1) << 62);
}

static void
test_zero_attempts_is_first(void **state)
{
	(void)state;
	assert_int_equal(backoff_delay(0, 2, 60), 2);
	assert_int_equal(backoff_delay(1, 2, 60), 2);
	assert_int_equal(backoff_delay(2, 2, 60), 4);
}

static void
test_bad_bounds(void **state)
{
	(void)state;
	/* A maximum below the minimum: the minimum wins. */
	assert_int_equal(backoff_delay(1, 500, 100), 500);
	assert_int_equal(backoff_delay(9, 500, 100), 500);
	/* A zero minimum would never back off: taken as one second. */
	assert_int_equal(backoff_delay(1, 0, 100), 1);
	assert_int_equal(backoff_delay(3, 0, 100), 4);
	/* Equal bounds: constant. */
	assert_int_equal(backoff_delay(7, 60, 60), 60);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doubles_from_minimum),
	    cmocka_unit_test(test_capped_at_maximum),
	    cmocka_unit_test(test_zero_attempts_is_first),
	    cmocka_unit_test(test_bad_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
