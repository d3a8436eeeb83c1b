/*
 * test_conc_feedback - the per-destination concurrency window
 * (lib/conc_feedback): the feedback values, slow start, growth to the
 * limit, shrinking and the failed-cohort limit, step by step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conc_feedback.h"

static struct conc_params
params(int initial, int limit, const char *pos, const char *neg, int cohorts)
{
	struct conc_params p;

	p.initial = initial;
	p.limit = limit;
	assert_int_equal(conc_feedback_parse(pos, &p.positive), 0);
	assert_int_equal(conc_feedback_parse(neg, &p.negative), 0);
	p.cohort_limit = cohorts;
	return p;
}

static void
test_parse(void **state)
{
	struct conc_feedback f;
	static const char *const bad[] = {
	    "",
	    " ",
	    "2",
	    "1.5",
	    "-1",
	    "abc",
	    "1/",
	    "1/0",
	    "3/2",
	    "1/x",
	    "0.5.5",
	    "1 2",
	    "2/concurrency",
	    "1/concurrencyx",
	    "1/concurrency 2",
	    "1//2",
	    "/2",
	    "1/2/3",
	    "0x1",
	};

	(void)state;
	assert_int_equal(conc_feedback_parse("1", &f), 0);
	assert_true(f.value == 1 && !f.per_window);
	assert_int_equal(conc_feedback_parse(" 0 ", &f), 0);
	assert_true(f.value == 0 && !f.per_window);
	assert_int_equal(conc_feedback_parse(".25", &f), 0);
	assert_true(f.value == 0.25 && !f.per_window);
	assert_int_equal(conc_feedback_parse("1/2", &f), 0);
	assert_true(f.value == 0.5 && !f.per_window);
	/* The quotient is what must be in 0..1. */
	assert_int_equal(conc_feedback_parse("2 / 4", &f), 0);
	assert_true(f.value == 0.5 && !f.per_window);
	assert_int_equal(conc_feedback_parse("1/concurrency", &f), 0);
	assert_true(f.value == 1 && f.per_window);
	assert_int_equal(conc_feedback_parse("0.5 / concurrency", &f), 0);
	assert_true(f.value == 0.5 && f.per_window);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(conc_feedback_parse(bad[i], &f), -1);
	f.value = 1;
	f.per_window = 1;
	assert_true(conc_feedback_amount(&f, 4) == 0.25);
	f.per_window = 0;
	assert_true(conc_feedback_amount(&f, 4) == 1);
}

/* The windows after each of n successes, the window being fully used
 * (busy = window) unless busy > 0 is given. */
static void
successes(struct conc_window *w, const struct conc_params *p, int busy,
	  const int *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		conc_window_success(w, p, busy > 0 ? busy : w->window);
		assert_int_equal(w->window, want[i]);
	}
}

static void
test_slow_start_doubles_per_cohort(void **state)
{
	/* Postfix's defaults: start at 5, feedback 1 per delivery. */
	struct conc_params p = params(5, 20, "1", "1", 1);
	struct conc_window w;
	static const int want[] = {6,  7,  8,  9,  10, 11, 12, 13,
				   14, 15, 16, 17, 18, 19, 20, 20};

	(void)state;
	conc_window_init(&w, &p);
	assert_int_equal(w.window, 5);
	/* One pseudo-cohort (5 deliveries) later the window is 10. */
	successes(&w, &p, 0, want, 16);
}

static void
test_linear_growth(void **state)
{
	/* 1/concurrency: one more per pseudo-cohort. */
	struct conc_params p = params(5, 20, "1/concurrency", "1", 1);
	struct conc_window w;
	static const int want[] = {5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7};

	(void)state;
	conc_window_init(&w, &p);
	successes(&w, &p, 0, want, 11);
	/* A constant half: one more every second delivery. */
	p = params(2, 20, "1/2", "1", 1);
	conc_window_init(&w, &p);
	static const int half[] = {2, 3, 3, 4, 4, 5};
	successes(&w, &p, 0, half, 6);
}

