/*
 * qmgr_message - the active set: taking a message in hand, resolving and
 * grouping its recipients into jobs, recording results, and ending its
 * round (notifications, removal or the next attempt).
 *
 * A round: the message is loaded, expired recipients are dealt with, the
 * pending ones are sent off as jobs; when the last job ends, failed
 * recipients are bounced (their notification first, then their state),
 * and the message is removed when nothing is pending, or rescheduled by
 * backoff.  The in-memory envelope mirrors what was recorded, so the end
 * of the round needs no second read of the queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "conf.h"
#include "delivery_log.h"
#include "msg.h"
#include "qmgr.h"
#include "resolve.h"
#include "xalloc.h"

#define QMGR_MSG_BUCKETS 4096

static struct qmgr_message *active_tab[QMGR_MSG_BUCKETS];
static size_t active_count;

static size_t
id_hash(const char *id)
{
	size_t h = 5381;

	for (; *id; id++)
		h = h * 33 + (unsigned char)*id;
	return h % QMGR_MSG_BUCKETS;
}

size_t
qmgr_active_count(void)
{
	return active_count;
}

struct qmgr_message *
qmgr_active_find(const char *id)
{
	struct qmgr_message *m;

	for (m = active_tab[id_hash(id)]; m; m = m->hnext)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static void
active_add(struct qmgr_message *m)
{
	size_t h = id_hash(m->id);

	m->hnext = active_tab[h];
	active_tab[h] = m;
	active_count++;
}

static void
active_del(struct qmgr_message *m)
{
	struct qmgr_message **pp;

	for (pp = &active_tab[id_hash(m->id)]; *pp; pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			active_count--;
			return;
		}
}

static void
message_free(struct qmgr_message *m)
{
	for (size_t i = 0; i < m->env.nrcpt; i++)
		xfree(m->res[i].remote_mta);
	xfree(m->res);
	queue_envelope_free(&m->env);
	xfree(m);
}

/* Log helpers. */

void
qmgr_log_event(const struct qmgr_message *msg, const char *to,
	       const char *orig_to, const char *relay, const char *dsn,
	       const char *status, const char *text)
{
	struct delivery_event ev = {
	    .queue_id = msg->id,
	    .to = to,
	    .orig_to = orig_to,
	    .relay = relay,
	    .dsn = dsn,
	    .status = status,
	    .text = text,
	    .arrival = (double)msg->env.arrival_sec +
		       (double)msg->env.arrival_usec / 1e6,
	    .active = (double)msg->active_tv.tv_sec +
		      (double)msg->active_tv.tv_usec / 1e6,
	};

	delivery_log(&ev);
}

void
qmgr_log_rcpt(const struct qmgr_message *msg, size_t idx, const char *relay,
	      const char *dsn, const char *status, const char *text)
{
	const struct queue_rcpt *r = &msg->env.rcpts[idx];
	struct buf orig = BUF_INIT;

	/* ORCPT is stored as sent (xtext); logs show the address. */
	delivery_log_orcpt(&orig, r->orcpt);
	qmgr_log_event(msg, r->address, buf_cstr(&orig), relay, dsn, status,
		       text);
	buf_free(&orig);
}

/* Lifetime of this message in the queue. */
static long long
lifetime(const struct qmgr_message *m)
{
	return (m->env.flags & QUEUE_FLAG_BOUNCE) ? qmgr_cfg.bounce_lifetime
						  : qmgr_cfg.max_lifetime;
}

static long long
age(const struct qmgr_message *m, time_t now)
{
	return (long long)now - (long long)m->env.arrival_sec;
}

/* Marks every pending recipient expired (class 5) with its last
 * temporary error, and logs it. */
static void
expire_pending(struct qmgr_message *m)
{
	for (size_t i = 0; i < m->env.nrcpt; i++) {
		struct queue_rcpt *r = &m->env.rcpts[i];

		if (!queue_rcpt_pending(r->state) || m->res[i].cls == 5)
			continue;
		if (!*r->dsn)
			queue_str_set(&r->dsn, "4.4.7");
		if (!*r->text)
			queue_str_set(&r->text, "message expired");
		m->res[i].cls = 5;
		m->res[i].expired = 1;
		qmgr_log_rcpt(m, i, "none", r->dsn,
			      "expired, returned to sender", r->text);
	}
}

