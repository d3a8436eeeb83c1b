/*
 * local_mbox - delivery to a mailbox: the choice between mbox and
 * Maildir, and the mbox writer.
 *
 * mbox, as Postfix's local does it: take the PATH.lock dotlock (waiting
 * deliver_lock_delay between deliver_lock_attempts tries; a stale lock
 * is removed by mbox_dotlock), open the file with the safe_open
 * discipline, take an fcntl lock the same way, append "From " line,
 * Return-Path:, Delivered-To:, the message with >From quoting and an
 * empty line, fsync, and report success only then.  On any write error
 * the file is truncated back to the size it had when the lock was taken
 * (never the size seen at open: a writer that held the lock in between,
 * such as another delivery to a /file target, which takes no dotlock,
 * has appended since), so a mailbox never holds half a message and no
 * delivered message is cut.  mailbox_size_limit is checked against the
 * same size.  A mailbox that stays locked is a 4.2.0 deferral: the
 * mail is tried again later, the lock holder (mutt, pop3d) is never
 * overridden.
 *
 * In the spool directory (root's), a root child of local takes the
 * dotlock and gives a new mailbox to the recipient, then runs the
 * delivery in a child of its own (local makes a new Maildir itself); the
 * process that writes, as everywhere (home_mailbox, /file), runs as the
 * recipient in every uid.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "iostuff.h"
#include "mbox.h"
#include "msg.h"

#define LOCAL_MAILBOX_TIMEOUT 600 /* seconds, on top of lock waits */

void
local_prepend(struct buf *out, const struct local_msg *msg,
	      const char *delivered_to)
{
	buf_printf(out, "Return-Path: <%s>\n", msg->sender);
	buf_printf(out, "Delivered-To: %s\n", delivered_to);
}

/* Appends the message to the open, locked file fd. */
static void
mbox_write(int fd, const struct stat *sb, const struct local_msg *msg,
	   const char *to, const char *path, struct local_status *st)
{
	struct buf data = BUF_INIT;
	long long limit = local_cfg.mailbox_size_limit;
	const char *dsn;
	int err;

	mbox_from_line(&data, msg->sender, time(NULL));
	local_prepend(&data, msg, to);
	mbox_convert(msg->content.data ? msg->content.data : "",
		     msg->content.len, MBOX_QUOTE_FROM, &data);
	buf_putc(&data, '\n');
	if (limit > 0 && (long long)(sb->st_size + data.len) > limit) {
		local_status_set(st, 5, "5.2.2",
				 "cannot update mailbox %s: mailbox size "
				 "limit (%lld bytes) exceeded",
				 path, limit);
		buf_free(&data);
		return;
	}
	if (io_write_full(fd, data.data, data.len, -1) < 0 || fsync(fd) < 0) {
		err = errno;
		/* No half message: back to where it was. */
		if (ftruncate(fd, sb->st_size) < 0)
			msg_warn("%s: cannot truncate back to %lld bytes: %s",
				 path, (long long)sb->st_size, strerror(errno));
		dsn = mbox_errno_dsn(err, "4.3.0");
		local_status_set(st, dsn[0] - '0', dsn,
				 "cannot update mailbox %s: %s", path,
				 strerror(err));
		buf_free(&data);
		return;
	}
	local_status_set(st, 2, "2.0.0", "delivered to mailbox");
	buf_free(&data);
}

/* PATH.lock, waited for as local waits: 0, or -1 with st set (4.2.0). */
static int
dotlock_take(const char *path, struct local_status *st)
{
	struct buf why = BUF_INIT;
	int r = mbox_dotlock_wait(path, local_cfg.stale_lock_time,
				  local_cfg.lock_attempts, local_cfg.lock_delay,
				  &why);

	if (r != MBOX_LOCK_OK)
		local_status_set(st, 4, "4.2.0",
				 "cannot update mailbox %s: unable to lock: %s",
				 path, buf_cstr(&why));
	buf_free(&why);
	return r == MBOX_LOCK_OK ? 0 : -1;
}

static void
dotlock_drop(const char *path)
{
	if (mbox_dotunlock(path) < 0)
		msg_warn("cannot remove lock file %s.lock: %s", path,
			 strerror(errno));
}

