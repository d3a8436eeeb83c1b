/*
 * qmgr - the queue manager: one long-lived scheduler (DESIGN.md, "The
 * path of a message").
 *
 * Requests on public/qmgr (lib/qmgr_proto.h; the daemon skeleton reads a
 * connection to its end, at most DAEMON_TRIGGER_MAX bytes).  A request is
 * one line ("\n" separates several); its first byte says what to do:
 *   W          wake up: look for due messages now (smtpd after each
 *              commit, master's wakeup timer).  Any run of W and F bytes
 *              on a line is one request per distinct letter.
 *   F          flush: every message not on hold becomes due now, and
 *              every destination and transport marked dead is tried again
 *              (panqueue -f).
 *   S<domain>  flush a site: every message with a pending recipient in
 *              <domain> becomes due now, and that destination is no
 *              longer dead (panqueue -s).
 *   I<queueid> deliver one message now (panqueue -i).
 * Anything else is logged and ignored.  Flushes and deliver-one requests
 * are merged and run at most once a second (qmgr_trigger.c), so a flood
 * on the public socket costs one queue walk a second.  qmgr also scans
 * the queue every queue_run_delay seconds on its own.
 *
 * Scheduling.  Due messages (schedule order) enter a bounded active set
 * (qmgr_message_active_limit).  Each pending recipient is resolved
 * (resolve.h) to a transport and a next hop; recipients with the same
 * ones form jobs of at most TRANSPORT_destination_recipient_limit
 * (default_destination_recipient_limit when not set).  Jobs wait in
 * per-destination FIFOs inside per-transport queues; a destination has at
 * most its concurrency window of jobs in flight (slow start: from
 * TRANSPORT_initial_destination_concurrency up to
 * TRANSPORT_destination_concurrency_limit, lib/conc_feedback.h), a
 * transport at most the maxproc of its service (so qmgr never queues
 * connections an agent cannot take), and destinations take turns.  When a
 * transport's recipient limit is 1 the destination is the recipient
 * itself (as Postfix does for local).  A delivery attempt that fails as a
 * whole (the agent failed, died or timed out, or every recipient was
 * deferred with a 4.4.x network/routing code) is negative feedback: the
 * window shrinks, and after
 * TRANSPORT_destination_concurrency_failed_cohort_limit failed
 * pseudo-cohorts the destination is marked dead for
 * minimal_backoff_time: its queued jobs are deferred at once ("delivery
 * temporarily suspended"), so it never ties up the transport; a delivery
 * in flight that then succeeds revives it.
 * A transport whose socket cannot be reached is dead for
 * transport_retry_time.
 *
 * Recording (crash safety: everything that matters is in the queue).
 * One queue transaction per agent reply records delivered and deferred
 * recipients; the copies an agent asks for in its reply (forward groups,
 * qmgr_forward.c) are queued before it.  An agent whose service runs as
 * root gets the content from qmgr as a sealed memory file and never opens
 * the queue (lib/deliver_proto.h).  Failed recipients are recorded only after
 * their notification has been queued, so a crash in between bounces them again
 * rather than losing the bounce.  A message whose round is over is
 * removed when nothing is pending ("QUEUEID: removed"), else rescheduled
 * by exponential backoff (backoff.h).  On restart, messages that were
 * active are due (their schedule entry was never moved), so every pending
 * recipient is tried again, and a recipient recorded delivered never is.
 */
#ifndef PANACEA_QMGR_H
#define PANACEA_QMGR_H

#include <stddef.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "conc_feedback.h"
#include "deliver_request.h"
#include "maps.h"
#include "qmgr_proto.h"
#include "queue.h"
#include "resolve.h"

