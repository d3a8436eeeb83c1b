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
 * In the spool directory (root's), local's lock keeper takes the dotlock
 * and gives a new mailbox to the recipient (local makes a new Maildir
 * itself); the
 * process that writes, as everywhere (home_mailbox, /file), runs as the
 * recipient in every uid: the recipient's mailbox worker
 * (local_worker.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
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

int
local_write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
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
	if (local_write_all(fd, data.data, data.len) < 0 || fsync(fd) < 0) {
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

/* In the spool (root's directory, where the recipient cannot create
 * files) what needs root is done as root, never the writing: a new
 * Maildir directory is made and given to the recipient by local, and an
 * mbox's dotlock is taken and a new mailbox made and given to the
 * recipient (with the same safe_open discipline) by local's lock keeper
 * (local_worker.c), before the worker delivers; the keeper removes the
 * lock after it, whatever became of the delivery, even if local was
 * killed meanwhile.  Every process that opens or writes the mailbox runs as the
 * recipient in every uid (DESIGN.md rule 4: a mail-only user's as
 * mail_only_owner). */
static int
spool_maildir_prepare(const struct mailbox_user *u, struct local_status *st)
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

/* The keeper's work (local_worker.c), as root: the lock, and a new
 * mailbox for the recipient. */
void
local_spool_lock_take(const char *path, uid_t uid, gid_t gid,
		      struct local_status *st)
{
	struct buf why = BUF_INIT;
	struct stat sb;
	int fd;

	if (dotlock_take(path, st) < 0)
		return;
	fd = mbox_safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, uid, gid,
			    "5.2.0", &sb, &why);
	if (fd < 0) {
		local_status_why(st, buf_cstr(&why));
		dotlock_drop(path);
	} else {
		close(fd);
		local_status_set(st, 2, "2.0.0", "locked");
	}
	buf_free(&why);
}

void
local_spool_lock_drop(const char *path)
{
	dotlock_drop(path);
}

/* The spool mbox: the keeper locks, the worker delivers, the keeper
 * unlocks. */
static void
spool_mbox_deliver(const struct local_msg *msg, const char *to,
		   const struct mailbox_user *u, int timeout,
		   struct local_status *st)
{
	local_keeper_lock(u->mailbox, u->uid, u->gid, timeout, st);
	if (st->cls != 2)
		return;
	local_worker_deliver(msg, "mbox", u->mailbox, to, u->uid, u->gid, 0,
			     timeout, st);
	local_keeper_unlock(u->mailbox);
}

void
local_deliver_mailbox(const struct local_msg *msg, const char *to,
		      const struct mailbox_user *u, struct local_status *st)
{
	int timeout = LOCAL_MAILBOX_TIMEOUT +
		      2 * local_cfg.lock_attempts * local_cfg.lock_delay;
	const char *kind = u->maildir ? "maildir" : "mbox";

	if (!u->in_spool)
		local_worker_deliver(msg, kind, u->mailbox, to, u->uid, u->gid,
				     local_cfg.mbox_dotlock, timeout, st);
	else if (u->maildir && spool_maildir_prepare(u, st) == 0)
		local_worker_deliver(msg, kind, u->mailbox, to, u->uid, u->gid,
				     0, timeout, st);
	else if (!u->maildir)
		spool_mbox_deliver(msg, to, u, timeout, st);
}
