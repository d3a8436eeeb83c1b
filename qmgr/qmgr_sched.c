/*
 * qmgr_sched - transports, destinations, and which job runs next.
 *
 * Each transport (a unix service of the services table) has its own
 * destinations and its own process limit, so a remote backlog never
 * delays local delivery.  A destination holds a FIFO of jobs and counts
 * the ones in flight against its concurrency window (lib/conc_feedback:
 * it starts at TRANSPORT_initial_destination_concurrency, grows after
 * deliveries toward TRANSPORT_destination_concurrency_limit, shrinks
 * after failures of the destination as a whole, and a failed-cohort
 * limit marks the destination dead).
 * The destinations that can start a job right now form a ring per
 * transport; dispatching takes one job from the ring's head and moves the
 * head on, so destinations take turns and a busy one cannot starve the
 * others.  Dead marks (qmgr.h) defer jobs without trying; idle
 * destinations that are not dead are freed at once, so memory follows
 * the active set.
 *
 * Job ends never dispatch from inside the dispatcher: they schedule a
 * dispatch from the event loop, which keeps the loops here simple.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "conc_feedback.h"
#include "conf.h"
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "qmgr.h"
#include "services.h"
#include "strutil.h"
#include "xalloc.h"

#define QMGR_DEST_BUCKETS 1024
#define QMGR_PROC_UNLIMITED 1000 /* maxproc 0: still bounded here */
#define QMGR_BLOCKED_MS 200

static struct qmgr_transport *transports;
static size_t in_flight;
static unsigned long dispatch_timer;
/* The default_* and initial_* feedback settings (qmgr_sched_init). */
static struct conc_params conc_defaults;
static int feedback_debug;

size_t
qmgr_jobs_in_flight(void)
{
	return in_flight;
}

/* Limits. */

/* TRANSPORT_SUFFIX when set; local's own parameters keep their
 * (Postfix) defaults; any other transport uses default_SUFFIX. */
