/*
 * queue - the mail queue: one Berkeley DB 5.3 transactional environment.
 *
 * Layout.  The environment lives in $queue_directory/db/ and holds three
 * btree databases, every file created mode 0600 (the caller has already
 * switched to mail_owner; see DESIGN.md):
 *  - envelope.db: key = queue id (QUEUE_ID_LEN bytes, no NUL), data = one
 *    envelope record (queue_record_encode below: a version byte, then
 *    every field with an explicit length; never delimiter-separated text);
 *  - content.db: key = queue id + 4-byte big-endian chunk number (from 0),
 *    data = at most QUEUE_CHUNK_MAX bytes of the message as received,
 *    trace headers included;
 *  - schedule.db: key = 8-byte big-endian next attempt time (unix seconds)
 *    + queue id, data = empty.  A message has a schedule entry exactly when
 *    it is not on hold; qmgr scans this database in key order.
 *
 * Visibility.  A message exists for readers once its envelope exists.  The
 * envelope, the schedule entry and the last content chunk are written in
 * one transaction by queue_in_commit(), so a half-received message is never
 * visible.  Content chunks of a message larger than QUEUE_CHUNK_MAX are
 * written as they fill, each in its own short transaction, rather than in
 * one transaction spanning the SMTP DATA phase: Berkeley DB btrees lock
 * whole pages until commit, queue ids sort by arrival so concurrent
 * messages insert into the same leaf pages, and a transaction held open
 * across network reads would serialise every concurrent session behind the
 * slowest client.  Those early chunks carry no envelope, so they are
 * invisible; queue_in_abort() deletes them, and chunks left by a process
 * that died while receiving are deleted by queue_purge_orphans().
 *
 * Durability.  queue_in_commit() returns only after the commit record is
 * on disk: it commits without a synchronous flush (so the transaction's
 * page locks go at once, not after an fsync) and then flushes the log up
 * to the end.  Several processes flushing at once share one write and one
 * fsync (group commit), and none waits for another's sync while holding
 * locks.  Early chunk transactions commit without sync too, which is safe
 * because the log is sequential and the final flush writes every earlier
 * record with it.  A message is visible to readers (qmgr) from its commit,
 * a moment before the flush: a crash in that moment can lose a message
 * nobody was told was queued, never one that got its 250.
 * queue_rcpt_update() and queue_remove() only discharge obligations (a
 * recipient delivered, bounced or deferred; a message done): they commit
 * with DB_TXN_WRITE_NOSYNC, so their log record is written at once and
 * survives the crash of any process, and is synced by the next
 * synchronous commit, log flush or checkpoint.  A crash of the whole
 * system before that can undo the last of them: a message is then
 * delivered (or bounced) twice, never lost, as with Postfix, which does
 * not fsync the removal of a delivered queue file.  This keeps qmgr, one
 * process, from waiting for two fsyncs per delivered message.
 *
 * Concurrency.  Every write runs in a transaction; a transaction that loses
 * a deadlock (DB_LOCK_DEADLOCK) or times out on a lock (DB_LOCK_NOTGRANTED)
 * is aborted and retried, at most QUEUE_TXN_RETRIES times.  The lock
 * detector runs on every conflict (DB_LOCK_DEFAULT), with lock and
 * transaction timeouts, so a deadlock aborts a transaction instead of
 * hanging.  Reads use no long-lived transaction or cursor between calls:
 * the content reader fetches one chunk per call, so a slow delivery holds
 * no lock.  Processes, not threads: one handle per process (DB_REGISTER
 * allows only one), never shared across fork().
 *
 * Recovery and failure checking.  Every process opens the environment with
 * DB_REGISTER, and with DB_FAILCHK so that a process that finds a dead one
 * registered first tries DB_ENV->failchk (abort the dead process's
 * transactions, release its locks) before giving up.  An open that finds
 * the environment needs full recovery returns QUEUE_RECOVER; so does any
 * operation once the environment has panicked (DB_RUNRECOVERY).  A daemon
 * that sees QUEUE_RECOVER exits.  master's queue keeper (a child of
 * master running as mail_owner: master itself never opens the
 * environment) runs queue_env_recover() before any daemon starts,
 * queue_env_failchk() after a child dies abnormally, and master has a new
 * keeper run queue_env_recover() again, after ending every daemon, when
 * that returns QUEUE_RECOVER.  failchk asks an is-alive callback which
 * processes are alive: the keeper passes one that knows the pid master
 * reported dead; NULL means a kill(pid, 0) check.  The thread table has room
 * for QUEUE_THREAD_COUNT processes and reuses the slots of dead ones.
 *
 * Disk use.  Log files no longer needed for recovery are removed at each
 * checkpoint (DB_LOG_AUTO_REMOVE).  Callers run queue_checkpoint() from a
 * timer (qmgr every minute or so); queue_close() also checkpoints.
 *
 * Errors.  Functions returning int return QUEUE_OK (0), QUEUE_NOTFOUND (1)
 * where documented, QUEUE_ERROR (-1, logged with msg_warn) or QUEUE_RECOVER
 * (-2, the environment needs recovery; logged).  Allocation failure is
 * fatal, as everywhere in Panacea.
 */
