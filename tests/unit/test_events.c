/*
 * test_events - the poll(2) event loop: fd dispatch, timers, signals,
 * changes made from inside callbacks, event_stop and event_reset.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"
#include "iostuff.h"

static void
make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static int
teardown(void **state)
{
	(void)state;
	event_reset();
	return 0;
}

/* What an fd callback saw. */
struct seen {
	int calls;
	int fd;
	int events;
	void *ctx;
};

static void
fd_record(int fd, int events, void *ctx)
{
	struct seen *s = ctx;

	s->calls++;
	s->fd = fd;
	s->events = events;
	s->ctx = ctx;
}

static void
test_fd_read_dispatch(void **state)
{
	struct seen s = {0};
	int sv[2];
	char c;

	(void)state;
	make_pair(sv);
	event_fd_set(sv[0], EVENT_READ, fd_record, &s);
	/* Nothing to read yet: a zero wait runs nothing. */
	assert_int_equal(event_loop(0), 0);
	assert_int_equal(s.calls, 0);

	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.fd, sv[0]);
	assert_true(s.events & EVENT_READ);
	assert_false(s.events & EVENT_WRITE);
	assert_ptr_equal(s.ctx, &s);

	/* Level-triggered: still readable until read. */
	assert_int_equal(event_loop(0), 1);
	assert_int_equal(read(sv[0], &c, 1), 1);
	assert_int_equal(event_loop(0), 0);
	assert_int_equal(s.calls, 2);

	/* Removed: no more calls even when readable. */
	event_fd_remove(sv[0]);
	assert_int_equal(write(sv[1], "y", 1), 1);
	assert_int_equal(event_loop(0), 0);
	assert_int_equal(s.calls, 2);
	close(sv[0]);
	close(sv[1]);
}

static void
test_fd_write_and_error(void **state)
{
	struct seen s = {0};
	int sv[2];

	(void)state;
	make_pair(sv);
	event_fd_set(sv[0], EVENT_WRITE, fd_record, &s);
	assert_int_equal(event_loop(1000), 1);
	assert_true(s.events & EVENT_WRITE);
	assert_false(s.events & EVENT_READ);

	/* Replacing the mask replaces the registration. */
	event_fd_set(sv[0], EVENT_READ, fd_record, &s);
	assert_int_equal(event_loop(0), 0);

	/* Peer gone: READ with ERROR (POLLHUP). */
	close(sv[1]);
	assert_int_equal(event_loop(1000), 1);
	assert_true(s.events & EVENT_READ);
	assert_true(s.events & EVENT_ERROR);

	/* Mask 0 means remove. */
	event_fd_set(sv[0], 0, fd_record, &s);
	assert_int_equal(event_loop(0), 0);
	close(sv[0]);
}

/* Timers. */

static int order[8];
static int norder;

static void
timer_record(void *ctx)
{
	order[norder++] = (int)(intptr_t)ctx;
}

static void
run_until(int *counter, int want, long long limit_ms)
{
	long long end = io_now_ms() + limit_ms;

	while (*counter < want && io_now_ms() < end)
		event_loop(end - io_now_ms());
}

static void
test_timers_in_deadline_order(void **state)
{
	long long start = io_now_ms();

	(void)state;
	norder = 0;
	event_timer_add(60, timer_record, (void *)3);
	event_timer_add(20, timer_record, (void *)1);
	event_timer_add(40, timer_record, (void *)2);
	/* Equal deadlines fire in the order they were added. */
	event_timer_add(0, timer_record, (void *)10);
	event_timer_add(0, timer_record, (void *)11);
	run_until(&norder, 5, 2000);
	assert_int_equal(norder, 5);
	assert_int_equal(order[0], 10);
	assert_int_equal(order[1], 11);
	assert_int_equal(order[2], 1);
	assert_int_equal(order[3], 2);
	assert_int_equal(order[4], 3);
	/* Not early: the last one waited its 60 ms. */
	assert_true(io_now_ms() - start >= 60);
}

static void
test_timer_wait_bounded_by_timer(void **state)
{
	long long start = io_now_ms();

	(void)state;
	norder = 0;
	event_timer_add(30, timer_record, (void *)1);
	/* -1 waits until something happens: here, the timer. */
	assert_int_equal(event_loop(-1), 1);
	assert_int_equal(norder, 1);
	assert_true(io_now_ms() - start >= 30);
	assert_true(io_now_ms() - start < 2000);
}