static int
transport_param(const char *tr, const char *suffix)
{
	char name[RESOLVE_TRANSPORT_MAX + 64], def[64];
	const char *v;
	long long n;

	snprintf(name, sizeof(name), "%s_%s", tr, suffix);
	snprintf(def, sizeof(def), "default_%s", suffix);
	if (!conf_is_set(name) &&
	    (strcmp(tr, "local") != 0 || conf_param_find(name) == NULL))
		return (int)conf_int(def);
	v = conf_lookup(name);
	if (v == NULL || conf_parse_int(v, &n) < 0 || n < 1) {
		msg_warn("%s: bad value \"%s\"; using %s", name, v ? v : "",
			 def);
		return (int)conf_int(def);
	}
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* TRANSPORT_NAME when set, else NULL: the caller uses the default. */
static const char *
transport_override(const char *tr, const char *suffix)
{
	char name[RESOLVE_TRANSPORT_MAX + 64];

	snprintf(name, sizeof(name), "%s_%s", tr, suffix);
	return conf_is_set(name) ? conf_lookup(name) : NULL;
}

/* A bad TRANSPORT_ value is a warning: the default in *out stays. */
static void
transport_feedback(const char *tr, const char *suffix,
		   struct conc_feedback *out)
{
	const char *v = transport_override(tr, suffix);
	struct conc_feedback f;

	if (v == NULL)
		return;
	if (conc_feedback_parse(v, &f) == 0)
		*out = f;
	else
		msg_warn("%s_%s: bad value \"%s\"; using default_%s", tr,
			 suffix, v, suffix);
}

static void
transport_int(const char *tr, const char *suffix, long long min,
	      const char *def_name, int *out)
{
	const char *v = transport_override(tr, suffix);
	long long n;

	if (v == NULL)
		return;
	if (conf_parse_int(v, &n) == 0 && n >= min)
		*out = n > INT_MAX ? INT_MAX : (int)n;
	else
		msg_warn("%s_%s: bad value \"%s\"; using %s", tr, suffix, v,
			 def_name);
}

/* The window settings of transport tr: its own where set, the defaults
 * read at start-up otherwise. */
static void
transport_conc(const char *tr, int limit, struct conc_params *p)
{
	*p = conc_defaults;
	p->limit = limit;
	transport_int(tr, "initial_destination_concurrency", 1,
		      "initial_destination_concurrency", &p->initial);
	transport_int(tr, "destination_concurrency_failed_cohort_limit", 0,
		      "default_destination_concurrency_failed_cohort_limit",
		      &p->cohort_limit);
	transport_feedback(tr, "destination_concurrency_positive_feedback",
			   &p->positive);
	transport_feedback(tr, "destination_concurrency_negative_feedback",
			   &p->negative);
}

/* A bad default is a configuration error: it stops qmgr at start-up with
 * where it was set. */
static void
default_feedback(const char *name, struct conc_feedback *out)
{
	const char *v = conf_str(name);

	if (conc_feedback_parse(v, out) < 0)
		msg_fatal("%s: %s: bad value \"%s\" (a number, number/number "
			  "or number/concurrency, in 0..1)",
			  conf_origin(name), name, v);
}

void
qmgr_sched_init(void)
{
	long long n;

	n = conf_int("initial_destination_concurrency");
	conc_defaults.initial = n > INT_MAX ? INT_MAX : (int)n;
	n = conf_int("default_destination_concurrency_failed_cohort_limit");
	conc_defaults.cohort_limit = n > INT_MAX ? INT_MAX : (int)n;
	default_feedback("default_destination_concurrency_positive_feedback",
			 &conc_defaults.positive);
	default_feedback("default_destination_concurrency_negative_feedback",
			 &conc_defaults.negative);
	feedback_debug = conf_bool("destination_concurrency_feedback_debug");
}

/* The services entry (unix) of transport name; NULL when there is
 * none or no services file was read. */
static const struct service_def *
transport_service(const char *name)
{
	return qmgr_cfg.services
		   ? services_find(qmgr_cfg.services, name, SERVICE_UNIX)
		   : NULL;
}

static int
transport_proc_limit(const char *name)
{
	const struct service_def *s = transport_service(name);

	if (s == NULL)
		return qmgr_cfg.default_proc_limit;
	return s->maxproc > 0 ? s->maxproc : QMGR_PROC_UNLIMITED;
}

/* A transport whose service keeps root (unpriv n) may not open the queue
 * (DESIGN.md, rule 2): it gets the content as a descriptor. */
static int
transport_runs_as_root(const char *name)
{
	const struct service_def *s = transport_service(name);

	return s != NULL && !s->unpriv;
}

struct qmgr_transport *
qmgr_transport_get(const char *name)
{
	struct qmgr_transport *tr;

	for (tr = transports; tr; tr = tr->next)
		if (strcmp(tr->name, name) == 0)
			return tr;
	tr = xcalloc(1, sizeof(*tr));
	tr->name = xstrdup(name);
	tr->dest_limit = transport_param(name, "destination_concurrency_limit");
	tr->rcpt_limit = transport_param(name, "destination_recipient_limit");
	transport_conc(name, tr->dest_limit, &tr->conc);
	tr->proc_limit = transport_proc_limit(name);
	tr->pass_content = transport_runs_as_root(name);
	tr->ndests = QMGR_DEST_BUCKETS;
	tr->dests = xcalloc(tr->ndests, sizeof(*tr->dests));
	tr->next = transports;
	transports = tr;
	if (msg_verbose)
		msg_info("transport %s: destination concurrency %d (initial "
			 "%d), recipients %d, processes %d",
			 name, tr->dest_limit, tr->conc.initial, tr->rcpt_limit,
			 tr->proc_limit);
	return tr;
}

/* Destinations. */

static size_t
str_hash(const char *s, size_t n)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h % n;
}

static int
dest_dead(const struct qmgr_dest *d, time_t now)
{
	return d->dead_until > now;
}

static int
transport_dead(const struct qmgr_transport *tr, time_t now)
{
	return tr->dead_until > now;
}

static void
ready_remove(struct qmgr_dest *d)
{
	struct qmgr_transport *tr = d->tr;

	if (!d->in_ready)
		return;
	if (d->rnext == d) {
		tr->ready = NULL;
	} else {
		d->rprev->rnext = d->rnext;
		d->rnext->rprev = d->rprev;
		if (tr->ready == d)
			tr->ready = d->rnext;
	}
	d->rnext = d->rprev = NULL;
	d->in_ready = 0;
}