/* Configuration and global state. */
struct qmgr_config {
	struct queue *queue;
	const char *qdir; /* daemon_queue_dir() */
	struct maps *transport_maps;
	struct maps *sender_relayhost_maps; /* NULL: none */
	struct maps *sender_transport_maps; /* NULL: none */
	struct match_list *relay_domains;
	/* Rewriting of what qmgr queues itself (lib/rewrite.h) and the
	 * virtual alias domains routing bounces (resolve.h). */
	struct rewrite *rewrite;
	struct match_list *virtual_alias_domains;
	struct resolve_conf resolve;
	struct match_list *mydestination;
	struct match_list *virtual_mailbox_domains;
	const char *myhostname;
	const char *myorigin;
	const char *bounce_notice_recipient;
	char *double_bounce; /* double_bounce_sender@myorigin */
	long long active_limit;
	long long min_backoff, max_backoff;
	long long max_lifetime, bounce_lifetime;
	long long delay_warning;
	long long transport_retry;
	long long ipc_timeout_ms;
	long long run_delay;
	unsigned long long bounce_size_limit;
	int default_proc_limit;
	struct service_table *services;
};
extern struct qmgr_config qmgr_cfg;

/* Per-recipient facts of the current round. */
struct qmgr_result {
	int cls;	  /* 0 not reported yet, 2, 4, 5 */
	int expired;	  /* class 5 by maximal_queue_lifetime */
	char *remote_mta; /* for the DSN */
	int unsaved;	  /* state changed here, not yet in the queue */
};

struct qmgr_message {
	char id[QUEUE_ID_SIZE];
	struct queue_envelope env;
	struct timeval active_tv;   /* when qmgr took it */
	struct qmgr_result *res;    /* env.nrcpt entries */
	size_t jobs;		    /* jobs not finished */
	struct qmgr_message *hnext; /* hash chain */
};

struct qmgr_transport;
struct qmgr_dest;

/* One delivery request: recipients of one message for one destination. */
struct qmgr_job {
	struct qmgr_message *msg;
	struct qmgr_dest *dest;
	size_t *rcpts; /* indexes into msg->env.rcpts */
	size_t nrcpt;
	struct qmgr_job *next; /* in the destination's FIFO */
	int inflight;	       /* counted in the limits */
	/* IPC state while in flight. */
	int fd;
	int content_fd; /* the sealed copy for a root agent, or -1 */
	unsigned long timer;
	struct buf out;
	size_t out_off;
	struct buf in;
};

struct qmgr_dest {
	char *key;     /* next hop, or the recipient (recipient limit 1) */
	char *nexthop; /* what the agent gets */
	struct qmgr_transport *tr;
	struct qmgr_job *head, *tail;
	size_t queued, busy;
	struct conc_window win; /* busy may reach win.window */
	time_t dead_until;
	char *dead_reason;
	char dead_dsn[QUEUE_DSN_MAX];
	int in_ready;
	struct qmgr_dest *rnext, *rprev; /* transport's ready ring */
	struct qmgr_dest *hnext;	 /* hash chain */
};

struct qmgr_transport {
	char *name;
	int dest_limit;
	int rcpt_limit;
	struct conc_params conc; /* the destinations' windows */
	int proc_limit;
	int pass_content; /* its service runs as root: content by descriptor */
	int busy;
	time_t dead_until;
	char *dead_reason;
	long long blocked_until_ms; /* socket backlog full: pause briefly */
	struct qmgr_dest **dests;   /* hash buckets */
	size_t ndests;
	struct qmgr_dest *ready; /* destinations that can start a job */
	struct qmgr_transport *next;
};

/* qmgr.c */
void qmgr_scan_soon(void);
/* Room in the active set: a scan, if the last one left due messages out
 * for lack of it. */
void qmgr_scan_room(void);
/* After a table change: exits once no job is in flight. */
void qmgr_drain_check(void);
void qmgr_fatal_queue(int rc, const char *what);

/* qmgr_message.c: the active set. */
size_t qmgr_active_count(void);
struct qmgr_message *qmgr_active_find(const char *id);
/* Takes the message in hand; 0, or -1 when it cannot be loaded. */
int qmgr_message_activate(const char *id);
/* Called as each job of msg ends; finishes the round after the last. */
void qmgr_message_job_done(struct qmgr_message *msg);
/* Records the outcome of n recipients (indexes) in the message; the
 * queue gets it when the job ends (qmgr_message_job_done): in one
 * transaction with the others, or not at all when the message is then
 * removed.  Every caller ends the job right after, before it returns to
 * the event loop. */
void qmgr_message_record(struct qmgr_message *msg, const size_t *idx,
			 const int *cls, const char *const *dsn,
			 const char *const *text, const char *const *mta,
			 size_t n);
/* Logs one recipient's result as qmgr decided it (agent unreachable,
 * expired...). */
