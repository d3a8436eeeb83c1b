/*
 * qmgr_bounce - notifications: failure, delay and success DSNs to the
 * envelope sender, and the postmaster notice for a bounce that failed.
 *
 * A notification is a new message, composed by dsn.c straight into
 * the queue (qmgr_post_local()), from the null sender with
 * QUEUE_FLAG_BOUNCE.
 * Rules (Postfix's):
 *  - NOTIFY: a failure is reported unless the recipient asked for NEVER
 *    or for a set without FAILURE; a delay likewise with DELAY (no
 *    NOTIFY means FAILURE,DELAY); success only with SUCCESS.
 *  - A message from the null sender is never bounced to its sender.  A
 *    bounce (QUEUE_FLAG_BOUNCE from <>) that fails goes once to
 *    bounce_notice_recipient, from double_bounce_sender; when that notice
 *    fails too it is dropped with "undeliverable postmaster notification
 *    discarded".  So bounces never loop.
 */
#include <string.h>

#include "clock.h"
#include "dsn.h"
#include "msg.h"
#include "qmgr.h"
#include "xalloc.h"

/* What a notice needs while it is composed into the queue. */
struct notice {
	const struct qmgr_message *m;
	struct dsn_msg dm;
	const struct dsn_rcpt *rc;
	size_t n;
	struct queue_content *original;
};

static int
read_original(void *ctx, struct buf *chunk)
{
	struct notice *nt = ctx;
	int rc = queue_content_read(nt->original, chunk);

	qmgr_fatal_queue(rc, "content");
	return rc == 1 ? 1 : rc == 0 ? 0 : -1;
}

static int
write_notice(void *ctx, const void *data, size_t len)
{
	return queue_in_write(ctx, data, len) == QUEUE_OK ? 0 : -1;
}

static int
compose_notice(void *ctx, struct queue_in *in)
{
	struct notice *nt = ctx;
	int ok;

	nt->dm.new_id = queue_in_id(in);
	nt->original = queue_content_open(qmgr_cfg.queue, nt->m->id);
	ok = dsn_compose(&nt->dm, nt->rc, nt->n, read_original, nt,
			 write_notice, in) == 0;
	queue_content_close(nt->original);
	return ok ? QUEUE_OK : QUEUE_ERROR;
}

/* Composes and queues one notice; 0 or -1. */
static int
queue_notice(const struct qmgr_message *m, enum dsn_kind kind,
	     const char *sender, const char *to, const struct dsn_rcpt *rc,
	     size_t n, const char *what)
{
	struct notice nt = {.m = m, .rc = rc, .n = n};
	struct qmgr_post post = {
	    .sender = sender,
	    .flags = QUEUE_FLAG_BOUNCE | (m->env.flags & (QUEUE_FLAG_8BITMIME |
							  QUEUE_FLAG_SMTPUTF8)),
	    .rcpts = &to,
	    .nrcpt = 1,
	    .write_content = compose_notice,
	    .ctx = &nt,
	};
	char new_id[QUEUE_ID_SIZE];

	nt.dm.kind = kind;
	nt.dm.myhostname = qmgr_cfg.myhostname;
	nt.dm.queue_id = m->id;
	nt.dm.sender = m->env.sender;
	nt.dm.to = to;
	nt.dm.envid = m->env.envid;
	nt.dm.ret = (int)m->env.ret;
	nt.dm.arrival = (time_t)m->env.arrival_sec;
	nt.dm.now = clock_wall();
	nt.dm.lifetime = (m->env.flags & QUEUE_FLAG_BOUNCE)
			     ? qmgr_cfg.bounce_lifetime
			     : qmgr_cfg.max_lifetime;
	nt.dm.size = m->env.size;
	nt.dm.return_limit = qmgr_cfg.bounce_size_limit;
	nt.dm.eightbit = (m->env.flags & QUEUE_FLAG_8BITMIME) != 0;
	if (qmgr_post_local(&post, m->id, new_id) != QUEUE_OK) {
		msg_warn("%s: cannot queue the %s", m->id, what);
		return -1;
	}
	msg_info("%s: %s: %s", m->id, what, new_id);
	return 0;
}

