/*
 * showq - the queue listing served on $queue_directory/public/showq.
 *
 * Ordinary users never open the queue (DESIGN.md); mailq and panqueue -p
 * / -j connect to the showq service, which runs as mail_owner, writes
 * the listing and closes.  The client sends nothing.  The listing is a
 * sequence of attribute lists (lib/attr.h), each with a "type":
 *   type=message  queue_name (maildrop, active, deferred, hold),
 *                 queue_id, arrival_time (unix seconds), message_size
 *                 (bytes), force_expired (0/1), sender (MAILER-DAEMON for
 *                 the null sender, as Postfix's showq says);
 *   type=rcpt     address, reason ("" when none): one per recipient still
 *                 to be delivered, after its message;
 *   type=end      count (messages listed): the listing is complete.
 * A connection that ends before type=end is a failed listing.  Every list
 * is at most SHOWQ_LIST_MAX bytes (longer fields are cut); the field
 * names are those of Postfix's showq and postqueue -j.
 *
 * Queue names: a message on hold is "hold"; one with a recipient whose
 * last attempt failed temporarily is "deferred"; any other message is
 * "active" (qmgr takes every due message at once); a file still in
 * maildrop/ is "maildrop", listed by its file name.
 *
 * showq_build() produces the whole listing into out (the queue is read
 * first and the client served afterwards, so a slow reader never holds a
 * cursor in the queue); root's panqueue uses it directly when showq is
 * not running.
 */
#ifndef PANACEA_SHOWQ_H
#define PANACEA_SHOWQ_H

#include <sys/types.h>

#include "buf.h"
#include "queue.h"

#define SHOWQ_LIST_MAX (64 * 1024)
#define SHOWQ_TIMEOUT_MS 60000

/* Appends the listing of q and of maildrop_dir (NULL: none) to out;
 * QUEUE_OK or the queue's error. */
int showq_build(struct queue *q, const char *maildrop_dir, struct buf *out);

/* The queue name of a queued message (pure; for tests). */
const char *showq_queue_name(const struct queue_envelope *env);

#endif