#ifndef PANACEA_QUEUE_H
#define PANACEA_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define QUEUE_OK 0
#define QUEUE_NOTFOUND 1
#define QUEUE_ERROR (-1)
#define QUEUE_RECOVER (-2)

/*
 * Queue ids: QUEUE_ID_LEN characters of QUEUE_ID_ALPHABET (Crockford's
 * base 32: digits and upper-case letters without I, L, O, U, in ASCII
 * order, so no id is a word or ambiguous to read aloud).  The first 11 encode
 * the arrival time in microseconds since the epoch (base 32, fixed width, good
 * until the year 3111), the last 5 the pid of the process that made it.  A
 * process never hands out the same microsecond twice (it steps forward when the
 * clock has not moved), so ids are unique across processes and restarts, and
 * their byte order is their arrival order.
 */
#define QUEUE_ID_LEN 16
#define QUEUE_ID_SIZE (QUEUE_ID_LEN + 1)
#define QUEUE_ID_ALPHABET "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#define QUEUE_CHUNK_MAX (64 * 1024)
#define QUEUE_TXN_RETRIES 10
#define QUEUE_THREAD_COUNT 1024

/* Record bounds: the encoder refuses and the decoder rejects beyond them. */
#define QUEUE_FIELD_MAX 4096 /* any string field, bytes */
#define QUEUE_DSN_MAX 16     /* enhanced status code such as "4.4.1" */
#define QUEUE_RCPT_MAX 50000 /* recipients per message */
/* Version 2 added the content filter; version 1 records (no filter) are
 * still read, so a queue written before the upgrade is delivered. */
#define QUEUE_RECORD_VERSION 2

enum queue_dsn_ret {
	QUEUE_RET_NONE = 0, /* no RET parameter */
	QUEUE_RET_FULL = 1,
	QUEUE_RET_HDRS = 2,
};

/* RCPT NOTIFY= (RFC 3461); 0 means not given (failure,delay by default).
 * NEVER excludes the others. */
#define QUEUE_NOTIFY_NEVER 0x01
#define QUEUE_NOTIFY_SUCCESS 0x02
#define QUEUE_NOTIFY_FAILURE 0x04
#define QUEUE_NOTIFY_DELAY 0x08

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING = 0,	  /* not tried yet */
	QUEUE_RCPT_DEFERRED = 1,  /* tried, temporary failure: still pending */
	QUEUE_RCPT_DELIVERED = 2, /* done */
	QUEUE_RCPT_BOUNCED = 3,	  /* permanent failure: done */
	QUEUE_RCPT_EXPIRED = 4,	  /* maximal_queue_lifetime reached: done */
};
#define QUEUE_RCPT_STATE_MAX QUEUE_RCPT_EXPIRED

/* Envelope flags. */
#define QUEUE_FLAG_BOUNCE 0x01	     /* the message is a DSN: never bounce it */
#define QUEUE_FLAG_8BITMIME 0x02     /* BODY=8BITMIME */
#define QUEUE_FLAG_SMTPUTF8 0x04     /* SMTPUTF8 */
#define QUEUE_FLAG_DELAY_WARNED 0x08 /* qmgr sent the delay DSN */
#define QUEUE_FLAG_BINARYMIME 0x10   /* BODY=BINARYMIME (by BDAT only) */
#define QUEUE_FLAGS_KNOWN 0x1f

