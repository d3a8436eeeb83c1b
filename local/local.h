/*
 * local - the local delivery agent: what its modules share.
 *
 *   local.c          main, the request from qmgr (deliver_proto.h), the
 *                    reply and the per-recipient log lines
 *   local_rcpt.c     one recipient: loop check, aliases, then mailboxes,
 *                    files, commands and forwarding, and the status
 *   local_user.c     recipient -> account (unix or mail-only) -> mailbox
 *   local_status.c   a recipient's status: class, DSN code, text
 *   local_child.c    a child process per file or command delivery with
 *                    its owner's privileges, reporting over a pipe
 *   local_worker.c   mailbox deliveries in a long-lived child per
 *                    recipient identity (local_job.c: their messages)
 *   local_mbox.c     mbox append with dotlock + fcntl, fsync, truncate back
 *   local_maildir.c  Maildir tmp/ -> new/ delivery
 *   local_command.c  |command and /file delivery for aliases
 *   local_pass.c     mailbox_transport and fallback_transport: a delivery
 *                    handed to another transport's agent (lmtp to
 *                    Dovecot, pipe to dovecot-lda)
 *   local_unknown.c  an unknown user: fallback_transport, luser_relay
 *   local_forward.c  a user's .forward (forward_path)
 *   local_alias.c    alias_maps lookups and :include: files for alias.h
 *   alias.c          aliases(5) values and their expansion, no I/O
 *                    (alias.h; unit-tested)
 *   virtual.c        the virtual delivery agent: this program under the
 *                    name "virtual" (virtual_mailbox_maps, uid and gid
 *                    maps), delivering with the same workers
 *   (forwarding: addresses for other destinations, and list members to
 *   retry one by one, go back to qmgr in the reply, which queues them)
 *
 * Privileges: local runs as root (services: unpriv n) and never writes a
 * mailbox, file or command as root: each delivery runs in a process that
 * has switched to the recipient in every uid (or the alias owner, or
 * default_privs for root-owned aliases): a worker kept for that identity
 * for mailboxes (local_worker.c), a child per delivery for files and
 * commands.  A spool mbox is dotlocked and created by local as root (the
 * spool directory belongs to root) with the safe_open discipline, then
 * written by the recipient's worker.  local
 * never opens the queue (DESIGN.md, rule 2): qmgr passes the content as
 * a sealed memory file with the request and queues the copies local asks
 * for in its reply (deliver_proto.h).  Started as an ordinary user (the
 * development instance), local does all of this as itself.
 */
#ifndef PANACEA_LOCAL_H
#define PANACEA_LOCAL_H

#include <stddef.h>
#include <sys/types.h>

#include "alias.h"
#include "buf.h"
#include "conf.h"
#include "match_list.h"
#include "mailbox.h"
#include "maps.h"
#include "queue.h"

struct local_config {
	char *myhostname;
	char *myorigin;
	struct match_list *mydestination;
	char *spool_dir; /* without the trailing '/' */
	int spool_maildir;
	char *home_mailbox; /* "" or relative to the home directory */
	int home_maildir;
	char *delimiter;
	char *mail_owner;
	uid_t owner_uid;
	gid_t owner_gid;
	uid_t privs_uid; /* default_privs */
	gid_t privs_gid;
	char *sasldb_path;
	long long mailbox_size_limit;
	int lock_attempts;
	int lock_delay;
	int stale_lock_time;
	int command_time_limit;
	char **command_shell; /* NULL: /bin/sh -c */
	int commands_alias, commands_include, commands_forward;
	int files_alias, files_include, files_forward;
	char *forward_path;   /* "" or a list with $macros */
	struct maps *aliases; /* NULL: none */
	int client_fd;	      /* the request's connection, or -1 */
	uid_t alias_uid;      /* owner of the alias database */
	gid_t alias_gid;
	int as_root;
	char *mailbox_transport;	   /* "" or "transport:nexthop" */
	char *mailbox_command;		   /* "" or a shell command */
	struct maps *mailbox_command_maps; /* NULL: none */
	char *fallback_transport;	   /* "" or "transport:nexthop" */
	char *luser_relay;		   /* "" or an address with $macros */
	char *queue_directory;		   /* where private/TRANSPORT is */
	int ipc_timeout_ms; /* bound on a mailbox_transport delivery */
	const char *relay;  /* "local" or "virtual": relay= of the log */
	/* PATH.lock outside the spool: local always, virtual when
	 * virtual_mailbox_lock says dotlock */
	int mbox_dotlock;
};