static void
fill_rcpt(const struct qmgr_message *m, size_t i, enum dsn_action action,
	  struct dsn_rcpt *out)
{
	const struct queue_rcpt *r = &m->env.rcpts[i];

	out->address = r->address;
	out->orcpt = r->orcpt;
	out->action = action;
	out->status = r->dsn;
	out->text = r->text;
	out->remote_mta = m->res[i].remote_mta ? m->res[i].remote_mta : "";
}

static int
notify_wants(unsigned notify, unsigned bit)
{
	if (notify & QUEUE_NOTIFY_NEVER)
		return 0;
	if (notify == 0)
		return bit != QUEUE_NOTIFY_SUCCESS;
	return (notify & bit) != 0;
}

/* The failed recipients of the round: to the sender, or to postmaster
 * for a failed bounce, or nobody. */
static int
bounce_failures(const struct qmgr_message *m)
{
	struct dsn_rcpt *rc = xcalloc(m->env.nrcpt, sizeof(*rc));
	int is_bounce = (m->env.flags & QUEUE_FLAG_BOUNCE) != 0;
	size_t n = 0, failed = 0;
	int ret = 0;

	for (size_t i = 0; i < m->env.nrcpt; i++) {
		if (m->res[i].cls != 5 ||
		    !queue_rcpt_pending(m->env.rcpts[i].state))
			continue;
		failed++;
		if (is_bounce ||
		    notify_wants(m->env.rcpts[i].notify, QUEUE_NOTIFY_FAILURE))
			fill_rcpt(m, i, DSN_ACTION_FAILED, &rc[n++]);
	}
	if (failed == 0 || n == 0) {
		/* Nothing failed, or NOTIFY says not to tell. */
	} else if (is_bounce && *m->env.sender == '\0') {
		ret =
		    queue_notice(m, DSN_KIND_POSTMASTER, qmgr_cfg.double_bounce,
				 qmgr_cfg.bounce_notice_recipient, rc, n,
				 "postmaster non-delivery notification");
	} else if (is_bounce) {
		msg_info("%s: undeliverable postmaster notification discarded",
			 m->id);
	} else if (*m->env.sender != '\0') {
		ret = queue_notice(m, DSN_KIND_FAILURE, "", m->env.sender, rc,
				   n, "sender non-delivery notification");
	}
	xfree(rc);
	return ret;
}

/* Delivered recipients that asked for NOTIFY=SUCCESS.  A notice that
 * cannot be queued is only logged: the deliveries are recorded. */
static void
notify_successes(const struct qmgr_message *m)
{
	struct dsn_rcpt *rc;
	size_t n = 0;

	if (*m->env.sender == '\0' || (m->env.flags & QUEUE_FLAG_BOUNCE))
		return;
	rc = xcalloc(m->env.nrcpt, sizeof(*rc));
	for (size_t i = 0; i < m->env.nrcpt; i++)
		if (m->res[i].cls == 2 &&
		    notify_wants(m->env.rcpts[i].notify, QUEUE_NOTIFY_SUCCESS))
			fill_rcpt(m, i, DSN_ACTION_DELIVERED, &rc[n++]);
	if (n > 0)
		(void)queue_notice(m, DSN_KIND_SUCCESS, "", m->env.sender, rc,
				   n, "sender delivery status notification");
	xfree(rc);
}

int
qmgr_bounce_round(struct qmgr_message *msg)
{
	int rc = bounce_failures(msg);

	notify_successes(msg);
	return rc;
}

int
qmgr_bounce_delay(struct qmgr_message *m)
{
	struct dsn_rcpt *rc = xcalloc(m->env.nrcpt, sizeof(*rc));
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < m->env.nrcpt; i++)
		if (m->env.rcpts[i].state == QUEUE_RCPT_DEFERRED &&
		    m->res[i].cls != 5 &&
		    notify_wants(m->env.rcpts[i].notify, QUEUE_NOTIFY_DELAY))
			fill_rcpt(m, i, DSN_ACTION_DELAYED, &rc[n++]);
	if (n > 0)
		ret = queue_notice(m, DSN_KIND_DELAY, "", m->env.sender, rc, n,
				   "sender delay notification");
	xfree(rc);
	return ret;
}