struct queue_rcpt {
	char *address; /* "" never: a recipient always has an address */
	char *orcpt;   /* ORCPT as "type;addr", or "" */
	unsigned notify;
	enum queue_rcpt_state state;
	uint32_t attempts;
	char *dsn;  /* last status, e.g. "4.4.1", or "" */
	char *text; /* last status text, or "" */
};

/*
 * Strings are NUL-terminated, never NULL after decoding ("" when empty;
 * the encoder also takes NULL as ""), and contain no NUL byte.  Owned by
 * the envelope: set them with queue_str_set().
 */
struct queue_envelope {
	char id[QUEUE_ID_SIZE]; /* the key; not part of the record */
	char *sender;		/* "" is the null sender */
	int64_t arrival_sec;
	uint32_t arrival_usec;
	uint64_t size; /* content bytes */
	char *client_name;
	char *client_addr;
	char *helo;
	char *protocol; /* "ESMTP", "ESMTPSA", ... */
	char *auth_user;
	char *envid; /* DSN ENVID */
	/* content_filter or an access table's FILTER: "transport:nexthop"
	 * every recipient goes to instead of its own route; "" for none. */
	char *filter;
	enum queue_dsn_ret ret;
	int hold; /* 0 or 1 */
	int64_t next_attempt;
	uint32_t flags;
	struct queue_rcpt *rcpts;
	size_t nrcpt;
	size_t rcpt_cap;
};

/* Environment. */
struct queue;
/* Is process pid alive?  Non-zero when alive (or when unsure). */
typedef int (*queue_isalive_fn)(pid_t pid);

/*
 * Opens (creating when missing) the environment in QUEUE_DIR/db for a
 * daemon or a command.  Returns QUEUE_OK and *qp, QUEUE_RECOVER when the
 * environment needs recovery that only master's queue keeper may run, or
 * QUEUE_ERROR.
 */
int queue_open(const char *queue_dir, queue_isalive_fn isalive,
	       struct queue **qp);
/*
 * master's queue keeper only (or pansuper -c with the mail system
 * stopped), before any daemon runs or when failchk asks for it: runs
 * normal recovery unconditionally (panicking any old environment, whose
 * users then see QUEUE_RECOVER), opens the environment, and deletes orphan
 * content chunks.  Returns QUEUE_OK and *qp, or QUEUE_ERROR.
 */
int queue_env_recover(const char *queue_dir, queue_isalive_fn isalive,
		      struct queue **qp);
/*
 * master's queue keeper only, before queue_env_recover(): waits up to
 * 5 s for every process that still has the environment open (daemons of
 * a killed master end within 2 s of its death), then kills (SIGKILL) the
 * ones still there and waits up to 2 s for them to go.  Why: such a
 * process is stuck on a mutex of a process killed before it (Berkeley
 * DB 5.3's mutexes are not robust), nothing else would end it, and
 * recovery beside it reattaches to the regions it is stuck in and hangs
 * too.  Killing it loses nothing acknowledged: what it had not
 * committed was never acknowledged.  A process the caller may not
 * signal is left; recovery then goes on beside it.
 */
void queue_env_end_stuck_users(const char *queue_dir);
/*
 * Berkeley DB's own check (DB->verify) of each database file in
 * QUEUE_DIR/db, for pansuper -s: only with the mail system stopped, since
 * verify takes no locks and must not run beside writers.  A file that
 * does not exist is skipped (a new queue).  Calls bad(path, why) for each
 * file that fails and returns how many did.
 */
int queue_verify_files(const char *queue_dir,
		       void (*bad)(const char *path, const char *why,
				   void *ctx),
		       void *ctx);
/*
 * pansuper -s, with the mail system stopped, when a file fails that check
 * or recovery fails (queue_salvage.c): builds a new queue from every
 * envelope and content record Berkeley DB's salvage can still read in
 * QUEUE_DIR/db (aggressively in the files named in damaged, a
 * NULL-terminated list of names such as "envelope.db"; damaged may be
 * NULL), keeping only records of the queue's shape whose envelope
 * decodes; moves every old file of QUEUE_DIR/db into
 * QUEUE_DIR/db/damaged-STAMP (its path in kept) and puts the new queue in
 * their place.  The schedule starts empty: the caller puts each message
 * back (due now), drops content without an envelope and checks that each
 * message's content is whole.  0 with counts in st, or -1 with why (the
 * old files then stay where they were).
 */
