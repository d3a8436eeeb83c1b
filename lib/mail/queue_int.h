/*
 * queue_int - what the queue modules share and nothing else may use
 * (unit tests excepted: they reach the environment to hold a transaction
 * open in a process they then kill).
 */
#ifndef PANACEA_QUEUE_INT_H
#define PANACEA_QUEUE_INT_H

#include <db.h>

#include "queue.h"

struct queue {
	DB_ENV *env;
	DB *envelope;
	DB *content;
	DB *schedule;
	queue_isalive_fn isalive;
	int needs_recovery; /* failchk said so: close without a checkpoint */
};

#define QUEUE_CONTENT_KEY_LEN (QUEUE_ID_LEN + 4)
#define QUEUE_SCHED_KEY_LEN (8 + QUEUE_ID_LEN)

/*
 * Runs fn in a transaction and commits it with commit_flags (0 = synced).
 * fn returns 0 to commit, or a Berkeley DB error (DB_NOTFOUND, ...) or
 * EINVAL (already logged) to abort.  A deadlock or lock timeout aborts and
 * reruns fn, so fn must start from its ctx alone.  Returns QUEUE_OK,
 * QUEUE_NOTFOUND, QUEUE_ERROR or QUEUE_RECOVER; what names the operation
 * in log lines.
 */
int queue_txn_run(struct queue *q, const char *what,
		  int (*fn)(struct queue *q, DB_TXN *txn, void *ctx), void *ctx,
		  u_int32_t commit_flags);
/* Maps a Berkeley DB error to a QUEUE_ code, logging what went wrong. */
int queue_db_error(const char *what, int err);
/* True for the errors that a retry can cure. */
int queue_db_retryable(int err);
/* Sleeps a little before retry number attempt (0, 1, ...). */
void queue_backoff(int attempt);

#endif
