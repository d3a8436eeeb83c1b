/*
 * session_maildir - a Maildir maildrop (new/ and cur/, as local writes it
 * and Dovecot, mutt and Python's mailbox read it).
 *
 * Login: the directory is opened (no symbolic link, owned by the
 * session's user) and flock(2)ed for the session ([IN-USE] to a second
 * session; deliveries need no lock in a Maildir).  Every file of new/ and
 * cur/ is a message, in delivery order (the seconds at the start of the
 * unique name, then the name); each is read once to know its size as
 * sent.  UIDL is the unique name (the file name up to ':'), which no
 * other message can have and which survives moves between new/ and cur/
 * and flag changes; a name that is no valid UIDL (RFC 1939: 1 to 70
 * characters 0x21-0x7e) gets the SHA-256 hex of the name instead.
 *
 * QUIT: deleted messages are unlinked; a retrieved one that is kept gets
 * the Seen flag: new/NAME moves to cur/NAME:2,S, and cur/NAME:2,FLAGS
 * gains S, its other flags kept.  A message moved by another reader
 * during the session (new/ to cur/, flags changed) is found again by its
 * unique name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "msg.h"
#include "pop3session.h"
#include "xalloc.h"

#define MAILDIR_MAX_MESSAGES 1000000

static size_t
unique_len(const char *name)
{
	return strcspn(name, ":");
}

static void
set_uidl(struct pop3_msg *m, const char *name)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = unique_len(name), i;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok = n >= 1 && n <= SESSION_UIDL_MAX;

	for (i = 0; ok && i < n; i++)
		if ((unsigned char)name[i] < 0x21 ||
		    (unsigned char)name[i] > 0x7e)
			ok = 0;
	if (ok) {
		memcpy(m->uidl, name, n);
		m->uidl[n] = '\0';
		return;
	}
	if (EVP_Digest(name, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		msg_fatal("SHA-256 failed");
	for (i = 0; i < 16; i++) {
		m->uidl[2 * i] = hex[md[i] >> 4];
		m->uidl[2 * i + 1] = hex[md[i] & 15];
	}
	m->uidl[32] = '\0';
}

/* The size as sent; -1 when the file cannot be read (gone). */
static int
measure(int fd, unsigned long long *octets, char *chunk)
{
	struct pop3_wire w;
	ssize_t n;

	pop3_wire_init(&w, 0, -1);
	while ((n = read(fd, chunk, SESSION_IO_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		pop3_wire_feed(&w, chunk, (size_t)n, NULL);
	}
	pop3_wire_finish(&w, NULL);
	*octets = w.octets;
	return 0;
}

static int
list_sub(struct pop3_session *ss, const char *sub, size_t *cap, char *chunk)
{
	struct pop3_box *box = &ss->box;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int dfd, fd;

	dfd = openat(box->fd, sub,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		struct pop3_msg *m;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* moved or removed meanwhile */
		if (box->count == *cap) {
			if (*cap >= MAILDIR_MAX_MESSAGES) {
				close(fd);
				break;
			}
			*cap = *cap ? *cap * 2 : 64;
			box->msgs =
			    xreallocarray(box->msgs, *cap, sizeof(*box->msgs));
		}
		m = &box->msgs[box->count];
		memset(m, 0, sizeof(*m));
		if (measure(fd, &m->octets, chunk) < 0) {
			close(fd);
			continue;
		}
		close(fd);
		m->file = xmalloc(strlen(sub) + strlen(de->d_name) + 2);
		strcpy(m->file, sub);
		strcat(m->file, "/");
		strcat(m->file, de->d_name);
		set_uidl(m, de->d_name);
		box->count++;
	}
	closedir(dir);
	return 0;
}

static const char *
base_name(const char *file)
{
	const char *s = strchr(file, '/');

	return s ? s + 1 : file;
}

/* Delivery order: the seconds local (and qmail, Dovecot) put first. */
static int
by_arrival(const void *a, const void *b)
{
	const char *x = base_name(((const struct pop3_msg *)a)->file);
	const char *y = base_name(((const struct pop3_msg *)b)->file);
	unsigned long long tx = strtoull(x, NULL, 10);
	unsigned long long ty = strtoull(y, NULL, 10);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x, y);
}

int
session_maildir_open(struct pop3_session *ss, struct buf *why)
{
	struct pop3_box *box = &ss->box;
	struct stat st;
	size_t cap = 0;
	char *chunk;
	int r = 0;

	box->fd =
	    open(box->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (box->fd < 0) {
		if (errno == ENOENT)
			return 0;
		msg_warn("cannot open maildir %s: %s", box->path,
			 strerror(errno));
		buf_set(why, "[SYS/PERM] Cannot open the mailbox");
		return -1;
	}
	if (fstat(box->fd, &st) < 0 || st.st_uid != geteuid()) {
		msg_warn("maildir %s is not owned by uid %ld", box->path,
			 (long)geteuid());
		buf_set(why, "[SYS/PERM] Cannot open the mailbox");
		return -1;
	}
	if (session_box_claim(box, why) < 0)
		return -1;
	chunk = xmalloc(SESSION_IO_CHUNK);
	if (list_sub(ss, "new", &cap, chunk) < 0 ||
	    list_sub(ss, "cur", &cap, chunk) < 0) {
		msg_warn("cannot read maildir %s: %s", box->path,
			 strerror(errno));
		buf_set(why, "[SYS/TEMP] Cannot read the mailbox");
		r = -1;
	}
	xfree(chunk);
	if (box->count > 1)
		qsort(box->msgs, box->count, sizeof(*box->msgs), by_arrival);
	return r;
}

/* A message another reader moved: the file of cur/ with its unique
 * name.  0 with m->file updated, or -1. */
static int
find_moved(struct pop3_session *ss, struct pop3_msg *m)
{
	const char *base = base_name(m->file);
	size_t n = unique_len(base);
	struct dirent *de;
	DIR *dir;
	int dfd, r = -1;

	dfd = openat(ss->box.fd, "cur",
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, base, n) == 0 &&
		    (de->d_name[n] == ':' || de->d_name[n] == '\0')) {
			char *file = xmalloc(strlen(de->d_name) + 5);

			strcpy(file, "cur/");
			strcat(file, de->d_name);
			xfree(m->file);
			m->file = file;
			r = 0;
			break;
		}
	}
	closedir(dir);
	return r;
}