/* Appends at the ring's tail (just before its head). */
static void
ready_add(struct qmgr_dest *d)
{
	struct qmgr_transport *tr = d->tr;

	if (d->in_ready)
		return;
	if (tr->ready == NULL) {
		d->rnext = d->rprev = d;
		tr->ready = d;
	} else {
		d->rnext = tr->ready;
		d->rprev = tr->ready->rprev;
		d->rprev->rnext = d;
		tr->ready->rprev = d;
	}
	d->in_ready = 1;
}

static void
dest_update_ready(struct qmgr_dest *d)
{
	if (d->queued > 0 && d->busy < (size_t)d->win.window &&
	    !dest_dead(d, clock_wall()))
		ready_add(d);
	else
		ready_remove(d);
}

static void
dest_free_if_idle(struct qmgr_dest *d)
{
	struct qmgr_dest **pp;

	if (d->queued > 0 || d->busy > 0 || dest_dead(d, clock_wall()))
		return;
	ready_remove(d);
	for (pp = &d->tr->dests[str_hash(d->key, d->tr->ndests)]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	xfree(d->key);
	xfree(d->nexthop);
	xfree(d->dead_reason);
	xfree(d);
}

static struct qmgr_dest *
dest_get(struct qmgr_transport *tr, const char *key, const char *nexthop)
{
	size_t h = str_hash(key, tr->ndests);
	struct qmgr_dest *d;

	for (d = tr->dests[h]; d; d = d->hnext)
		if (strcmp(d->key, key) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->key = xstrdup(key);
	d->nexthop = xstrdup(nexthop);
	d->tr = tr;
	conc_window_init(&d->win, &tr->conc);
	d->hnext = tr->dests[h];
	tr->dests[h] = d;
	return d;
}

static struct qmgr_job *
dest_pop(struct qmgr_dest *d)
{
	struct qmgr_job *job = d->head;

	if (job == NULL)
		return NULL;
	d->head = job->next;
	if (d->head == NULL)
		d->tail = NULL;
	job->next = NULL;
	d->queued--;
	return job;
}

static void
dest_push(struct qmgr_dest *d, struct qmgr_job *job, int front)
{
	if (front) {
		job->next = d->head;
		d->head = job;
		if (d->tail == NULL)
			d->tail = job;
	} else {
		job->next = NULL;
		if (d->tail)
			d->tail->next = job;
		else
			d->head = job;
		d->tail = job;
	}
	d->queued++;
}

/* Jobs. */

static void
dispatch_event(void *ctx)
{
	(void)ctx;
	dispatch_timer = 0;
	qmgr_dispatch();
}

static void
dispatch_soon(long long delay_ms)
{
	if (dispatch_timer != 0 && delay_ms > 0)
		return;
	if (dispatch_timer != 0)
		event_timer_cancel(dispatch_timer);
	dispatch_timer = event_timer_add(delay_ms, dispatch_event, NULL);
}

static void
job_free(struct qmgr_job *job)
{
	buf_free(&job->out);
	buf_free(&job->in);
	xfree(job->rcpts);
	xfree(job);
}

void
qmgr_job_defer(struct qmgr_job *job, const char *dsn, const char *text,
	       int site_dead)
{
	struct qmgr_message *m = job->msg;
	int *cls = xcalloc(job->nrcpt, sizeof(int));
	const char **dsns = xcalloc(job->nrcpt, sizeof(char *));
	const char **texts = xcalloc(job->nrcpt, sizeof(char *));
	const char **mtas = xcalloc(job->nrcpt, sizeof(char *));

	for (size_t i = 0; i < job->nrcpt; i++) {
		cls[i] = 4;
		dsns[i] = dsn;
		texts[i] = text;
		mtas[i] = "";
		qmgr_log_rcpt(m, job->rcpts[i], "none", dsn, "deferred", text);
	}
	qmgr_message_record(m, job->rcpts, cls, dsns, texts, mtas, job->nrcpt);
	xfree(cls);
	xfree(dsns);
	xfree(texts);
	xfree(mtas);
	qmgr_job_finished(job, site_dead ? dsn : NULL, text);
}

/* Defers the queued jobs of a dead destination. */
static void
dest_defer_queued(struct qmgr_dest *d)
{
	struct buf why = BUF_INIT;
	struct qmgr_job *job;

	buf_printf(&why, "delivery temporarily suspended: %s",
		   d->dead_reason ? d->dead_reason : "destination unavailable");
	/* Keeps d alive while its jobs end: each ending frees an idle d,
	 * and d stops being dead when the clock passes dead_until.  The
	 * callers free d when it is idle. */
	d->busy++;
	while ((job = dest_pop(d)) != NULL)
		qmgr_job_defer(job, d->dead_dsn, buf_cstr(&why), 0);
	d->busy--;
	buf_free(&why);
}

/* Postfix's lines for destination_concurrency_feedback_debug, with its
 * names for the two directions. */
static void
log_feedback(const char *dir, const struct qmgr_dest *d, double feedback,
	     int dead)
{
	if (!feedback_debug)
		return;
	if (feedback > 0)
		msg_info("%s: feedback %g", dir, feedback);
	msg_info("%s: queue %s: limit %d window %d success %g failure %g "
		 "fail_cohorts %g",
		 dir, d->key, d->tr->dest_limit, dead ? 0 : d->win.window,
		 d->win.success, d->win.failure, d->win.fail_cohorts);
}

static void
dest_mark_dead(struct qmgr_dest *d, const char *dsn, const char *why)
{
	/* The reason may be a text of the job being finished: copy first. */
	char *reason = xstrdup(why ? why : "destination unavailable");

	/* When it comes back, it starts again from the initial window. */
	conc_window_init(&d->win, &d->tr->conc);
	d->dead_until = clock_wall() + (time_t)qmgr_cfg.min_backoff;
	xfree(d->dead_reason);
	d->dead_reason = reason;
	snprintf(d->dead_dsn, sizeof(d->dead_dsn), "%s",
		 dsn && *dsn ? dsn : "4.0.0");
	ready_remove(d);
	dest_defer_queued(d);
}

/* A delivery to d ended well; busy counts it.  On a dead destination it
 * proves the destination alive again (as Postfix does). */
static void
dest_feedback_positive(struct qmgr_dest *d, size_t busy)
{
	double g;

	if (dest_dead(d, clock_wall())) {
		d->dead_until = 0;
		conc_window_init(&d->win, &d->tr->conc);
		log_feedback("qmgr_queue_unthrottle", d, 0, 0);
		return;
	}
	g = conc_window_success(&d->win, &d->tr->conc,
				busy > INT_MAX ? INT_MAX : (int)busy);
	if (g > 0)
		log_feedback("qmgr_queue_unthrottle", d, g, 0);
}

/* A delivery to d failed as a whole: a narrower window, or dead. */
static void
dest_feedback_negative(struct qmgr_dest *d, const char *dsn, const char *why)
{
	double f;

	if (dest_dead(d, clock_wall()))
		return; /* the in-flight rest of a cohort already judged */
	if (conc_window_failure(&d->win, &d->tr->conc, &f)) {
		log_feedback("qmgr_queue_throttle", d, 0, 1);
		dest_mark_dead(d, dsn, why);
		return;
	}
	log_feedback("qmgr_queue_throttle", d, f, 0);
}

void
qmgr_job_finished(struct qmgr_job *job, const char *dead_dsn, const char *why)
{
	struct qmgr_dest *d = job->dest;
	struct qmgr_message *m = job->msg;
	int ran = job->inflight;
	size_t busy = d->busy;

	if (job->inflight) {
		d->busy--;
		d->tr->busy--;
		in_flight--;
	}
	job_free(job);
	/* Only a delivery that was tried says something about the
	 * destination; jobs deferred unseen (dead marks) do not. */
	if (dead_dsn != NULL)
		dest_feedback_negative(d, dead_dsn, why);
	else if (ran)
		dest_feedback_positive(d, busy);
	qmgr_message_job_done(m);
	dest_update_ready(d);
	dest_free_if_idle(d);
	dispatch_soon(0);
	qmgr_drain_check();
}

void
qmgr_job_retry_later(struct qmgr_job *job)
{
	struct qmgr_dest *d = job->dest;

	if (job->inflight) {
		d->busy--;
		d->tr->busy--;
		in_flight--;
		job->inflight = 0;
	}
	dest_push(d, job, 1);
	d->tr->blocked_until_ms = io_now_ms() + QMGR_BLOCKED_MS;
	dest_update_ready(d);
	dispatch_soon(QMGR_BLOCKED_MS);
}

void
qmgr_transport_dead(struct qmgr_transport *tr, const char *why)
{
	struct buf text = BUF_INIT;
	struct qmgr_job *job;

	msg_warn("transport %s: %s; trying again in %llds", tr->name, why,
		 qmgr_cfg.transport_retry);
	tr->dead_until = clock_wall() + (time_t)qmgr_cfg.transport_retry;
	xfree(tr->dead_reason);
	tr->dead_reason = xstrdup(why);
	buf_printf(&text, "mail transport unavailable");
	for (size_t b = 0; b < tr->ndests; b++) {
		struct qmgr_dest *d = tr->dests[b], *next;

		for (; d; d = next) {
			next = d->hnext;
			ready_remove(d);
			d->busy++; /* keeps d alive while its jobs end */
			while ((job = dest_pop(d)) != NULL)
				qmgr_job_defer(job, "4.3.0", buf_cstr(&text),
					       0);
			d->busy--;
			dest_free_if_idle(d);
		}
	}
	buf_free(&text);
}

void
qmgr_job_enqueue(struct qmgr_message *msg, const char *transport,
		 const char *nexthop, const size_t *rcpts, size_t n)
{
	struct qmgr_transport *tr = qmgr_transport_get(transport);
	size_t limit = (size_t)tr->rcpt_limit;
	time_t now = clock_wall();

	for (size_t i = 0; i < n; i += limit) {
		size_t cnt = n - i < limit ? n - i : limit;
		/* Recipient limit 1: the recipient is the destination. */
		const char *key =
		    limit == 1 ? msg->env.rcpts[rcpts[i]].address : nexthop;
		struct qmgr_dest *d = dest_get(tr, key, nexthop);
		struct qmgr_job *job = xcalloc(1, sizeof(*job));

		job->msg = msg;
		job->dest = d;
		job->fd = -1;
		job->content_fd = -1;
		job->nrcpt = cnt;
		job->rcpts = xmemdup(rcpts + i, cnt * sizeof(*rcpts));
		msg->jobs++;
		if (transport_dead(tr, now)) {
			/* Frees d when idle: not used after this. */
			qmgr_job_defer(job, "4.3.0",
				       "mail transport unavailable", 0);
			continue;
		}
		dest_push(d, job, 0);
		if (dest_dead(d, now)) {
			dest_defer_queued(d);
			dest_free_if_idle(d);
			continue;
		}
		dest_update_ready(d);
	}
	dispatch_soon(0);
}

/* Starts jobs of one transport while it has room. */
static void
dispatch_transport(struct qmgr_transport *tr, time_t now, long long now_ms)
{
	struct qmgr_dest *d;
	struct qmgr_job *job;

	if (transport_dead(tr, now))
		return;
	if (tr->blocked_until_ms > now_ms) {
		dispatch_soon(tr->blocked_until_ms - now_ms);
		return;
	}
	while (tr->busy < tr->proc_limit && (d = tr->ready) != NULL) {
		job = dest_pop(d);
		if (job == NULL) {
			ready_remove(d);
			continue;
		}
		job->inflight = 1;
		d->busy++;
		tr->busy++;
		in_flight++;
		/* Turns: the next destination goes first next time. */
		tr->ready = d->rnext;
		dest_update_ready(d);
		qmgr_deliver_start(job);
		if (tr->blocked_until_ms > now_ms || transport_dead(tr, now))
			break;
	}
}

void
qmgr_dispatch(void)
{
	time_t now = clock_wall();
	long long now_ms = io_now_ms();

	for (struct qmgr_transport *tr = transports; tr; tr = tr->next)
		dispatch_transport(tr, now, now_ms);
}

void
qmgr_revive(const char *site)
{
	for (struct qmgr_transport *tr = transports; tr; tr = tr->next) {
		if (site == NULL) {
			tr->dead_until = 0;
			tr->blocked_until_ms = 0;
		}
		for (size_t b = 0; b < tr->ndests; b++) {
			struct qmgr_dest *d = tr->dests[b], *next;

			for (; d; d = next) {
				next = d->hnext;
				if (site != NULL &&
				    str_casecmp(d->nexthop, site) != 0)
					continue;
				d->dead_until = 0;
				dest_update_ready(d);
				dest_free_if_idle(d);
			}
		}
	}
	dispatch_soon(0);
}
