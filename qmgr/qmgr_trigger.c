/*
 * qmgr_trigger - requests on public/qmgr (the bytes are listed in
 * qmgr.h): wakeups, flushes and deliver-one-now.
 *
 * Making messages due is done on the queue itself (their schedule entry
 * moves to now), so it survives a restart and the normal scan takes the
 * messages in hand.  A flush walks the whole queue (queue_list), which is
 * what an administrator asking for a flush expects to pay.
 */
#include <string.h>
#include <time.h>

#include "msg.h"
#include "qmgr.h"
#include "resolve.h"
#include "strutil.h"
#include "xalloc.h"

#define QMGR_SITE_MAX 255

struct due_list {
	const char *site; /* NULL: every message */
	time_t now;
	char (*ids)[QUEUE_ID_SIZE];
	size_t n, cap;
};

static int
has_pending_rcpt_at(const struct queue_envelope *env, const char *site)
{
	struct buf dom = BUF_INIT;
	int hit = 0;

	for (size_t i = 0; i < env->nrcpt && !hit; i++) {
		if (!queue_rcpt_pending(env->rcpts[i].state))
			continue;
		resolve_domain(env->rcpts[i].address, &dom);
		hit = str_casecmp(buf_cstr(&dom), site) == 0;
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
	if (dl->site && !has_pending_rcpt_at(env, dl->site))
		return 0;
	if (dl->n == dl->cap) {
		dl->cap = dl->cap ? dl->cap * 2 : 64;
		dl->ids = xreallocarray(dl->ids, dl->cap, sizeof(*dl->ids));
	}
	memcpy(dl->ids[dl->n++], env->id, QUEUE_ID_SIZE);
	return 0;
}

/* Makes the deferred messages (of one site) due now. */
static void
flush(const char *site)
{
	struct due_list dl = {site, time(NULL), NULL, 0, 0};
	int rc;

	rc = queue_list(qmgr_cfg.queue, collect, &dl);
	qmgr_fatal_queue(rc, "flush");
	for (size_t i = 0; i < dl.n; i++) {
		rc = queue_set_next_attempt(qmgr_cfg.queue, dl.ids[i], dl.now);
		qmgr_fatal_queue(rc, dl.ids[i]);
	}
	msg_info("flush%s%s: %zu message%s", site ? " " : "", site ? site : "",
		 dl.n, dl.n == 1 ? "" : "s");
	xfree(dl.ids);
	qmgr_revive(site);
}

static void
deliver_one(const char *id)
{
	struct queue_envelope env;
	int rc;

	if (!queue_id_valid(id)) {
		msg_warn("deliver request: bad queue id");
		return;
	}
	rc = queue_envelope_get(qmgr_cfg.queue, id, &env);
	qmgr_fatal_queue(rc, id);
	if (rc == QUEUE_OK && !env.hold)
		rc = queue_set_next_attempt(qmgr_cfg.queue, id, time(NULL));
	else if (rc == QUEUE_OK)
		msg_info("%s: on hold: not delivered", id);
	queue_envelope_free(&env);
	qmgr_fatal_queue(rc, id);
}

/* One request line (without its newline). */
static void
request(const char *line, size_t len)
{
	char arg[QMGR_SITE_MAX + 1];
	int wake = 0, flush_all = 0;

	if (len == 0)
		return;
	if (line[0] == QMGR_REQ_FLUSH_SITE || line[0] == QMGR_REQ_DELIVER_ONE) {
		if (len - 1 > QMGR_SITE_MAX || memchr(line, '\0', len)) {
			msg_warn("request too long or malformed: ignored");
			return;
		}
		memcpy(arg, line + 1, len - 1);
		arg[len - 1] = '\0';
		if (line[0] == QMGR_REQ_FLUSH_SITE && *arg)
			flush(arg);
		else if (line[0] == QMGR_REQ_DELIVER_ONE)
			deliver_one(arg);
		qmgr_scan_soon();
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (line[i] == QMGR_REQ_WAKEUP)
			wake = 1;
		else if (line[i] == QMGR_REQ_FLUSH)
			flush_all = 1;
		else {
			msg_warn("unknown request byte 0x%02x: ignored",
				 (unsigned char)line[i]);
			return;
		}
	}
	if (flush_all)
		flush(NULL);
	if (wake || flush_all)
		qmgr_scan_soon();
}

void
qmgr_trigger(const char *data, size_t len)
{
	const char *nl;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		request(data, nl ? (size_t)(nl - data) : len);
		if (nl == NULL)
			break;
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
}
