/*
 * test_qmgr_sched - qmgr's scheduler (qmgr/qmgr_sched.c) on its own:
 * jobs split by the recipient limit, the destination concurrency and
 * process limits, destinations taking turns, dead destinations and
 * transports deferring without trying, revival, and a job put back when
 * the transport's socket is full.
 *
 * The scheduler's neighbours are qmgr's other files; this test links
 * only qmgr_sched.o from libqmgr.a and stands in for them: a job
 * "starts" by being recorded (qmgr_deliver_start), the test ends it with
 * qmgr_job_finished() as qmgr_deliver.c does, and deferrals are recorded
 * (qmgr_message_record).  Dispatching runs from the event loop, as in
 * qmgr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "events.h"
#include "qmgr.h"
#include "xalloc.h"

/* qmgr.c's configuration: services NULL (every transport gets the
 * default process limit). */
struct qmgr_config qmgr_cfg;

/* What the scheduler asked of its neighbours. */
#define STARTED_MAX 64
static struct qmgr_job *started[STARTED_MAX];
static size_t nstarted;
static size_t deferred; /* recipients recorded as deferred */
static char last_dsn[QUEUE_DSN_MAX], last_text[256];

void
qmgr_deliver_start(struct qmgr_job *job)
{
	assert_true(nstarted < STARTED_MAX);
	started[nstarted++] = job;
}

void
qmgr_message_record(struct qmgr_message *msg, const size_t *idx, const int *cls,
		    const char *const *dsn, const char *const *text,
		    const char *const *mta, size_t n)
{
	(void)msg;
	(void)idx;
	(void)mta;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(cls[i], 4);
		snprintf(last_dsn, sizeof(last_dsn), "%s", dsn[i]);
		snprintf(last_text, sizeof(last_text), "%s", text[i]);
		deferred++;
	}
}

void
qmgr_log_rcpt(const struct qmgr_message *msg, size_t idx, const char *relay,
	      const char *dsn, const char *status, const char *text)
{
	(void)msg;
	(void)idx;
	(void)relay;
	(void)dsn;
	(void)text;
	assert_string_equal(status, "deferred");
}

void
qmgr_message_job_done(struct qmgr_message *msg)
{
	assert_true(msg->jobs > 0);
	msg->jobs--;
}

void
qmgr_drain_check(void)
{
}

/* Runs the due timers: the dispatches the scheduler asked for. */
static void
pump(void)
{
	while (event_loop(0) > 0)
		;
}

static void
reset_records(void)
{
	nstarted = 0;
	deferred = 0;
	last_dsn[0] = last_text[0] = '\0';
}

/* A message with n recipients r0@DOMAIN .. r(n-1)@DOMAIN. */
static struct qmgr_message *
message(size_t n, const char *domain)
{
	struct qmgr_message *m = xcalloc(1, sizeof(*m));
	struct buf a = BUF_INIT;

	m->env.rcpts = xcalloc(n, sizeof(*m->env.rcpts));
	m->env.nrcpt = n;
	for (size_t i = 0; i < n; i++) {
		buf_reset(&a);
		buf_printf(&a, "r%zu@%s", i, domain);
		m->env.rcpts[i].address = xstrdup(buf_cstr(&a));
	}
	buf_free(&a);
	return m;
}

static void
message_free(struct qmgr_message *m)
{
	assert_int_equal(m->jobs, 0);
	for (size_t i = 0; i < m->env.nrcpt; i++)
		xfree(m->env.rcpts[i].address);
	xfree(m->env.rcpts);
	xfree(m);
}

/* Enqueues recipients [from, from + n) of m. */
static void
enqueue(struct qmgr_message *m, const char *transport, const char *nexthop,
	size_t from, size_t n)
{
	size_t idx[16];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		idx[i] = from + i;
	qmgr_job_enqueue(m, transport, nexthop, idx, n);
}

