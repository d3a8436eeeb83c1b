/*
 * qmgr_trigger - requests on public/qmgr (lib/qmgr_proto.h): wakeups,
 * flushes and deliver-one-now.
 *
 * Making messages due is done on the queue itself (their schedule entry
 * moves to now), so it survives a restart and the normal scan takes the
 * messages in hand.  A flush walks the whole queue (queue_list), which is
 * what an administrator asking for a flush expects to pay once, but
 * public/qmgr is open to every local user: a flood of flush requests must
 * not keep qmgr walking the queue instead of scheduling.  So requests are
 * not carried out as they arrive; they are merged into one pending batch
 * (each site and queue id once, at most QMGR_FLUSH_SITES_MAX sites and
 * QMGR_DELIVER_IDS_MAX ids, more than that becomes one full flush, which
 * anyone may ask for anyway), and the batch runs at most once every
 * QMGR_FLUSH_GAP_MS, with one walk of the queue for every site and the
 * full flush together.  A request after a quiet second runs at once.
 * Whatever the request rate, qmgr spends at most one queue walk and
 * QMGR_DELIVER_IDS_MAX lookups per gap on them.
 */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "qmgr.h"
#include "resolve.h"
#include "strutil.h"
#include "xalloc.h"

#define QMGR_FLUSH_SITES_MAX 16
#define QMGR_DELIVER_IDS_MAX 64
#define QMGR_FLUSH_GAP_MS 1000

/* The work asked for since the last run. */
struct flush_batch {
	int all; /* subsumes every site and id */
	size_t nsites, nids;
	char sites[QMGR_FLUSH_SITES_MAX][QMGR_SITE_MAX + 1];
	char ids[QMGR_DELIVER_IDS_MAX][QUEUE_ID_SIZE];
};

static struct flush_batch pending;
static unsigned long batch_timer;
static long long last_batch_ms = -QMGR_FLUSH_GAP_MS;

/* One walk of the queue: the messages to make due, and per site count. */
struct due_list {
	const struct flush_batch *batch;
	time_t now;
	size_t site_hits[QMGR_FLUSH_SITES_MAX];
	char (*ids)[QUEUE_ID_SIZE];
	size_t n, cap;
};

/* Counts the batch's sites where env has a pending recipient; 1 if any. */
static int
match_sites(const struct queue_envelope *env, struct due_list *dl)
{
	const struct flush_batch *b = dl->batch;
	struct buf dom = BUF_INIT;
	int seen[QMGR_FLUSH_SITES_MAX] = {0}, hit = 0;

	for (size_t i = 0; i < env->nrcpt; i++) {
		if (!queue_rcpt_pending(env->rcpts[i].state))
			continue;
		resolve_domain(env->rcpts[i].address, &dom);
		for (size_t s = 0; s < b->nsites; s++) {
			if (seen[s] ||
			    str_casecmp(buf_cstr(&dom), b->sites[s]) != 0)
				continue;
			seen[s] = 1;
			dl->site_hits[s]++;
			hit = 1;
		}
	}
	buf_free(&dom);
	return hit;
}

static int
collect(const struct queue_envelope *env, void *ctx)
{
	struct due_list *dl = ctx;

	if (env->hold || env->next_attempt <= (int64_t)dl->now)
		return 0;
	if (!dl->batch->all && !match_sites(env, dl))
		return 0;
	if (dl->n == dl->cap) {
		dl->cap = dl->cap ? dl->cap * 2 : 64;
		dl->ids = xreallocarray(dl->ids, dl->cap, sizeof(*dl->ids));
	}
	memcpy(dl->ids[dl->n++], env->id, QUEUE_ID_SIZE);
	return 0;
}

/* Makes the deferred messages of the batch's sites (or all) due now. */
static void
flush(const struct flush_batch *b)
{
	struct due_list dl = {.batch = b, .now = clock_wall()};
	int rc;

	rc = queue_list(qmgr_cfg.queue, collect, &dl);
	qmgr_fatal_queue(rc, "flush");
	for (size_t i = 0; i < dl.n; i++) {
		rc = queue_set_next_attempt(qmgr_cfg.queue, dl.ids[i], dl.now);
		qmgr_fatal_queue(rc, dl.ids[i]);
	}
	if (b->all) {
		msg_info("flush: %zu message%s", dl.n, dl.n == 1 ? "" : "s");
		qmgr_revive(NULL);
	}
	for (size_t s = 0; s < b->nsites; s++) {
		msg_info("flush %s: %zu message%s", b->sites[s],
			 dl.site_hits[s], dl.site_hits[s] == 1 ? "" : "s");
		qmgr_revive(b->sites[s]);
	}
	xfree(dl.ids);
}

