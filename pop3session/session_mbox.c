/*
 * session_mbox - an mbox maildrop ($mail_spool_directory/USER, or
 * ~/$home_mailbox), as local writes it (lib/mbox.h, pop3session/mbox_reader.h).
 *
 * Login: the file is opened with local's safe_open discipline (no
 * symbolic link, one link, owned by the session's user), flock(2)ed for
 * the session ([IN-USE] to a second session), then locked as local locks
 * it (PATH.lock, then fcntl) just long enough to read it through once in
 * chunks (mbox_reader: offsets, sizes, UIDLs; memory grows with the
 * number of messages, never with their size).  A missing file is an empty
 * maildrop.
 *
 * RETR/TOP read the message's bytes by offset and convert them as they
 * go (pop3_wire: CRLF, ">From " unquoted, byte-stuffed).  Mail delivered
 * during the session is appended after the bytes read at login, which
 * stay as they were; a file that shrank, was replaced, or no longer has
 * a From_ line where a message started was changed by another program:
 * the command fails with [SYS/TEMP] rather than send something else.
 *
 * QUIT with deleted messages rewrites the file in place, with both of
 * local's locks held: the kept messages are moved down over the deleted
 * ones, then everything appended since login (new deliveries) follows,
 * then the file is truncated and fsynced.  In place, because the spool
 * directory belongs to root and the session runs as the mailbox owner:
 * it could not create a new file there to rename.  The moves only ever
 * copy bytes towards the start, so a crash in the middle leaves every
 * message's bytes in the file (some twice), never loses one.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox.h"
#include "mbox_reader.h"
#include "msg.h"
#include "pop3session.h"
#include "xalloc.h"

/* Local's two locks, in local's order. */
static int
lock_both(struct pop3_session *ss, struct buf *why)
{
	struct buf w = BUF_INIT;
	int r;

	r = session_dotlock(ss, &w);
	if (r != MBOX_LOCK_OK) {
		buf_set(why, r == MBOX_LOCK_BUSY
				 ? "[IN-USE] The mailbox is locked by another "
				   "program, try again later"
				 : "[SYS/TEMP] Cannot lock the mailbox");
		if (r != MBOX_LOCK_BUSY)
			msg_warn("%s: %s", ss->box.path, buf_cstr(&w));
		buf_free(&w);
		return -1;
	}
	r = mbox_fcntl_lock_wait(ss->box.fd, session_cfg.lock.attempts,
				 session_cfg.lock.delay);
	if (r != MBOX_LOCK_OK) {
		buf_set(why, r == MBOX_LOCK_BUSY
				 ? "[IN-USE] The mailbox is locked by another "
				   "program, try again later"
				 : "[SYS/TEMP] Cannot lock the mailbox");
		session_dotunlock(ss);
		buf_free(&w);
		return -1;
	}
	buf_free(&w);
	return 0;
}

static void
unlock_both(struct pop3_session *ss)
{
	mbox_fcntl_unlock(ss->box.fd);
	session_dotunlock(ss);
}

/* The path still names the open file. */
static int
same_file(struct pop3_session *ss)
{
	struct stat st;

	return lstat(ss->box.path, &st) == 0 && st.st_dev == ss->box.dev &&
	       st.st_ino == ss->box.ino;
}