extern struct local_config local_cfg;

/* One delivery request. */
struct local_rcpt {
	long index;
	char *address;
	char *orcpt; /* the ORCPT address, xtext decoded (deliver_request), or
			"" */
	unsigned notify;
};

struct local_msg {
	char *queue_id;
	char *sender;
	char *client_addr; /* "" when unknown */
	double arrival;	   /* seconds */
	double active;
	long long size;
	unsigned flags;
	struct buf content; /* as queued: CRLF lines */
	int content_fd;	    /* the same, as qmgr passed it: for workers */
	double started;	    /* when this recipient's delivery started */
};

/* The outcome of one delivery. */
struct local_status {
	int cls; /* 2, 4 or 5 */
	char dsn[16];
	struct buf text;
};

void local_status_init(struct local_status *st);
void local_status_free(struct local_status *st);
void local_status_set(struct local_status *st, int cls, const char *dsn,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* From "X.Y.Z text" (alias.h and mbox.h errors). */
void local_status_why(struct local_status *st, const char *why);
void local_status_copy(struct local_status *dst,
		       const struct local_status *src);

/* The log line of one recipient (local.c). */
void local_log(const struct local_msg *msg, const char *to, const char *orig_to,
	       const struct local_status *st);

/* Back to root after a seteuid in the parent (local.c). */
void local_become_root(void);

/* Addresses to queue again, one group per sender of the copy; qmgr
 * queues them (deliver_proto.h, "forward" in the reply). */
struct local_forward_group {
	char *sender;
	char **addrs;
	size_t n;
};
struct local_forwards {
	struct local_forward_group *groups;
	size_t n;
};
void local_forwards_free(struct local_forwards *f);

/* local_rcpt.c: st set; the copies to queue are added to fw (they count
 * only when st ends up class 2). */
void local_deliver_rcpt(struct local_msg *msg, const struct local_rcpt *rcpt,
			struct local_status *st, struct local_forwards *fw);

/* local_user.c: the account and mailbox of a name, as lib/mailbox.h
 * finds them for pop3d too (mailbox_user_free() frees u); root_account
 * is never delivered to (local_rcpt.c).  1 found, 0 unknown user, -1
 * temporary error (st set). */
int local_user_find(const char *name, struct mailbox_user *u,
		    struct local_status *st);
/* name without its recipient_delimiter extension, lower case. */
char *local_base_name(const char *local_part);

/* local_child.c: runs fn in a child that switches to (uid, gid) for
 * good first (every uid).  Waits at most timeout seconds.  For files and
 * commands (aliases); mailboxes go to workers. */
void local_child_run(uid_t uid, gid_t gid, int timeout,
		     void (*fn)(void *arg, struct local_status *st), void *arg,
		     struct local_status *st);
/* The switch itself, for good (no-op when local is not root). */
void local_child_privileges(uid_t uid, gid_t gid);

/* local_worker.c: a mailbox delivery ("mbox" or "maildir" at path) run
 * by local's long-lived worker for (uid, gid), which holds those ids in
 * every uid; waits at most timeout seconds.  locks: an mbox worker takes
 * PATH.lock itself (else local holds it).  local_workers_close: at exit. */
void local_worker_deliver(const struct local_msg *msg, const char *kind,
			  const char *path, const char *to, uid_t uid,
			  gid_t gid, int locks, int timeout,
			  struct local_status *st);
void local_workers_close(void);
/* The spool's PATH.lock, taken and removed by the lock keeper, a root
 * child of local that removes what it holds when local goes away (and a
 * new mailbox given to uid and gid); st set by lock. */
void local_keeper_lock(const char *path, uid_t uid, gid_t gid, int timeout,
		       struct local_status *st);
void local_keeper_unlock(const char *path);
/* local_mbox.c: what the keeper does, as root. */
void local_spool_lock_take(const char *path, uid_t uid, gid_t gid,
			   struct local_status *st);
void local_spool_lock_drop(const char *path);

/* The text added at the top of each delivered copy. */
void local_prepend(struct buf *out, const struct local_msg *msg,
		   const char *delivered_to);

/* All of len bytes to the regular file fd with plain write(2) (a file
 * needs no wait for room): 0, or -1 with errno. */
int local_write_all(int fd, const char *data, size_t len);

/* local_pass.c: delivers to through the transport spec
 * ("transport:nexthop"), st set; 1 when that transport's agent decided
 * (and logged) the recipient, 0 when local must log st. */
int local_pass(const struct local_msg *msg, const char *spec, const char *to,
	       const char *orig_to, struct local_status *st);

/* local_unknown.c: a name that is no user (st set; a luser_relay copy
 * goes into fw) and logs it. */
void local_deliver_unknown(struct local_msg *msg, const char *name,
			   const char *to, const char *orig_to,
			   struct local_status *st, struct local_forwards *fw);
/* tmpl (luser_relay, forward_path) with local's macros expanded for
 * to (name its user part, home "" or the user's home). */
void local_macro_expand(const char *tmpl, const char *to, const char *name,
			const char *home, struct buf *out);
/* local_forward.c: the user's .forward (forward_path): 1 when there is
 * one (st set; copies into fw), 0 when none. */
int local_forward(struct local_msg *msg, const struct mailbox_user *u,
		  const char *to, struct local_status *st,
		  struct local_forwards *fw);

/* local_mbox.c, local_maildir.c: st set. */
void local_deliver_mailbox(const struct local_msg *msg, const char *to,
			   const struct mailbox_user *u,
			   struct local_status *st);
void local_mbox_append(const struct local_msg *msg, const char *to,
		       const char *path, uid_t uid, gid_t gid, int locks,
		       struct local_status *st);
void local_maildir_deliver(const struct local_msg *msg, const char *to,
			   const char *dir, struct local_status *st);

/* local_command.c: uid/gid are who the file or command runs as. */
void local_deliver_file(const struct local_msg *msg, const char *to,
			const char *path, uid_t uid, gid_t gid,
			struct local_status *st);
void local_deliver_command(const struct local_msg *msg, const char *to,
			   const char *orig_to, const char *command, uid_t uid,
			   gid_t gid, struct local_status *st);

/* virtual.c: the program run as "virtual" (local.c's main) binds
 * virtual_params, starts with virtual_pre_jail and delivers each
 * recipient with virtual_deliver_rcpt (fw stays empty). */
extern const struct conf_bind virtual_params[];
void virtual_pre_jail(void);
void virtual_deliver_rcpt(struct local_msg *msg, const struct local_rcpt *rcpt,
			  struct local_status *st, struct local_forwards *fw);
int virtual_tables_changed(void);
void virtual_pre_exit(void);

/* local_alias.c */
/* Opens alias_maps (before anything else; a table whose text file and
 * .db are both missing is skipped with a warning). */
void local_alias_open(const char *list);
/* 0 not an alias, 1 targets appended, -1 error (st set). */
int local_alias_expand(const char *name, struct alias_list *out,
		       struct local_status *st);
int local_domain_is_local(const char *domain);
/* Owner of an :include: file (for its files and commands). */
int local_include_owner(const char *path, uid_t *uid, gid_t *gid);

#endif