static void
deliver_one(const char *id)
{
	struct queue_envelope env;
	int rc;

	rc = queue_envelope_get(qmgr_cfg.queue, id, &env);
	qmgr_fatal_queue(rc, id);
	if (rc == QUEUE_OK && !env.hold)
		rc = queue_set_next_attempt(qmgr_cfg.queue, id, clock_wall());
	else if (rc == QUEUE_OK)
		msg_info("%s: on hold: not delivered", id);
	queue_envelope_free(&env);
	qmgr_fatal_queue(rc, id);
}

static void
batch_run(void *ctx)
{
	struct flush_batch *b = &pending;

	(void)ctx;
	batch_timer = 0;
	last_batch_ms = io_now_ms();
	for (size_t i = 0; i < b->nids; i++)
		deliver_one(b->ids[i]);
	if (b->all || b->nsites > 0)
		flush(b);
	b->all = 0;
	b->nsites = b->nids = 0;
	qmgr_scan_soon();
}

static void
batch_soon(void)
{
	long long wait;

	if (batch_timer != 0)
		return;
	wait = last_batch_ms + QMGR_FLUSH_GAP_MS - io_now_ms();
	batch_timer = event_timer_add(wait > 0 ? wait : 0, batch_run, NULL);
}

static void
batch_all(void)
{
	pending.all = 1;
	pending.nsites = pending.nids = 0;
	batch_soon();
}

static void
batch_site(const char *site)
{
	if (pending.all)
		return;
	for (size_t s = 0; s < pending.nsites; s++)
		if (str_casecmp(pending.sites[s], site) == 0)
			return;
	if (pending.nsites == QMGR_FLUSH_SITES_MAX) {
		msg_info("more than %d sites to flush at once: flushing all",
			 QMGR_FLUSH_SITES_MAX);
		batch_all();
		return;
	}
	strcpy(pending.sites[pending.nsites++], site);
	batch_soon();
}

static void
batch_id(const char *id)
{
	if (pending.all)
		return;
	for (size_t i = 0; i < pending.nids; i++)
		if (strcmp(pending.ids[i], id) == 0)
			return;
	if (pending.nids == QMGR_DELIVER_IDS_MAX) {
		msg_info("more than %d messages to deliver at once: "
			 "flushing all",
			 QMGR_DELIVER_IDS_MAX);
		batch_all();
		return;
	}
	strcpy(pending.ids[pending.nids++], id);
	batch_soon();
}

/* One request line (without its newline, lib/qmgr_proto.h); 0, or -1
 * if malformed.  *wake is set for a request that asks for a scan. */
static int
request(const char *line, size_t len, int *wake)
{
	struct qmgr_request req;

	if (qmgr_request_parse(line, len, &req) < 0)
		return -1;
	switch (req.type) {
	case QMGR_REQUEST_NONE:
		return 0;
	case QMGR_REQUEST_FLUSH:
		batch_all();
		break;
	case QMGR_REQUEST_FLUSH_SITE:
		batch_site(req.arg);
		break;
	case QMGR_REQUEST_DELIVER_ONE:
		batch_id(req.arg);
		break;
	case QMGR_REQUEST_WAKEUP:
		break;
	}
	*wake = 1;
	return 0;
}

void
qmgr_trigger(const char *data, size_t len)
{
	const char *nl;
	size_t bad = 0;
	int wake = 0;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		if (request(data, nl ? (size_t)(nl - data) : len, &wake) < 0)
			bad++;
		if (nl == NULL)
			break;
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	/* One warning per request, however many bad lines it has. */
	if (bad > 0)
		msg_warn("request with %zu malformed or unknown line%s: "
			 "ignored",
			 bad, bad == 1 ? "" : "s");
	if (wake)
		qmgr_scan_soon();
}