static void
assert_job(const struct qmgr_job *job, const char *nexthop, size_t first,
	   size_t n)
{
	assert_string_equal(job->dest->nexthop, nexthop);
	assert_int_equal(job->nrcpt, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(job->rcpts[i], first + i);
}

static int
setup(void **state)
{
	struct buf err = BUF_INIT;
	int r;

	(void)state;
	conf_reset();
	r = conf_read_string("panacea.conf",
			     "default_destination_concurrency_limit = 2\n"
			     "default_destination_recipient_limit = 3\n"
			     "narrow_destination_concurrency_limit = 1\n",
			     &err);
	buf_free(&err);
	if (r == 0)
		qmgr_sched_init(); /* the concurrency window's defaults */
	qmgr_cfg.default_proc_limit = 3;
	qmgr_cfg.min_backoff = 300;
	qmgr_cfg.transport_retry = 60;
	return r;
}

static int
teardown(void **state)
{
	(void)state;
	conf_reset();
	return 0;
}

static void
test_limits_and_turns(void **state)
{
	struct qmgr_message *a = message(7, "a.example");
	struct qmgr_message *b = message(1, "b.example");
	struct qmgr_message *c = message(1, "c.example");
	struct qmgr_transport *tr;

	(void)state;
	reset_records();
	tr = qmgr_transport_get("t1");
	assert_int_equal(tr->dest_limit, 2);
	assert_int_equal(tr->rcpt_limit, 3);
	assert_int_equal(tr->proc_limit, 3);

	/* 7 recipients at a recipient limit of 3: jobs of 3, 3 and 1. */
	enqueue(a, "t1", "a.example", 0, 7);
	enqueue(b, "t1", "b.example", 0, 1);
	enqueue(c, "t1", "c.example", 0, 1);
	assert_int_equal(a->jobs, 3);
	assert_int_equal(nstarted, 0); /* from the event loop only */
	pump();
	/* Three processes; the destinations take turns, so a.example's
	 * backlog does not hold b and c back. */
	assert_int_equal(nstarted, 3);
	assert_job(started[0], "a.example", 0, 3);
	assert_job(started[1], "b.example", 0, 1);
	assert_job(started[2], "c.example", 0, 1);
	assert_int_equal(qmgr_jobs_in_flight(), 3);

	/* A process is free: a.example's second job (its concurrency 2). */
	qmgr_job_finished(started[1], NULL, NULL);
	pump();
	assert_int_equal(nstarted, 4);
	assert_job(started[3], "a.example", 3, 3);

	/* Free process, but a.example is at its concurrency limit. */
	qmgr_job_finished(started[2], NULL, NULL);
	pump();
	assert_int_equal(nstarted, 4);
	assert_int_equal(qmgr_jobs_in_flight(), 2);

	qmgr_job_finished(started[0], NULL, NULL);
	pump();
	assert_int_equal(nstarted, 5);
	assert_job(started[4], "a.example", 6, 1);
	qmgr_job_finished(started[3], NULL, NULL);
	qmgr_job_finished(started[4], NULL, NULL);
	pump();
	assert_int_equal(nstarted, 5);
	assert_int_equal(qmgr_jobs_in_flight(), 0);
	assert_int_equal(deferred, 0);
	message_free(a);
	message_free(b);
	message_free(c);
}

static void
test_transport_own_limit(void **state)
{
	struct qmgr_message *m = message(6, "n.example");

	(void)state;
	reset_records();
	/* TRANSPORT_destination_concurrency_limit over the default. */
	assert_int_equal(qmgr_transport_get("narrow")->dest_limit, 1);
	enqueue(m, "narrow", "n.example", 0, 6);
	pump();
	assert_int_equal(nstarted, 1);
	qmgr_job_finished(started[0], NULL, NULL);
	pump();
	assert_int_equal(nstarted, 2);
	assert_job(started[1], "n.example", 3, 3);
	qmgr_job_finished(started[1], NULL, NULL);
	pump();
	message_free(m);
}

static void
test_recipient_limit_one(void **state)
{
	struct qmgr_message *m = message(3, "example.com");
	struct qmgr_transport *tr;

	(void)state;
	reset_records();
	/* local keeps Postfix's own defaults: 1 recipient, concurrency 2
	 * per recipient, whatever default_* says. */
	tr = qmgr_transport_get("local");
	assert_int_equal(tr->rcpt_limit, 1);
	assert_int_equal(tr->dest_limit, 2);
	enqueue(m, "local", "example.com", 0, 3);
	assert_int_equal(m->jobs, 3);
	pump();
	assert_int_equal(nstarted, 3);
	/* Each recipient is a destination of its own. */
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(started[i]->dest->key,
				    m->env.rcpts[i].address);
		assert_job(started[i], "example.com", i, 1);
	}
	for (size_t i = 0; i < 3; i++)
		qmgr_job_finished(started[i], NULL, NULL);
	pump();
	message_free(m);
}

