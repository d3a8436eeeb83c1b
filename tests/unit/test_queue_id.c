/*
 * test_queue_id - queue ids: fixed width, alphabet, order = arrival order,
 * unique when made quickly and by two processes at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "queue.h"
#include "xalloc.h"

#define MANY 200000

static void
test_make_known(void **state)
{
	char id[QUEUE_ID_SIZE];

	(void)state;
	queue_id_make(id, 0, 0);
	assert_string_equal(id, "0000000000000000");
	queue_id_make(id, 1, 1);
	assert_string_equal(id, "0000000000100001");
	queue_id_make(id, 31, 32);
	assert_string_equal(id, "0000000000Z00010");
	/* 2023-11-14 22:13:20 UTC, pid 4194303 (Linux pid_max). */
	queue_id_make(id, UINT64_C(1700000000000000), 4194303);
	assert_int_equal(strlen(id), QUEUE_ID_LEN);
	assert_true(queue_id_valid(id));
	assert_true(queue_id_usec(id) == UINT64_C(1700000000000000));
	assert_string_equal(id + 11, "3ZZZZ");
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(queue_id_valid("0123456789ABCDEF"));
	assert_true(queue_id_valid("GHJKMNPQRSTVWXYZ"));
	assert_false(queue_id_valid(""));
	assert_false(queue_id_valid("0123456789ABCDE"));
	assert_false(queue_id_valid("0123456789ABCDEF0"));
	assert_false(queue_id_valid("0123456789abcdef"));
	assert_false(queue_id_valid("0123456789ABCDEI"));
	assert_false(queue_id_valid("0123456789ABCDEL"));
	assert_false(queue_id_valid("0123456789ABCDEO"));
	assert_false(queue_id_valid("0123456789ABCDEU"));
	assert_false(queue_id_valid("0123456789ABCDE/"));
	assert_false(queue_id_valid("0123456789ABCD\nE"));
}

/* Byte order of ids is the order of their times, whatever the pids. */
static void
test_order_is_time_order(void **state)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];
	uint64_t t1, t2;
	int i;

	(void)state;
	srandom(42);
	for (i = 0; i < 100000; i++) {
		t1 = ((uint64_t)random() << 20) ^ (uint64_t)random();
		t2 = t1 + 1 + (uint64_t)(random() % 1000000);
		queue_id_make(a, t1, (uint32_t)random() % 4194304);
		queue_id_make(b, t2, (uint32_t)random() % 4194304);
		assert_true(strcmp(a, b) < 0);
		assert_true(queue_id_usec(a) == t1);
		assert_true(queue_id_usec(b) == t2);
	}
}

static void
test_new_unique_ordered(void **state)
{
	char prev[QUEUE_ID_SIZE], id[QUEUE_ID_SIZE];
	struct timeval tv;
	int i;

	(void)state;
	queue_id_new(prev, NULL);
	for (i = 0; i < MANY; i++) {
		queue_id_new(id, &tv);
		assert_true(queue_id_valid(id));
		assert_true(strcmp(prev, id) < 0);
		assert_true(queue_id_usec(id) == (uint64_t)tv.tv_sec * 1000000 +
						     (uint64_t)tv.tv_usec);
		memcpy(prev, id, sizeof(id));
	}
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Two processes making ids at the same time never make the same one. */
static void
test_two_processes(void **state)
{
	enum { N = 50000 };
	char(*ids)[QUEUE_ID_SIZE] = xcalloc(2 * N, QUEUE_ID_SIZE);
	int fds[2], status, i;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		for (i = 0; i < N; i++)
			queue_id_new(ids[i], NULL);
		n = write(fds[1], ids, (size_t)N * QUEUE_ID_SIZE);
		_exit(n == (ssize_t)N * QUEUE_ID_SIZE ? 0 : 1);
	}
	close(fds[1]);
	for (i = 0; i < N; i++)
		queue_id_new(ids[N + i], NULL);
	while (got < (size_t)N * QUEUE_ID_SIZE &&
	       (n = read(fds[0], (char *)ids + got,
			 (size_t)N * QUEUE_ID_SIZE - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(got, (size_t)N * QUEUE_ID_SIZE);
	qsort(ids, 2 * N, QUEUE_ID_SIZE, cmp_id);
	for (i = 1; i < 2 * N; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	xfree(ids);
}

/* clock_wall(), qmgr's now (lib/util/clock.h), is never behind the
 * clock arrivals are stamped with, not even in the first moments of a
 * second, where time(2) is (watched for a little over a second, so that
 * a second begins while it is). */
static void
test_now_not_behind_arrivals(void **state)
{
	struct timeval tv, start;

	(void)state;
	gettimeofday(&start, NULL);
	do {
		gettimeofday(&tv, NULL);
		assert_true(clock_wall() >= tv.tv_sec);
	} while (tv.tv_sec - start.tv_sec < 2 &&
		 (tv.tv_sec - start.tv_sec) * 1000000 + tv.tv_usec -
			 start.tv_usec <
		     1100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_make_known),
	    cmocka_unit_test(test_now_not_behind_arrivals),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_order_is_time_order),
	    cmocka_unit_test(test_new_unique_ordered),
	    cmocka_unit_test(test_two_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