/* A recipient that a special transport ("error", "retry") or a routing
 * failure decides without an agent. */
static void
decide_now(struct qmgr_message *m, size_t i, int cls, const char *dsn,
	   const char *text)
{
	const char *mta = NULL;

	if (cls == 5) {
		/* Failed recipients are recorded with their bounce. */
		struct queue_rcpt *r = &m->env.rcpts[i];

		m->res[i].cls = 5;
		queue_str_set(&r->dsn, dsn);
		queue_str_set(&r->text, text);
		qmgr_log_rcpt(m, i, "none", dsn, "bounced", text);
		return;
	}
	qmgr_log_rcpt(m, i, "none", dsn, "deferred", text);
	qmgr_message_record(m, &i, &cls, &dsn, &text, &mta, 1);
}

/* A resolved recipient, sorted by route so that groups are runs. */
struct routed {
	char *transport;
	char *nexthop;
	size_t idx;
};

static int
routed_cmp(const void *a, const void *b)
{
	const struct routed *x = a, *y = b;
	int c = strcmp(x->transport, y->transport);

	if (c == 0)
		c = strcmp(x->nexthop, y->nexthop);
	if (c == 0)
		c = x->idx < y->idx ? -1 : x->idx > y->idx;
	return c;
}

/* Resolves one pending recipient; 1 when it goes to an agent (*out set),
 * 0 when it was decided here. */
static int
route_one(struct qmgr_message *m, size_t i, struct routed *out, struct buf *tr,
	  struct buf *nh, struct buf *err)
{
	const char *addr = m->env.rcpts[i].address;
	const char *filter = m->env.filter;
	int rc =
	    filter && *filter
		? resolve_filter(&qmgr_cfg.resolve, filter, addr, tr, nh, err)
		: resolve_addr_from(&qmgr_cfg.resolve, m->env.sender, addr, tr,
				    nh, err);

	if (rc != RESOLVE_OK) {
		msg_warn("%s: %s: %s", m->id, addr, buf_cstr(err));
		decide_now(m, i, 4, rc == RESOLVE_BAD ? "4.3.5" : "4.3.0",
			   rc == RESOLVE_BAD
			       ? "mail transport configuration "
				 "error"
			       : "transport table lookup failure");
		return 0;
	}
	if (strcmp(tr->data, "error") == 0) {
		/* Postfix's error(8): a next hop may start with its own
		 * enhanced status code ("5.1.1 User unknown ..."). */
		const char *text =
		    nh->len ? nh->data : "mail is not deliverable";
		char dsn[QUEUE_DSN_MAX] = "5.0.0";
		size_t n = strspn(text, "0123456789.");
		if (n >= 5 && n < sizeof(dsn) && text[0] == '5' &&
		    text[1] == '.' && text[n] == ' ') {
			memcpy(dsn, text, n);
			dsn[n] = '\0';
			text += n + 1;
		}
		decide_now(m, i, 5, dsn, text);
		return 0;
	}
	if (strcmp(tr->data, "retry") == 0) {
		decide_now(m, i, 4, "4.0.0",
			   nh->len ? nh->data : "delivery deferred");
		return 0;
	}
	out->transport = xstrdup(tr->data);
	out->nexthop = xstrdup(buf_cstr(nh));
	out->idx = i;
	return 1;
}

/* Resolves every pending recipient and hands them to the scheduler,
 * grouped by transport and next hop (sorted: O(n log n) for the largest
 * recipient lists). */
static void
make_jobs(struct qmgr_message *m)
{
	struct buf tr = BUF_INIT, nh = BUF_INIT, err = BUF_INIT;
	struct routed *rt =
	    xcalloc(m->env.nrcpt ? m->env.nrcpt : 1, sizeof(*rt));
	size_t *group =
	    xcalloc(m->env.nrcpt ? m->env.nrcpt : 1, sizeof(size_t));
	size_t i, j, n = 0;

	for (i = 0; i < m->env.nrcpt; i++) {
		if (!queue_rcpt_pending(m->env.rcpts[i].state) ||
		    m->res[i].cls != 0)
			continue;
		n += (size_t)route_one(m, i, &rt[n], &tr, &nh, &err);
	}
	qsort(rt, n, sizeof(*rt), routed_cmp);
	for (i = 0; i < n; i = j) {
		size_t g = 0;

		for (j = i;
		     j < n && strcmp(rt[j].transport, rt[i].transport) == 0 &&
		     strcmp(rt[j].nexthop, rt[i].nexthop) == 0;
		     j++)
			group[g++] = rt[j].idx;
		qmgr_job_enqueue(m, rt[i].transport, rt[i].nexthop, group, g);
	}
	for (i = 0; i < n; i++) {
		xfree(rt[i].transport);
		xfree(rt[i].nexthop);
	}
	xfree(rt);
	xfree(group);
	buf_free(&tr);
	buf_free(&nh);
	buf_free(&err);
}