static int
scan(struct pop3_session *ss, struct buf *why)
{
	struct mbox_scan sc;
	char *chunk = xmalloc(SESSION_IO_CHUNK);
	ssize_t n;
	int st;

	mbox_scan_init(&sc);
	while ((n = read(ss->box.fd, chunk, SESSION_IO_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			msg_warn("%s: read: %s", ss->box.path, strerror(errno));
			buf_set(why, "[SYS/TEMP] Cannot read the mailbox");
			goto fail;
		}
		if (mbox_scan_feed(&sc, chunk, (size_t)n) != MBOX_SCAN_OK)
			break;
	}
	st = mbox_scan_finish(&sc);
	if (st != MBOX_SCAN_OK) {
		msg_warn("%s: not in mbox format (no From_ line at offset 0)",
			 ss->box.path);
		buf_set(why, "[SYS/PERM] The mailbox is damaged: not in mbox "
			     "format");
		goto fail;
	}
	ss->box.size0 = sc.offset;
	ss->box.count = sc.count;
	ss->box.msgs = xcalloc(sc.count ? sc.count : 1, sizeof(*ss->box.msgs));
	for (size_t i = 0; i < sc.count; i++) {
		struct pop3_msg *m = &ss->box.msgs[i];

		m->start = sc.msgs[i].start;
		m->body = sc.msgs[i].body;
		m->end = sc.msgs[i].end;
		m->next = i + 1 < sc.count ? sc.msgs[i + 1].start : sc.offset;
		m->octets = sc.msgs[i].octets;
		memcpy(m->uidl, sc.msgs[i].uidl, sizeof(sc.msgs[i].uidl));
	}
	mbox_scan_free(&sc);
	xfree(chunk);
	return 0;
fail:
	mbox_scan_free(&sc);
	xfree(chunk);
	return -1;
}

int
session_mbox_open(struct pop3_session *ss, struct buf *why)
{
	struct pop3_box *box = &ss->box;
	struct buf w = BUF_INIT;
	struct stat st;
	int r;

	box->fd = mbox_safe_open(box->path, O_RDWR, 0600, geteuid(), getegid(),
				 "5.2.0", &st, &w);
	if (box->fd < 0) {
		if (errno == ENOENT) {
			buf_free(&w);
			return 0;
		}
		msg_warn("%s", buf_cstr(&w));
		buf_set(why, "[SYS/PERM] Cannot open the mailbox");
		buf_free(&w);
		return -1;
	}
	buf_free(&w);
	box->dev = st.st_dev;
	box->ino = st.st_ino;
	if (session_box_claim(box, why) < 0)
		return -1;
	if (lock_both(ss, why) < 0)
		return -1;
	if (!same_file(ss)) {
		buf_set(why, "[SYS/TEMP] The mailbox was replaced, try again");
		r = -1;
	} else {
		r = scan(ss, why);
	}
	unlock_both(ss);
	return r;
}

/* The bytes read at login are still where they were. */
static int
unchanged(struct pop3_session *ss, const struct pop3_msg *m)
{
	struct stat st;
	char from[5];

	return fstat(ss->box.fd, &st) == 0 &&
	       (unsigned long long)st.st_size >= ss->box.size0 &&
	       pread(ss->box.fd, from, 5, (off_t)m->start) == 5 &&
	       memcmp(from, "From ", 5) == 0;
}

int
session_mbox_source(struct pop3_session *ss, struct pop3_msg *m,
		    struct session_source *src, struct buf *why)
{
	if (!unchanged(ss, m)) {
		buf_set(why, "[SYS/TEMP] The mailbox was changed by another "
			     "program; log in again");
		return -1;
	}
	src->fd = ss->box.fd;
	src->close_fd = 0;
	src->off = m->body;
	src->end = m->end;
	src->wire_flags = POP3_WIRE_UNQUOTE;
	src->name = xstrdup(ss->box.path);
	return 0;
}

static int
write_all(int fd, const char *p, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Copies len bytes from src down to dst (dst <= src). */
static int
move_down(int fd, unsigned long long src, unsigned long long dst,
	  unsigned long long len, char *chunk)
{
	ssize_t n;
	size_t want;

	if (src == dst)
		return 0;
	while (len > 0) {
		want = len < SESSION_IO_CHUNK ? (size_t)len : SESSION_IO_CHUNK;
		n = pread(fd, chunk, want, (off_t)src);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (write_all(fd, chunk, (size_t)n, (off_t)dst) < 0)
			return -1;
		src += (unsigned long long)n;
		dst += (unsigned long long)n;
		len -= (unsigned long long)n;
	}
	return 0;
}

static int
compact(struct pop3_session *ss, unsigned long long size, struct buf *why)
{
	struct pop3_box *box = &ss->box;
	unsigned long long w = 0;
	char *chunk = xmalloc(SESSION_IO_CHUNK);
	size_t i;
	int r = 0;

	for (i = 0; i < box->count && !box->msgs[i].deleted; i++)
		;
	if (i < box->count)
		w = box->msgs[i].start;
	for (; i < box->count && r == 0; i++) {
		struct pop3_msg *m = &box->msgs[i];

		if (m->deleted)
			continue;
		r = move_down(box->fd, m->start, w, m->next - m->start, chunk);
		w += m->next - m->start;
	}
	/* What local appended during the session. */
	if (r == 0)
		r = move_down(box->fd, box->size0, w, size - box->size0, chunk);
	w += size - box->size0;
	if (r == 0 && (ftruncate(box->fd, (off_t)w) < 0 || fsync(box->fd) < 0))
		r = -1;
	if (r < 0) {
		msg_warn("%s: rewrite failed: %s", box->path, strerror(errno));
		buf_set(why, "cannot rewrite the mailbox");
	}
	xfree(chunk);
	return r;
}

int
session_mbox_update(struct pop3_session *ss, struct buf *why)
{
	struct pop3_box *box = &ss->box;
	struct stat st;
	size_t ndel = 0;
	int r = -1;

	for (size_t i = 0; i < box->count; i++)
		ndel += box->msgs[i].deleted != 0;
	if (ndel == 0 || box->fd < 0)
		return 0;
	if (lock_both(ss, why) < 0) {
		buf_set(why, "the mailbox stays locked by another program");
		return -1;
	}
	if (fstat(box->fd, &st) < 0 || !same_file(ss) ||
	    (unsigned long long)st.st_size < box->size0) {
		buf_set(why, "the mailbox was changed by another program");
		goto done;
	}
	for (size_t i = 0; i < box->count; i++) {
		if (!unchanged(ss, &box->msgs[i])) {
			buf_set(why, "the mailbox was changed by another "
				     "program");
			goto done;
		}
	}
	r = compact(ss, (unsigned long long)st.st_size, why);
done:
	unlock_both(ss);
	return r;
}

int
session_box_claim(struct pop3_box *box, struct buf *why)
{
	if (flock(box->fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	buf_set(why, errno == EWOULDBLOCK
			 ? "[IN-USE] Another session of this user is active"
			 : "[SYS/TEMP] Cannot lock the mailbox");
	return -1;
}

void
session_box_free(struct pop3_box *box)
{
	if (box->fd >= 0)
		close(box->fd);
	for (size_t i = 0; i < box->count; i++)
		xfree(box->msgs[i].file);
	xfree(box->msgs);
	xfree(box->path);
	memset(box, 0, sizeof(*box));
	box->fd = -1;
}
