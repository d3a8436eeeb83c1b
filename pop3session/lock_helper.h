/*
 * lock_helper - the root parent of a POP3 session makes and removes the
 * dotlock (PATH.lock) of a spool mailbox for its child.
 *
 * Why.  The session child runs as the mailbox owner (the unix user, or
 * mail_only_owner) and the spool directory is root's: the child cannot
 * create PATH.lock there, and local, which locks the same mailbox,
 * expects that lock.  So pop3session keeps one root process per session,
 * the parent, whose only work after the fork is this: it never reads a
 * byte of the session and holds no descriptor of the client.
 *
 * Protocol.  Over a SOCK_STREAM socketpair made before the fork; the
 * parent keeps one end, the child the other.  One request at a time:
 *   child to parent: one byte, 'L' (make PATH.lock, waiting as local
 *     does: deliver_lock_attempts tries deliver_lock_delay apart, a lock
 *     older than stale_lock_time whose owner is gone is broken) or 'U'
 *     (remove it);
 *   parent to child: one byte, '0' done; '1' PATH.lock is held by
 *     another process (busy after every try); '2' refused or failed: an
 *     'L' while the lock is held or for a mailbox that is not an mbox in
 *     the spool, a 'U' while it is not held, any other byte, or a lock
 *     file that could not be made (logged).
 * The parent acts only on the one path fixed before the fork: whatever
 * the child sends, it cannot make root lock, unlock or create any other
 * file.  When the child closes its end or dies, the parent removes a lock
 * still held and reaps the child.
 */
#ifndef PANACEA_LOCK_HELPER_H
#define PANACEA_LOCK_HELPER_H

#include <sys/types.h>

#include "buf.h"

struct lock_helper_config {
	int attempts; /* deliver_lock_attempts */
	int delay;    /* deliver_lock_delay, seconds */
	int stale;    /* stale_lock_time, seconds */
};

/* The parent: serves the child pid on sock until it is gone, for the
 * mbox at path (spool_mbox 0: every 'L' is refused), then closes sock
 * and reaps pid. */
void lock_helper_serve(const struct lock_helper_config *cfg, const char *path,
		       int spool_mbox, int sock, pid_t pid);

/* The child: MBOX_LOCK_OK, MBOX_LOCK_BUSY or MBOX_LOCK_ERROR (why set). */
int lock_helper_lock(int sock, struct buf *why);
/* The child: 0, or -1 when the parent did not remove the lock. */
int lock_helper_unlock(int sock);

#endif