int
qmgr_message_activate(const char *id)
{
	struct qmgr_message *m = xcalloc(1, sizeof(*m));
	int rc;

	snprintf(m->id, sizeof(m->id), "%s", id);
	rc = queue_envelope_get(qmgr_cfg.queue, id, &m->env);
	if (rc != QUEUE_OK) {
		qmgr_fatal_queue(rc, id);
		if (rc == QUEUE_ERROR)
			msg_warn("%s: cannot read the envelope; skipped", id);
		queue_envelope_free(&m->env);
		xfree(m);
		return -1;
	}
	if (m->env.hold) {
		queue_envelope_free(&m->env);
		xfree(m);
		return -1;
	}
	m->res = xcalloc(m->env.nrcpt ? m->env.nrcpt : 1, sizeof(*m->res));
	clock_wall_tv(&m->active_tv);
	active_add(m);
	msg_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", m->id,
		 m->env.sender, (unsigned long long)m->env.size, m->env.nrcpt);
	/* The round is held open until every job has been handed out. */
	m->jobs = 1;
	if (age(m, clock_wall()) > lifetime(m) && lifetime(m) > 0)
		expire_pending(m);
	make_jobs(m);
	qmgr_message_job_done(m);
	return 0;
}

void
qmgr_message_record(struct qmgr_message *msg, const size_t *idx, const int *cls,
		    const char *const *dsn, const char *const *text,
		    const char *const *mta, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct qmgr_result *res = &msg->res[idx[i]];
		struct queue_rcpt *r = &msg->env.rcpts[idx[i]];

		res->cls = cls[i];
		xfree(res->remote_mta);
		res->remote_mta = xstrdup(mta[i] ? mta[i] : "");
		queue_str_set(&r->dsn, dsn[i]);
		queue_str_set(&r->text, text[i]);
		/* Failures are recorded with their bounce (round end). */
		if (cls[i] == 5)
			continue;
		r->state =
		    cls[i] == 2 ? QUEUE_RCPT_DELIVERED : QUEUE_RCPT_DEFERRED;
		if (r->attempts < UINT32_MAX)
			r->attempts++;
		res->unsaved = 1;
	}
}

/* Appends recipient i's state, DSN and text to st at *k. */
static void
status_add(struct queue_rcpt_status *st, size_t *k, size_t i,
	   const struct queue_rcpt *r)
{
	st[*k].index = i;
	st[*k].state = r->state;
	st[*k].dsn = r->dsn;
	st[*k].text = r->text;
	(*k)++;
}

/* Writes the k states of st (none: nothing) in one transaction and frees
 * st; a queue that cannot be written stops qmgr (qmgr_fatal_queue),
 * another failure is logged as "cannot record <what>". */
static void
write_states(struct qmgr_message *m, struct queue_rcpt_status *st, size_t k,
	     const char *what)
{
	int rc;

	if (k > 0) {
		rc = queue_rcpt_update(qmgr_cfg.queue, m->id, st, k);
		qmgr_fatal_queue(rc, m->id);
		if (rc != QUEUE_OK)
			msg_warn("%s: cannot record %s", m->id, what);
	}
	xfree(st);
}

/* Writes the recorded states (qmgr_message_record) to the queue, in one
 * transaction.  A recipient is recorded at most once between two saves,
 * so the attempt that queue_rcpt_update counts is the one counted here. */
static void
save_states(struct qmgr_message *m)
{
	struct queue_rcpt_status *st = NULL;
	size_t k = 0;

	for (size_t i = 0; i < m->env.nrcpt; i++) {
		struct queue_rcpt *r = &m->env.rcpts[i];

		if (!m->res[i].unsaved)
			continue;
		if (st == NULL)
			st = xcalloc(m->env.nrcpt, sizeof(*st));
		m->res[i].unsaved = 0;
		status_add(st, &k, i, r);
	}
	write_states(m, st, k, "delivery status");
}