static void
test_timer_cancel(void **state)
{
	unsigned long a, b;

	(void)state;
	norder = 0;
	a = event_timer_add(10, timer_record, (void *)1);
	b = event_timer_add(20, timer_record, (void *)2);
	assert_true(a > 0);
	assert_true(b > a);
	event_timer_cancel(a);
	run_until(&norder, 1, 1000);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);
	/* Cancelling fired, cancelled or unknown ids is harmless. */
	event_timer_cancel(a);
	event_timer_cancel(b);
	event_timer_cancel(123456);
	assert_int_equal(event_loop(50), 0);
	assert_int_equal(norder, 1);
}

static unsigned long later_id;

static void
timer_adds_timer(void *ctx)
{
	timer_record(ctx);
	later_id = event_timer_add(0, timer_record, (void *)2);
}

static void
timer_cancels_other(void *ctx)
{
	timer_record(ctx);
	event_timer_cancel(later_id);
}

static void
test_timer_added_from_callback(void **state)
{
	unsigned long first;

	(void)state;
	norder = 0;
	first = event_timer_add(0, timer_adds_timer, (void *)1);
	/* A timer added during a round waits for the next round. */
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(norder, 1);
	assert_true(later_id > first);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(norder, 2);
	assert_int_equal(order[1], 2);

	/* A callback cancels a timer due in the same round. */
	norder = 0;
	event_timer_add(0, timer_cancels_other, (void *)3);
	later_id = event_timer_add(0, timer_record, (void *)4);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(event_loop(50), 0);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 3);
}

/* Removing an fd from another fd's callback. */

struct pair_ctx {
	int victim;	 /* fd to remove */
	int victim_peer; /* its peer, closed too */
	int reuse_fds[2];
	struct seen *reused;
	int calls;
};

static void
fd_removes_other(int fd, int events, void *ctx)
{
	struct pair_ctx *p = ctx;
	char c;

	(void)events;
	p->calls++;
	assert_int_equal(read(fd, &c, 1), 1);
	event_fd_remove(p->victim);
	close(p->victim);
	/* The freed number comes back at once for a new descriptor. */
	assert_int_equal(pipe(p->reuse_fds), 0);
	assert_int_equal(p->reuse_fds[0], p->victim);
	assert_int_equal(write(p->reuse_fds[1], "z", 1), 1);
	event_fd_set(p->reuse_fds[0], EVENT_READ, fd_record, p->reused);
}

static void
fd_must_not_run(int fd, int events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	fail_msg("callback of a removed fd ran");
}

static void
test_remove_fd_from_other_callback(void **state)
{
	struct seen reused = {0};
	struct pair_ctx p = {0};
	int a[2], b[2];

	(void)state;
	make_pair(a);
	make_pair(b);
	/* a[0] < b[0]: a's callback runs first in the round. */
	assert_true(a[0] < b[0]);
	p.victim = b[0];
	p.reused = &reused;
	event_fd_set(a[0], EVENT_READ, fd_removes_other, &p);
	event_fd_set(b[0], EVENT_READ, fd_must_not_run, NULL);
	assert_int_equal(write(a[1], "a", 1), 1);
	assert_int_equal(write(b[1], "b", 1), 1);

	/* Both ready, only a runs; the new registration on b's old
	 * number must not receive b's stale readiness. */
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(p.calls, 1);
	assert_int_equal(reused.calls, 0);

	/* Next round: the new descriptor is served normally. */
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(reused.calls, 1);
	assert_int_equal(reused.fd, p.reuse_fds[0]);

	event_fd_remove(a[0]);
	event_fd_remove(p.reuse_fds[0]);
	close(a[0]);
	close(a[1]);
	close(b[1]);
	close(p.reuse_fds[0]);
	close(p.reuse_fds[1]);
}

static void
fd_removes_itself(int fd, int events, void *ctx)
{
	int *calls = ctx;

	(void)events;
	(*calls)++;
	event_fd_remove(fd);
}

static void
test_remove_own_fd(void **state)
{
	int sv[2], calls = 0;

	(void)state;
	make_pair(sv);
	event_fd_set(sv[0], EVENT_READ, fd_removes_itself, &calls);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(event_loop(0), 0);
	assert_int_equal(calls, 1);
	close(sv[0]);
	close(sv[1]);
}

/* Signals and stop. */

