/*
 * local_job - the messages between local and its mailbox workers
 * (local_worker.c): one job, one reply, over a socketpair.
 *
 * A job is an attribute list (attr.h, attr_scan.h) followed by the
 * message content as a descriptor (sock_send_fd: the sealed memory file
 * qmgr passed to local); the reply is one list.  The worker is local's
 * own child, so the codec guards against bugs, not against an attacker:
 * still, every field is bounded and checked, as everywhere in Panacea,
 * and a job the worker cannot decode ends the worker (local sees end of
 * file and defers the delivery).
 *
 *   kind     "mbox" or "maildir" (a recipient's worker), "lock" or
 *            "unlock" (the spool lock keeper: PATH.lock of a spool
 *            mbox, and a new mailbox given to uid and gid)
 *   path     the mailbox file, or the Maildir directory
 *   sender   the envelope sender ("" for a bounce)
 *   to       the Delivered-To: address ("" for lock and unlock)
 *   uid gid  whom the mailbox must belong to (mbox safe_open)
 *   locks    mbox: 1 = the worker takes PATH.lock itself (a mailbox in
 *            the recipient's home); 0 = local holds it (the spool)
 *   size     the content's length in bytes: the descriptor must hold
 *            exactly that (mbox and maildir only: lock and unlock have
 *            no content and no descriptor)
 * The reply: class (2, 4 or 5), dsn (X.Y.Z of that class), text.
 */
#ifndef PANACEA_LOCAL_JOB_H
#define PANACEA_LOCAL_JOB_H

#include "attr.h"
#include "buf.h"

/* Paths and addresses are bounded by what local accepts anyway. */
#define LOCAL_JOB_FIELD_MAX 4096
#define LOCAL_JOB_TEXT_MAX 2048
#define LOCAL_JOB_LIST_MAX (8 * LOCAL_JOB_FIELD_MAX)
#define LOCAL_JOB_SIZE_MAX (1LL << 40)

struct local_job {
	char *kind;
	char *path;
	char *sender;
	char *to;
	long long uid, gid;
	long long locks;
	long long size;
};

struct local_job_reply {
	long long cls;
	char *dsn;
	char *text;
};

enum local_job_kind {
	LOCAL_JOB_MBOX,
	LOCAL_JOB_MAILDIR,
	LOCAL_JOB_LOCK,
	LOCAL_JOB_UNLOCK,
};
/* The job's kind, or -1 when it names none. */
int local_job_kind(const struct local_job *job);

void local_job_encode(const struct local_job *job, struct attr_list *out);
/* 0, or -1 with the reason appended to why; free with local_job_free. */
int local_job_decode(const struct attr_list *in, struct local_job *job,
		     struct buf *why);
void local_job_free(struct local_job *job);

void local_job_reply_encode(const struct local_job_reply *r,
			    struct attr_list *out);
int local_job_reply_decode(const struct attr_list *in,
			   struct local_job_reply *r, struct buf *why);
void local_job_reply_free(struct local_job_reply *r);

#endif
