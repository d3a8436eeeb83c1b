/*
 * showq - the queue listing served on $queue_directory/public/showq.
 *
 * Ordinary users never open the queue (DESIGN.md); mailq and panqueue -p
 * / -j connect to the showq service, which runs as mail_owner, writes
 * the listing and closes.  The client sends nothing.  The listing is a
 * sequence of attribute lists (lib/util/attr.h), each with a "type":
 *   type=message  queue_name (maildrop, active, deferred, hold),
 *                 queue_id, arrival_time (unix seconds), message_size
 *                 (bytes), force_expired (0/1), sender (MAILER-DAEMON for
 *                 the null sender, as Postfix's showq says);
 *   type=rcpt     address, reason ("" when none): one per recipient still
 *                 to be delivered, after its message;
 *   type=end      count (messages listed): the listing is complete;
 *   type=denied   uid, user: the only list showq sends to a peer that
 *                 authorized_mailq_users (mailq_users.h) does not let
 *                 list the queue: the uid the kernel gave showq
 *                 (SO_PEERCRED) and the name the list was asked about
 *                 ("unknown" for a uid without an account).
 * A connection that ends before type=end (or type=denied) is a failed
 * listing.  Every list
 * is at most SHOWQ_LIST_MAX bytes (longer fields are cut to
 * SHOWQ_FIELD_MAX); the field names are those of Postfix's showq and
 * postqueue -j.  Both sides go through one table per type (attr_scan.h):
 * each attribute of its type exactly once, nothing else; arrival_time 0
 * .. SHOWQ_NUMBER_MAX, message_size and count 0 .. SHOWQ_NUMBER_MAX,
 * force_expired 0 or 1, queue_name one of the four names, queue_id 1 ..
 * QUEUE_ID_LEN characters of the queue id alphabet; sender, address and
 * reason text without NUL; uid 0 .. SHOWQ_NUMBER_MAX, user 1 ..
 * SHOWQ_FIELD_MAX bytes.
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
#define SHOWQ_FIELD_MAX 4096 /* so that one recipient always fits a list */
#define SHOWQ_NUMBER_MAX (1LL << 40)
#define SHOWQ_TIMEOUT_MS 60000

enum showq_type {
	SHOWQ_MESSAGE,
	SHOWQ_RCPT,
	SHOWQ_END,
	SHOWQ_DENIED,
};

/* One list of the listing; the fields of its type are set. */
struct showq_record {
	enum showq_type type;
	char *type_name;
	char *queue_name; /* message */
	char *queue_id;
	long long arrival_time;
	long long message_size;
	long long force_expired;
	char *sender;
	char *address; /* rcpt */
	char *reason;
	long long count; /* end */
	long long uid;	 /* denied */
	char *user;
};

/* Decodes the record at the start of data: 0 with *used set; 1 when data
 * is a valid prefix of one (read more); -1 with the reason in why. r is
 * zeroed first; showq_record_free() releases it either way. */
int showq_record_decode(const char *data, size_t len, struct showq_record *r,
			size_t *used, struct buf *why);
/* Appends the record; strings longer than SHOWQ_FIELD_MAX are cut. */
void showq_record_encode(const struct showq_record *r, struct buf *out);
void showq_record_free(struct showq_record *r);

/* Appends the listing of q and of maildrop_dir (NULL: none) to out;
 * QUEUE_OK or the queue's error. */
int showq_build(struct queue *q, const char *maildrop_dir, struct buf *out);

/* The queue name of a queued message (pure; for tests). */
const char *showq_queue_name(const struct queue_envelope *env);

#endif