static int sig_seen;
static int sig_calls;

static void
sig_record(int signo, void *ctx)
{
	sig_seen = signo;
	sig_calls++;
	assert_ptr_equal(ctx, &sig_seen);
}

static void
test_signal_delivery(void **state)
{
	(void)state;
	sig_seen = 0;
	sig_calls = 0;
	event_signal(SIGUSR1, sig_record, &sig_seen);
	assert_int_equal(raise(SIGUSR1), 0);
	/* Not from the handler: only once the loop runs. */
	assert_int_equal(sig_calls, 0);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(sig_calls, 1);
	assert_int_equal(sig_seen, SIGUSR1);
	/* Two signals, two calls. */
	raise(SIGUSR1);
	raise(SIGUSR1);
	run_until(&sig_calls, 3, 1000);
	assert_int_equal(sig_calls, 3);
}

/* A child forked before it resets or execs shares the self-pipe: a
 * handled signal it gets must take its default action there, never
 * reach the parent's loop (master stopped on a SIGTERM meant for a
 * child it had just forked). */
static void
test_signal_to_forked_child_stays_there(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	sig_seen = 0;
	sig_calls = 0;
	event_signal(SIGUSR1, sig_record, &sig_seen);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		raise(SIGUSR1);
		_exit(0); /* not reached: the default action ends it */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGUSR1);
	/* Nothing for the parent's loop. */
	assert_int_equal(event_loop(100), 0);
	assert_int_equal(sig_calls, 0);
	/* Its own signals still arrive. */
	raise(SIGUSR1);
	run_until(&sig_calls, 1, 1000);
	assert_int_equal(sig_calls, 1);
}

static void
test_reset_restores_signal(void **state)
{
	struct sigaction sa;

	(void)state;
	event_signal(SIGUSR2, sig_record, &sig_seen);
	assert_int_equal(sigaction(SIGUSR2, NULL, &sa), 0);
	assert_true(sa.sa_handler != SIG_DFL);
	event_reset();
	assert_int_equal(sigaction(SIGUSR2, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
}

static int ticks;

static void
tick(void *ctx)
{
	(void)ctx;
	if (++ticks == 3)
		event_stop();
	else
		event_timer_add(1, tick, NULL);
}

static void
sig_stops(int signo, void *ctx)
{
	(void)signo;
	(void)ctx;
	event_stop();
}

static void
raise_usr1(void *ctx)
{
	(void)ctx;
	raise(SIGUSR1);
}

static void
test_event_stop(void **state)
{
	(void)state;
	ticks = 0;
	event_timer_add(1, tick, NULL);
	event_run();
	assert_int_equal(ticks, 3);

	/* event_run can be entered again; a signal can stop it. */
	event_signal(SIGUSR1, sig_stops, NULL);
	event_timer_add(10, raise_usr1, NULL);
	event_run();
	assert_int_equal(ticks, 3);
}

static void
test_reset_forgets_registrations(void **state)
{
	struct seen s = {0};
	int sv[2];

	(void)state;
	make_pair(sv);
	norder = 0;
	event_fd_set(sv[0], EVENT_READ, fd_record, &s);
	event_timer_add(0, timer_record, (void *)1);
	assert_int_equal(write(sv[1], "x", 1), 1);
	event_reset();
	assert_int_equal(event_loop(20), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(norder, 0);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_fd_read_dispatch, teardown),
	    cmocka_unit_test_teardown(test_fd_write_and_error, teardown),
	    cmocka_unit_test_teardown(test_timers_in_deadline_order, teardown),
	    cmocka_unit_test_teardown(test_timer_wait_bounded_by_timer,
				      teardown),
	    cmocka_unit_test_teardown(test_timer_cancel, teardown),
	    cmocka_unit_test_teardown(test_timer_added_from_callback, teardown),
	    cmocka_unit_test_teardown(test_remove_fd_from_other_callback,
				      teardown),
	    cmocka_unit_test_teardown(test_remove_own_fd, teardown),
	    cmocka_unit_test_teardown(test_signal_delivery, teardown),
	    cmocka_unit_test_teardown(test_signal_to_forked_child_stays_there,
				      teardown),
	    cmocka_unit_test_teardown(test_reset_restores_signal, teardown),
	    cmocka_unit_test_teardown(test_event_stop, teardown),
	    cmocka_unit_test_teardown(test_reset_forgets_registrations,
				      teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