static void
test_dead_destination(void **state)
{
	struct qmgr_message *m = message(9, "dead.example");
	struct qmgr_message *o = message(1, "other.example");

	(void)state;
	reset_records();
	enqueue(m, "t2", "dead.example", 0, 9); /* 3 jobs */
	pump();
	assert_int_equal(nstarted, 2); /* concurrency 2 */

	/* The destination fails as a whole, once per slot of its window
	 * of 2 (a failed cohort: qmgr/conc_feedback.h): the first failure
	 * narrows the window, the second marks it dead, and its queued job
	 * is deferred at once with the reason. */
	qmgr_job_finished(started[0], "4.4.1", "connect to x: refused");
	assert_int_equal(deferred, 0);
	qmgr_job_finished(started[1], "4.4.1", "connect to x: refused");
	assert_int_equal(deferred, 3);
	assert_string_equal(last_dsn, "4.4.1");
	assert_string_equal(last_text,
			    "delivery temporarily suspended: connect to x: "
			    "refused");
	pump();
	assert_int_equal(nstarted, 2);
	assert_int_equal(m->jobs, 0);

	/* New mail for it is deferred without a try; others go on. */
	enqueue(m, "t2", "dead.example", 0, 2);
	enqueue(o, "t2", "other.example", 0, 1);
	pump();
	assert_int_equal(deferred, 5);
	assert_int_equal(nstarted, 3);
	assert_job(started[2], "other.example", 0, 1);
	qmgr_job_finished(started[2], NULL, NULL);

	/* A flush of the site (panqueue -s) forgets the mark. */
	qmgr_revive("Dead.Example");
	enqueue(m, "t2", "dead.example", 0, 2);
	pump();
	assert_int_equal(nstarted, 4);
	assert_job(started[3], "dead.example", 0, 2);
	qmgr_job_finished(started[3], NULL, NULL);
	pump();
	assert_int_equal(deferred, 5);
	message_free(m);
	message_free(o);
}

static void
test_dead_transport(void **state)
{
	struct qmgr_message *m = message(9, "x.example");
	struct qmgr_transport *tr;

	(void)state;
	reset_records();
	tr = qmgr_transport_get("t3");
	enqueue(m, "t3", "x.example", 0, 9);
	pump();
	assert_int_equal(nstarted, 2);

	/* Its service cannot be reached: what waits is deferred (4.3.0),
	 * what is in flight ends as it ends. */
	qmgr_transport_dead(tr, "connect to private/t3: refused");
	assert_int_equal(deferred, 3);
	assert_string_equal(last_dsn, "4.3.0");
	assert_string_equal(last_text, "mail transport unavailable");
	qmgr_job_finished(started[0], NULL, NULL);
	qmgr_job_finished(started[1], NULL, NULL);
	enqueue(m, "t3", "x.example", 0, 1);
	pump();
	assert_int_equal(deferred, 4);
	assert_int_equal(nstarted, 2);

	/* A flush (panqueue -f) revives every transport. */
	qmgr_revive(NULL);
	enqueue(m, "t3", "x.example", 0, 1);
	pump();
	assert_int_equal(nstarted, 3);
	qmgr_job_finished(started[2], NULL, NULL);
	pump();
	message_free(m);
}

static void
test_retry_later(void **state)
{
	struct qmgr_message *m = message(2, "y.example");

	(void)state;
	reset_records();
	enqueue(m, "t4", "y.example", 0, 2);
	pump();
	assert_int_equal(nstarted, 1);

	/* The agent's socket was full: the job goes back to the head of
	 * its queue and the transport pauses (200 ms) before a new try. */
	qmgr_job_retry_later(started[0]);
	assert_int_equal(qmgr_jobs_in_flight(), 0);
	pump();
	assert_int_equal(nstarted, 1);
	usleep(250 * 1000);
	pump();
	assert_int_equal(nstarted, 2);
	assert_ptr_equal(started[1], started[0]);
	assert_job(started[1], "y.example", 0, 2);
	qmgr_job_finished(started[1], NULL, NULL);
	pump();
	assert_int_equal(deferred, 0);
	message_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_and_turns),
	    cmocka_unit_test(test_transport_own_limit),
	    cmocka_unit_test(test_recipient_limit_one),
	    cmocka_unit_test(test_dead_destination),
	    cmocka_unit_test(test_dead_transport),
	    cmocka_unit_test(test_retry_later),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
