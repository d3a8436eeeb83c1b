/*
 * mbox - the pieces of mailbox delivery that need no delivery context:
 * message formatting for mbox and Maildir, the mailbox locks, and
 * Postfix's safe_open discipline.  local/ does the delivery itself.
 *
 * Formatting.  The queue holds the message as received, with CRLF line
 * endings; mailboxes hold Unix lines.  mbox_convert() appends content to
 * out with every CRLF turned into LF (a bare CR is kept), with ">From "
 * quoting of lines that start with "From " when MBOX_QUOTE_FROM is set
 * (Postfix's mboxo quoting, what mutt and Python's mailbox read), and
 * with a final LF when the content does not end with one.
 * mbox_from_line() appends "From SENDER DATE\n", the mbox separator, with
 * MAILER-DAEMON for the null sender and an asctime(3)-style date in UTC.
 * mbox_delivered_to() says whether the header section of content has a
 * "Delivered-To:" field for addr (case-insensitive, with or without <>):
 * the loop check of local delivery.
 *
 * Locks.  A mailbox is locked with a PATH.lock dotlock (what mutt,
 * procmail and pop3 servers honour) and with fcntl(2) on the open file.
 * mbox_dotlock() creates PATH.lock with O_EXCL and writes its owner into
 * it: "PID HOST\n", the pid first as liblockfile writes it (mutt and
 * liblockfile read the first number), then this host's name
 * (gethostname), so that a reader knows whether the pid means anything
 * here.  When the lock exists, it is removed (with a warning) only if it
 * is stale:
 *  - it names this host and its pid is not alive: at once, whatever its
 *    age (a killed delivery or POP3 session must not hold the mailbox
 *    for stale_sec);
 *  - it names another host (a spool shared over NFS): when older than
 *    stale_sec, as the pid says nothing here;
 *  - it names no host (liblockfile, procmail, an empty lock): when older
 *    than stale_sec and its pid, if any, is not alive here.
 * Otherwise the call answers MBOX_LOCK_BUSY and the caller waits or
 * defers, never clobbers.  mbox_lock_owner_parse() reads a lock's text:
 * 1 with *pid (> 0) and host ("" when none, or not a clean name), 0 when
 * it names no pid.  mbox_fcntl_lock() is one non-blocking attempt at a
 * write lock.
 *
 * safe_open.  mbox_safe_open() opens an existing file or creates a new
 * one, refusing anything an attacker could have planted: a symbolic link,
 * a file that is not regular, a file with more than one link, a file not
 * owned by uid, or a file replaced between lstat() and open() (device and
 * inode must match; the open uses O_NOFOLLOW).  A file it creates
 * (O_CREAT|O_EXCL, mode) is given to uid:gid when running as root.  Errors
 * carry an enhanced status code: a refusal is permanent (def_dsn,
 * normally "5.2.0"), a transient system error temporary (mbox_errno_dsn).
 */
#ifndef PANACEA_MBOX_H
#define PANACEA_MBOX_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define MBOX_QUOTE_FROM 0x1

void mbox_convert(const char *data, size_t len, int flags, struct buf *out);
void mbox_from_line(struct buf *out, const char *sender, time_t when);
int mbox_delivered_to(const char *content, size_t len, const char *addr);

#define MBOX_LOCK_OK 0
#define MBOX_LOCK_BUSY 1
#define MBOX_LOCK_ERROR (-1)

#define MBOX_LOCK_HOST_MAX 255 /* a host name in a lock file */

int mbox_lock_owner_parse(const char *text, size_t len, long *pid, char *host,
			  size_t host_size);
/* MBOX_LOCK_OK, MBOX_LOCK_BUSY, or MBOX_LOCK_ERROR with errno and why. */
int mbox_dotlock(const char *path, int stale_sec, struct buf *why);
/* Removes PATH.lock; 0 or -1 with errno. */
int mbox_dotunlock(const char *path);
/* MBOX_LOCK_OK, MBOX_LOCK_BUSY or MBOX_LOCK_ERROR (errno set). */
int mbox_fcntl_lock(int fd);
void mbox_fcntl_unlock(int fd);
/* Waiting for a lock: for up to attempts * delay_sec seconds (Postfix's
 * deliver_lock_attempts and deliver_lock_delay), retrying after 1 ms at
 * first and less often later (a dot-lock also as soon as a file in its
 * directory is removed); the result of the last try.  local and pop3d
 * wait alike. */
int mbox_dotlock_wait(const char *path, int stale_sec, int attempts,
		      int delay_sec, struct buf *why);
int mbox_fcntl_lock_wait(int fd, int attempts, int delay_sec);

/*
 * Opens path (flags as open(2); O_CREAT allows creating it).  uid is the
 * owner the file must have ((uid_t)-1: any).  Returns the descriptor with
 * *st filled, or -1 with why = "X.Y.Z text" (def_dsn for a refusal,
 * mbox_errno_dsn(errno) for a system error) and errno set.
 */
int mbox_safe_open(const char *path, int flags, mode_t mode, uid_t uid,
		   gid_t gid, const char *def_dsn, struct stat *st,
		   struct buf *why);
/* The status code for a failed system call: "4.x.y" for what may pass
 * (out of space, quota, interrupted, busy), "5.2.2" for a file too large,
 * def_dsn for the others. */
const char *mbox_errno_dsn(int err, const char *def_dsn);

#endif