static void
test_limits(void **state)
{
	struct conc_params p = params(5, 7, "1", "1", 1);
	struct conc_window w;
	static const int capped[] = {6, 7, 7, 7};
	static const int idle[] = {3, 3, 3};

	(void)state;
	conc_window_init(&w, &p);
	successes(&w, &p, 0, capped, 4);
	/* An initial window above the limit (local: 5 and 2) is the limit. */
	p = params(5, 2, "1", "1", 1);
	conc_window_init(&w, &p);
	assert_int_equal(w.window, 2);
	/* Growth needs a window in use: with one delivery in flight it
	 * stops at busy + initial. */
	p = params(2, 20, "1", "1", 1);
	conc_window_init(&w, &p);
	successes(&w, &p, 1, idle, 3);
	assert_true(conc_window_success(&w, &p, 1) == 0);
}

static void
test_failures_shrink_then_dead(void **state)
{
	struct conc_params p = params(5, 20, "1", "1", 1);
	struct conc_window w;
	double f;

	(void)state;
	conc_window_init(&w, &p);
	/* Failed cohorts: 1/5, + 1/4, + 1/3 (0.78), + 1/2: dead. */
	assert_int_equal(conc_window_failure(&w, &p, &f), 0);
	assert_int_equal(w.window, 4);
	assert_true(f == 1);
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 3);
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 2);
	assert_int_equal(conc_window_failure(&w, &p, &f), 1);
	assert_true(f == 0);
	/* Back from the dead: the initial window again. */
	conc_window_init(&w, &p);
	assert_int_equal(w.window, 5);
	assert_true(w.fail_cohorts == 0);
}

static void
test_success_resets_failed_cohorts(void **state)
{
	struct conc_params p = params(4, 20, "1", "1", 1);
	struct conc_window w;

	(void)state;
	conc_window_init(&w, &p);
	for (int i = 0; i < 10; i++) {
		/* 1/4 + 1/3 each time, never a whole cohort. */
		assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
		assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
		assert_int_equal(w.window, 2);
		conc_window_success(&w, &p, w.window);
		conc_window_success(&w, &p, w.window);
		assert_int_equal(w.window, 4);
	}
	/* A limit of two cohorts: a window of 1 fails twice. */
	p = params(1, 20, "1", "1", 2);
	conc_window_init(&w, &p);
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(conc_window_failure(&w, &p, NULL), 1);
}

static void
test_gentle_negative_feedback(void **state)
{
	/* 1/concurrency, never dead: the window shrinks at the first
	 * failure of each run of N, never below 1. */
	struct conc_params p = params(10, 20, "1", "1/concurrency", 0);
	struct conc_window w;

	(void)state;
	conc_window_init(&w, &p);
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 9);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
		assert_int_equal(w.window, 9);
	}
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 8);
	p = params(3, 20, "1", "1", 0);
	conc_window_init(&w, &p);
	for (int i = 0; i < 100; i++)
		assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 1);
	/* Zero feedback and no cohort limit: immune to failures. */
	p = params(3, 20, "1", "0", 0);
	conc_window_init(&w, &p);
	for (int i = 0; i < 100; i++)
		assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 3);
}

static void
test_growth_after_shrinking(void **state)
{
	/* A shrink clears the success count; a step up clears the failure
	 * count, so the next failure shrinks at once. */
	struct conc_params p = params(4, 20, "1/2", "1/2", 0);
	struct conc_window w;

	(void)state;
	conc_window_init(&w, &p);
	conc_window_success(&w, &p, 4); /* success 0.5 */
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 3); /* failure 0.5, success 0 */
	assert_true(w.success == 0);
	conc_window_success(&w, &p, 3);
	assert_int_equal(w.window, 3);
	conc_window_success(&w, &p, 3);
	assert_int_equal(w.window, 4);
	assert_true(w.failure == 0);
	assert_int_equal(conc_window_failure(&w, &p, NULL), 0);
	assert_int_equal(w.window, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_slow_start_doubles_per_cohort),
	    cmocka_unit_test(test_linear_growth),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_failures_shrink_then_dead),
	    cmocka_unit_test(test_success_resets_failed_cohorts),
	    cmocka_unit_test(test_gentle_negative_feedback),
	    cmocka_unit_test(test_growth_after_shrinking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