/* Records the round's failed recipients as bounced or expired. */
static void
record_failures(struct qmgr_message *m)
{
	struct queue_rcpt_status *st = xcalloc(m->env.nrcpt, sizeof(*st));
	size_t k = 0;

	for (size_t i = 0; i < m->env.nrcpt; i++) {
		struct queue_rcpt *r = &m->env.rcpts[i];

		if (m->res[i].cls != 5 || !queue_rcpt_pending(r->state))
			continue;
		r->state =
		    m->res[i].expired ? QUEUE_RCPT_EXPIRED : QUEUE_RCPT_BOUNCED;
		status_add(st, &k, i, r);
	}
	write_states(m, st, k, "bounced recipients");
}

/* Still pending after this round (and not failed in it): the largest
 * attempt count, or 0 when nothing is left. */
static uint32_t
pending_attempts(const struct qmgr_message *m, int *any)
{
	uint32_t most = 0;

	*any = 0;
	for (size_t i = 0; i < m->env.nrcpt; i++) {
		const struct queue_rcpt *r = &m->env.rcpts[i];

		if (!queue_rcpt_pending(r->state) || m->res[i].cls == 5)
			continue;
		*any = 1;
		if (r->attempts > most)
			most = r->attempts;
	}
	return most;
}

static int
delay_warning_due(const struct qmgr_message *m, time_t now)
{
	return qmgr_cfg.delay_warning > 0 &&
	       !(m->env.flags &
		 (QUEUE_FLAG_DELAY_WARNED | QUEUE_FLAG_BOUNCE)) &&
	       *m->env.sender && age(m, now) >= qmgr_cfg.delay_warning;
}

/* A failure to record with its bounce, or a success to notify: the
 * states go to the queue before any notice is queued, as they did when
 * each was written at once. */
static int
round_has_notices(const struct qmgr_message *m)
{
	for (size_t i = 0; i < m->env.nrcpt; i++)
		if (m->res[i].cls == 5 ||
		    (m->res[i].cls == 2 &&
		     (m->env.rcpts[i].notify & QUEUE_NOTIFY_SUCCESS)))
			return 1;
	return 0;
}

/* The end of a round: notifications, then state, then removal or the
 * next attempt.  A message removed now takes its unsaved states with it:
 * the removal is their record (one transaction, not two), and a crash
 * before it loses nothing, the agent's work is done again. */
static void
message_round_end(struct qmgr_message *m)
{
	time_t now = clock_wall();
	uint32_t attempts;
	int pending, rc;

	attempts = pending_attempts(m, &pending);
	/* Deferred past the lifetime (maximal_queue_lifetime = 0 means no
	 * second try): bounce now rather than at the next activation. */
	if (pending && lifetime(m) >= 0 && age(m, now) >= lifetime(m)) {
		expire_pending(m);
		attempts = pending_attempts(m, &pending);
	}
	if (round_has_notices(m))
		save_states(m);
	if (qmgr_bounce_round(m) == 0)
		record_failures(m);
	else
		pending = 1;
	if (!pending) {
		rc = queue_remove(qmgr_cfg.queue, m->id);
		qmgr_fatal_queue(rc, m->id);
		if (rc == QUEUE_OK || rc == QUEUE_NOTFOUND)
			msg_info("%s: removed", m->id);
		return;
	}
	save_states(m);
	if (delay_warning_due(m, now) && qmgr_bounce_delay(m) == 0) {
		rc = queue_set_flags(qmgr_cfg.queue, m->id,
				     QUEUE_FLAG_DELAY_WARNED, 0);
		qmgr_fatal_queue(rc, m->id);
	}
	rc = queue_set_next_attempt(
	    qmgr_cfg.queue, m->id,
	    now + (time_t)backoff_delay(attempts, qmgr_cfg.min_backoff,
					qmgr_cfg.max_backoff));
	qmgr_fatal_queue(rc, m->id);
}

void
qmgr_message_job_done(struct qmgr_message *m)
{
	if (m->jobs == 0)
		msg_panic("%s: job count underflow", m->id);
	if (--m->jobs > 0) {
		save_states(m);
		return;
	}
	message_round_end(m);
	active_del(m);
	message_free(m);
	/* Room in the active set: more due messages may be waiting. */
	qmgr_scan_room();
}