void
local_mbox_append(const struct local_msg *msg, const char *to, const char *path,
		  uid_t uid, gid_t gid, int locks, struct local_status *st)
{
	struct buf why = BUF_INIT;
	struct stat sb;
	int fd, r;

	if (locks && dotlock_take(path, st) < 0)
		return;
	fd = mbox_safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, uid, gid,
			    "5.2.0", &sb, &why);
	if (fd < 0) {
		local_status_why(st, buf_cstr(&why));
	} else if ((r = mbox_fcntl_lock_wait(fd, local_cfg.lock_attempts,
					     local_cfg.lock_delay)) !=
		   MBOX_LOCK_OK) {
		local_status_set(st, 4, "4.2.0",
				 "cannot update mailbox %s: unable to lock: "
				 "%s",
				 path,
				 r == MBOX_LOCK_BUSY ? "the file is locked"
						     : strerror(errno));
	} else if (fstat(fd, &sb) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot update mailbox %s: %s",
				 path, strerror(errno));
	} else {
		/* The size under the lock: another writer may have appended
		 * since the open, and a failed write must not cut that. */
		mbox_write(fd, &sb, msg, to, path, st);
	}
	if (fd >= 0 && close(fd) < 0 && st->cls == 2)
		local_status_set(st, 4, "4.3.0", "cannot close mailbox %s: %s",
				 path, strerror(errno));
	if (locks)
		dotlock_drop(path);
	buf_free(&why);
}

struct mailbox_job {
	const struct local_msg *msg;
	const char *to;
	const struct local_user *u;
	int timeout; /* of the recipient's child */
};

/* In the spool (root's directory, where the recipient cannot create
 * files) what needs root is done by root, never the writing: a new
 * Maildir directory is made here, in local, before the fork; an mbox's
 * dotlock and a new mailbox (given to the recipient, with the same
 * safe_open discipline) are made by a root child of local, which runs the
 * delivery in a child of its own and removes the lock after it, whatever
 * became of it, even if local was killed meanwhile.  Every process that
 * opens or writes the mailbox runs as the recipient in every uid
 * (DESIGN.md rule 4: a mail-only user's as mail_only_owner). */
static int
spool_maildir_prepare(const struct local_user *u, struct local_status *st)
{
	struct stat sb;

	if (mkdir(u->mailbox, 0700) == 0) {
		if (local_cfg.as_root &&
		    chown(u->mailbox, u->uid, u->gid) < 0) {
			local_status_set(st, 4, "4.3.0",
					 "cannot change owner of %s: %s",
					 u->mailbox, strerror(errno));
			return -1;
		}
	} else if (errno != EEXIST) {
		local_status_set(st, 4, mbox_errno_dsn(errno, "4.3.0"),
				 "cannot create maildir %s: %s", u->mailbox,
				 strerror(errno));
		return -1;
	}
	if (lstat(u->mailbox, &sb) < 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != u->uid) {
		local_status_set(st, 5, "5.2.0",
				 "cannot deliver to maildir %s: not a "
				 "directory owned by %s",
				 u->mailbox, u->name);
		return -1;
	}
	return 0;
}

/* The recipient's child: PATH.lock is held for it. */
static void
spool_mbox_child(void *arg, struct local_status *st)
{
	struct mailbox_job *job = arg;

	local_mbox_append(job->msg, job->to, job->u->mailbox, job->u->uid,
			  job->u->gid, 0, st);
}

/* The root child: the lock, a new mailbox, the delivery, the unlock. */
static void
spool_mbox_holder(void *arg, struct local_status *st)
{
	struct mailbox_job *job = arg;
	const struct local_user *u = job->u;
	struct buf why = BUF_INIT;
	struct stat sb;
	int fd;

	if (dotlock_take(u->mailbox, st) < 0)
		return;
	fd = mbox_safe_open(u->mailbox, O_WRONLY | O_APPEND | O_CREAT, 0600,
			    u->uid, u->gid, "5.2.0", &sb, &why);
	if (fd < 0) {
		local_status_why(st, buf_cstr(&why));
	} else {
		close(fd);
		local_child_run(u->uid, u->gid, job->timeout, spool_mbox_child,
				job, st);
	}
	dotlock_drop(u->mailbox);
	buf_free(&why);
}

static void
home_child(void *arg, struct local_status *st)
{
	struct mailbox_job *job = arg;

	if (job->u->maildir)
		local_maildir_deliver(job->msg, job->to, job->u->mailbox, st);
	else
		local_mbox_append(job->msg, job->to, job->u->mailbox,
				  job->u->uid, job->u->gid, 1, st);
}

void
local_deliver_mailbox(const struct local_msg *msg, const char *to,
		      const struct local_user *u, struct local_status *st)
{
	int timeout = LOCAL_MAILBOX_TIMEOUT +
		      2 * local_cfg.lock_attempts * local_cfg.lock_delay;
	struct mailbox_job job = {msg, to, u, timeout};

	if (!u->in_spool) {
		local_child_run(u->uid, u->gid, timeout, home_child, &job, st);
	} else if (u->maildir) {
		if (spool_maildir_prepare(u, st) == 0)
			local_child_run(u->uid, u->gid, timeout, home_child,
					&job, st);
	} else {
		/* The holder waits for the lock, then for the delivery. */
		local_child_run_root(2 * timeout, spool_mbox_holder, &job, st);
	}
}