struct queue_salvage_stats {
	size_t envelopes, chunks; /* records kept */
	size_t dropped;		  /* pairs that did not have the shape */
};
int queue_salvage(const char *queue_dir, const char *const *damaged,
		  struct queue_salvage_stats *st, struct buf *kept,
		  struct buf *why);
/* DB_ENV->failchk: QUEUE_OK when dead processes' transactions and locks
 * were resolved, QUEUE_RECOVER when full recovery is needed. */
int queue_env_failchk(struct queue *q);
/* Berkeley DB enforces lock timeouts only when its deadlock detector
 * runs, and it runs only when a new request conflicts: a waiter stuck
 * behind a stopped process would wait for ever.  master's queue keeper
 * calls this every second so that such waiters time out (DB_LOCK_EXPIRE)
 * and retry. */
int queue_lock_expire(struct queue *q);
/* Checkpoint (and so remove unneeded log files).  Cheap when idle. */
int queue_checkpoint(struct queue *q);
/* Checkpoints and closes; q may be NULL.  Returns QUEUE_OK or an error. */
int queue_close(struct queue *q);

/* Incoming messages. */
struct queue_in;

/* Starts a message: assigns its queue id (so smtpd can put it in its
 * Received: header) and its arrival time. */
struct queue_in *queue_in_begin(struct queue *q);
const char *queue_in_id(const struct queue_in *msg);
/* The envelope to fill: sender, client fields, DSN fields, flags,
 * recipients (queue_envelope_add_rcpt).  id, arrival and size are set by
 * the queue; hold and next_attempt may be set (next_attempt 0 = now). */
struct queue_envelope *queue_in_envelope(struct queue_in *msg);
/*
 * Appends content; memory use stays below 2 * QUEUE_CHUNK_MAX.  NUL octets
 * are removed, and only they (DESIGN.md "NUL octets"): every way mail
 * enters (smtpd's DATA and BDAT, sendmail through the submit service,
 * pickup, what qmgr composes) writes through here, so that no stored
 * message, mailbox or next hop ever sees one; "\r\n\0.\r\n" is stored as
 * "\r\n.\r\n", which the smtp client dot-stuffs.  The size recorded
 * counts the octets kept.  queue_in_nul_removed() says how many went, for
 * the caller's log.
 */
int queue_in_write(struct queue_in *msg, const void *data, size_t len);
uint64_t queue_in_nul_removed(const struct queue_in *msg);
/*
 * Writes the envelope, the last chunk and the schedule entry in one
 * transaction and returns once it is on disk.  Frees msg in every case.
 * QUEUE_OK means the message is queued; anything else means it is not
 * (tell the client 4xx), including an envelope that breaks the record
 * bounds or has no recipient.
 */
int queue_in_commit(struct queue_in *msg);
/* Drops the message and everything written for it; frees msg. */
void queue_in_abort(struct queue_in *msg);

/* Reading. */

/* QUEUE_OK and *env filled (free with queue_envelope_free), or
 * QUEUE_NOTFOUND, QUEUE_ERROR (including a record that fails to decode),
 * QUEUE_RECOVER. */
int queue_envelope_get(struct queue *q, const char *id,
		       struct queue_envelope *env);

struct queue_content;
/* A reader of a message's content, chunk by chunk, holding no lock or
 * cursor between calls.  Never fails: a missing message reads as empty. */
struct queue_content *queue_content_open(struct queue *q, const char *id);
/* Replaces *chunk with the next chunk: 1 when one was read, 0 at the end,
 * or QUEUE_ERROR / QUEUE_RECOVER. */
int queue_content_read(struct queue_content *r, struct buf *chunk);
void queue_content_close(struct queue_content *r);