void qmgr_log_rcpt(const struct qmgr_message *msg, size_t idx,
		   const char *relay, const char *dsn, const char *status,
		   const char *text);
/* The same line for any address of msg (a forwarded copy's recipient):
 * orig_to is an address (NULL for none), never xtext. */
void qmgr_log_event(const struct qmgr_message *msg, const char *to,
		    const char *orig_to, const char *relay, const char *dsn,
		    const char *status, const char *text);

/* qmgr_sched.c: transports, destinations and dispatching. */
/* Reads the concurrency feedback settings (a bad one is fatal). */
void qmgr_sched_init(void);
struct qmgr_transport *qmgr_transport_get(const char *name);
void qmgr_job_enqueue(struct qmgr_message *msg, const char *transport,
		      const char *nexthop, const size_t *rcpts, size_t n);
void qmgr_dispatch(void);
/* A job ended (after its results were recorded) and is freed.  dead_dsn
 * NULL: the destination answered normally; else it failed as a whole and
 * is marked dead with dead_dsn and why. */
void qmgr_job_finished(struct qmgr_job *job, const char *dead_dsn,
		       const char *why);
/* Defers every recipient of job with dsn/text, logs them, and finishes
 * the job (site_dead: the destination failed as a whole). */
void qmgr_job_defer(struct qmgr_job *job, const char *dsn, const char *text,
		    int site_dead);
/* Puts a job that could not start back at the head of its queue and
 * pauses the transport briefly (its socket's backlog is full). */
void qmgr_job_retry_later(struct qmgr_job *job);
void qmgr_transport_dead(struct qmgr_transport *tr, const char *why);
/* Forgets dead marks: every one (site NULL) or one next hop's. */
void qmgr_revive(const char *site);
size_t qmgr_jobs_in_flight(void);

/* qmgr_deliver.c: one request over private/TRANSPORT. */
void qmgr_deliver_start(struct qmgr_job *job);

/* qmgr_forward.c: copies of a message that an agent asked for
 * (lib/deliver_proto.h "forward", decoded by lib/deliver_request). */
/* Queues one copy per group, each with "Delivered-To: " the address of
 * recipient idx on top, and logs each forwarded address; 0, or -1 with
 * why set when a copy could not be queued (copies already queued stay:
 * the recipient is then deferred and forwarded again, at least once). */
int qmgr_forward(struct qmgr_message *msg, size_t idx,
		 const struct deliver_forward *groups, size_t n,
		 struct buf *why);
/* A sealed memory file holding msg's content, for an agent that must not
 * open the queue; the descriptor, or -1 (logged). */
int qmgr_content_memfd(const struct qmgr_message *msg);

/* qmgr_bounce.c: notifications. */
/* Queues the failure/success notices for the round's results and
 * returns 0, or -1 when a notice that was needed could not be queued
 * (the failed recipients then stay pending). */
int qmgr_bounce_round(struct qmgr_message *msg);
/* Queues the delay notice for msg's deferred recipients; 0 or -1. */
int qmgr_bounce_delay(struct qmgr_message *msg);

/* qmgr_post.c: a message qmgr composed (a notice, a forwarded copy). */
struct qmgr_post {
	const char *sender; /* "" for the null sender */
	unsigned flags;	    /* QUEUE_FLAG_* of the new message */
	const char *const *rcpts;
	size_t nrcpt;
	/* Writes the whole content (CRLF lines) with queue_in_write(); the
	 * new id is queue_in_id(in).  QUEUE_OK, or a QUEUE_* error to give
	 * up (nothing is queued). */
	int (*write_content)(void *ctx, struct queue_in *in);
	void *ctx;
};
/* Queues p as mail from this host (localhost[127.0.0.1], protocol
 * "local"), committed before it returns, and asks for a queue scan.
 * QUEUE_OK with the new id in new_id, or QUEUE_ERROR (nothing queued;
 * the caller logs what it was).  A queue that needs recovery is fatal,
 * reported for orig_id, the message that caused this one. */
int qmgr_post_local(const struct qmgr_post *p, const char *orig_id,
		    char new_id[QUEUE_ID_SIZE]);

/* qmgr_trigger.c */
void qmgr_trigger(const char *data, size_t len);

#endif