static int
open_msg(struct pop3_session *ss, struct pop3_msg *m)
{
	int fd = openat(ss->box.fd, m->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && find_moved(ss, m) == 0)
		fd = openat(ss->box.fd, m->file,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

int
session_maildir_source(struct pop3_session *ss, struct pop3_msg *m,
		       struct session_source *src, struct buf *why)
{
	struct buf name = BUF_INIT;

	if ((src->fd = open_msg(ss, m)) < 0) {
		buf_set(why, "[SYS/TEMP] The message was removed by another "
			     "program");
		return -1;
	}
	buf_printf(&name, "%s/%s", ss->box.path, m->file);
	src->close_fd = 1;
	src->off = 0;
	src->end = SESSION_TO_EOF;
	src->wire_flags = 0;
	src->name = buf_steal(&name);
	return 0;
}

/* cur/UNIQUE:2,FLAGS with S added, flags in ASCII order. */
static char *
seen_name(const char *file)
{
	const char *base = base_name(file), *info;
	size_t n = unique_len(base);
	char flags[128];
	size_t nf = 0;
	struct buf b = BUF_INIT;

	info = base[n] == ':' && strncmp(base + n, ":2,", 3) == 0 ? base + n + 3
								  : "";
	for (; *info && nf + 2 < sizeof(flags); info++)
		if (*info > 0x20 && *info < 0x7f && !memchr(flags, *info, nf))
			flags[nf++] = *info;
	if (!memchr(flags, 'S', nf))
		flags[nf++] = 'S';
	for (size_t i = 1; i < nf; i++)
		for (size_t j = i; j > 0 && flags[j - 1] > flags[j]; j--) {
			char t = flags[j];
			flags[j] = flags[j - 1];
			flags[j - 1] = t;
		}
	buf_puts(&b, "cur/");
	buf_append(&b, base, n);
	buf_puts(&b, ":2,");
	buf_append(&b, flags, nf);
	return buf_steal(&b);
}

static void
sync_sub(int dirfd, const char *sub)
{
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static int
rename_seen(struct pop3_session *ss, struct pop3_msg *m)
{
	char *name = seen_name(m->file);
	int r = 0;

	if (strcmp(name, m->file) != 0)
		r = renameat(ss->box.fd, m->file, ss->box.fd, name);
	xfree(name);
	return r;
}

static void
mark_seen(struct pop3_session *ss, struct pop3_msg *m)
{
	if (rename_seen(ss, m) == 0)
		return;
	if (errno == ENOENT && find_moved(ss, m) == 0 &&
	    rename_seen(ss, m) == 0)
		return;
	msg_warn("cannot mark %s/%s as seen: %s", ss->box.path, m->file,
		 strerror(errno));
}

int
session_maildir_update(struct pop3_session *ss, struct buf *why)
{
	struct pop3_box *box = &ss->box;
	int failed = 0;

	for (size_t i = 0; i < box->count; i++) {
		struct pop3_msg *m = &box->msgs[i];

		if (m->deleted) {
			if (unlinkat(box->fd, m->file, 0) == 0 ||
			    (errno == ENOENT && find_moved(ss, m) == 0 &&
			     unlinkat(box->fd, m->file, 0) == 0))
				continue;
			if (errno == ENOENT)
				continue; /* removed by someone else */
			msg_warn("cannot remove %s/%s: %s", box->path, m->file,
				 strerror(errno));
			failed++;
		} else if (m->retrieved) {
			mark_seen(ss, m);
		}
	}
	if (box->fd >= 0) {
		sync_sub(box->fd, "new");
		sync_sub(box->fd, "cur");
	}
	if (failed) {
		buf_set(why, "");
		buf_printf(why, "%d messages could not be removed", failed);
		return -1;
	}
	return 0;
}