/*
 * Calls fn for each message in queue id (arrival) order, until fn returns
 * non-zero (which is then returned).  The envelope is valid during the call
 * only; fn must not modify the queue (collect ids and act afterwards).
 * Records that fail to decode are logged and skipped.  Returns QUEUE_OK,
 * fn's value, QUEUE_ERROR or QUEUE_RECOVER.
 */
int queue_list(struct queue *q,
	       int (*fn)(const struct queue_envelope *env, void *ctx),
	       void *ctx);

/*
 * Calls fn(id, next_attempt, ctx) for at most max messages not on hold
 * whose next attempt time is <= now, in schedule order.  The ids are
 * collected first, so fn may modify the queue.  Returns the number of
 * calls, QUEUE_ERROR or QUEUE_RECOVER.
 */
int queue_schedule_due(struct queue *q, time_t now, size_t max,
		       void (*fn)(const char *id, time_t when, void *ctx),
		       void *ctx);

/* Updates. Each is one transaction; QUEUE_NOTFOUND when id is unknown. */
struct queue_rcpt_status {
	size_t index; /* into env.rcpts */
	enum queue_rcpt_state state;
	const char *dsn;  /* "" or NULL: no code */
	const char *text; /* NULL: "" */
};
/* Records the outcome of one delivery attempt for n recipients: state,
 * last status, attempts + 1.  QUEUE_ERROR on an index out of range. */
int queue_rcpt_update(struct queue *q, const char *id,
		      const struct queue_rcpt_status *st, size_t n);
/* Moves the message's schedule entry to when (also on hold: then only the
 * envelope's next_attempt changes); writes it even when when is the time
 * it had, so that a missing entry comes back (pansuper -s). */
int queue_set_next_attempt(struct queue *q, const char *id, time_t when);
/* Sets, then clears, envelope flag bits (QUEUE_FLAGS_KNOWN only). */
int queue_set_flags(struct queue *q, const char *id, uint32_t set,
		    uint32_t clear);
/* Hold removes the schedule entry; release puts it back due now. */
int queue_hold(struct queue *q, const char *id);
int queue_release(struct queue *q, const char *id);
/* Deletes envelope, every content chunk and the schedule entry at once. */
int queue_remove(struct queue *q, const char *id);
/* Deletes content chunks that have no envelope and whose id is older than
 * before (chunks of messages whose receiver died).  Master runs it after
 * recovery with before = now; while receivers run, before must be older
 * than any session can last.  Returns the number of messages purged or an
 * error. */
int queue_purge_orphans(struct queue *q, time_t before);

/* Queue ids (queue_id.c). */

/* Writes a new id for this process into id; the arrival time it encodes
 * goes to *tv when tv is not NULL. */
void queue_id_new(char id[QUEUE_ID_SIZE], struct timeval *tv);
/* The pure part: the id of (microseconds since the epoch, pid). */
void queue_id_make(char id[QUEUE_ID_SIZE], uint64_t usec, uint32_t pid);
/* Non-zero when s is a well-formed id (what a command line must pass). */
int queue_id_valid(const char *s);
/* The arrival time encoded in a valid id, in microseconds. */
uint64_t queue_id_usec(const char *id);

/* Envelopes and records (queue_record.c): pure functions. */

void queue_envelope_init(struct queue_envelope *env);
void queue_envelope_free(struct queue_envelope *env);
/* Replaces *field with a copy of value (NULL means ""). */
void queue_str_set(char **field, const char *value);
/* Appends a pending recipient; orcpt may be NULL. */
struct queue_rcpt *queue_envelope_add_rcpt(struct queue_envelope *env,
					   const char *address,
					   const char *orcpt, unsigned notify);
/* Non-zero when state means the recipient still needs delivery. */
int queue_rcpt_pending(enum queue_rcpt_state state);

/* Appends the record of env (all but id) to out; QUEUE_ERROR, with out
 * unchanged, when a field breaks the bounds above. */
int queue_record_encode(const struct queue_envelope *env, struct buf *out);
/* Decodes exactly len bytes into env (initialised here; free it with
 * queue_envelope_free in every case).  QUEUE_OK, or QUEUE_ERROR for a
 * truncated, oversized, trailing-garbage or out-of-range record. */
int queue_record_decode(const void *data, size_t len,
			struct queue_envelope *env);

#endif
