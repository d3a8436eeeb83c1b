/*
 * qmgr_post - queueing a message qmgr composed itself: a notification
 * (qmgr_bounce.c) or a forwarded copy (qmgr_forward.c).
 *
 * Both are new messages from this host, so both get the same envelope
 * around their own sender, flags, recipients and content: client
 * localhost[127.0.0.1], protocol "local".  The message is committed in
 * one transaction before qmgr_post_local() returns (a crash before that
 * leaves nothing), and qmgr scans the queue soon after, as for mail that
 * smtpd or pickup queued.  Its addresses are rewritten as theirs are
 * (lib/rewrite.h: a forwarded copy to a virtual alias is expanded, a
 * notice to a canonical sender goes to the canonical address), without
 * the automatic BCC recipients, which are for new mail only; a table
 * that cannot answer fails the post, to be tried again.
 */
#include <string.h>

#include "qmgr.h"
#include "rewrite.h"

int
qmgr_post_local(const struct qmgr_post *p, const char *orig_id,
		char new_id[QUEUE_ID_SIZE])
{
	struct queue_in *in = queue_in_begin(qmgr_cfg.queue);
	struct queue_envelope *env;
	int rc;

	if (in == NULL)
		return QUEUE_ERROR;
	memcpy(new_id, queue_in_id(in), QUEUE_ID_SIZE);
	env = queue_in_envelope(in);
	queue_str_set(&env->sender, p->sender);
	queue_str_set(&env->client_name, "localhost");
	queue_str_set(&env->client_addr, "127.0.0.1");
	queue_str_set(&env->protocol, "local");
	env->flags = p->flags;
	for (size_t i = 0; i < p->nrcpt; i++)
		queue_envelope_add_rcpt(env, p->rcpts[i], NULL, 0);
	struct buf reply = BUF_INIT;
	rc = rewrite_envelope(qmgr_cfg.rewrite, new_id, env, 0, &reply);
	buf_free(&reply);
	if (rc != REWRITE_OK) {
		queue_in_abort(in);
		return QUEUE_ERROR;
	}
	rc = p->write_content(p->ctx, in);
	qmgr_fatal_queue(rc, orig_id);
	if (rc != QUEUE_OK) {
		queue_in_abort(in);
		return QUEUE_ERROR;
	}
	rc = queue_in_commit(in);
	qmgr_fatal_queue(rc, orig_id);
	if (rc == QUEUE_OK)
		qmgr_scan_soon();
	return rc;
}
