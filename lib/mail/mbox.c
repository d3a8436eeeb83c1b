/*
 * mbox - mailbox formatting, locks and safe_open; see mbox.h.
 *
 * Everything here is either pure or touches only the files it is given,
 * so the unit tests exercise it on real files, links and locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iostuff.h"
#include "mbox.h"
#include "msg.h"
#include "strutil.h"

#define MBOX_LOCK_TEXT_MAX (24 + MBOX_LOCK_HOST_MAX) /* "PID HOST\n" */
#define MBOX_LOCK_PID_LIMIT 0x7fffffffL

void
mbox_convert(const char *data, size_t len, int flags, struct buf *out)
{
	const char *p = data, *end = data + len, *nl;
	size_t n;

	buf_reserve(out, len + len / 64 + 2);
	while (p < end) {
		if ((flags & MBOX_QUOTE_FROM) && end - p >= 5 &&
		    memcmp(p, "From ", 5) == 0)
			buf_putc(out, '>');
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			buf_append(out, p, (size_t)(end - p));
			buf_putc(out, '\n');
			return;
		}
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		buf_append(out, p, n);
		buf_putc(out, '\n');
		p = nl + 1;
	}
}

void
mbox_from_line(struct buf *out, const char *sender, time_t when)
{
	struct tm tm;
	char date[64];
	const char *s;

	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		strcpy(date, "Thu Jan  1 00:00:00 1970");
	buf_puts(out, "From ");
	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	/* The separator is split on white space by every reader: an address
	 * with a quoted local part must not break it. */
	for (s = sender; *s; s++)
		buf_putc(out,
			 (unsigned char)*s <= ' ' || *s == 0x7f ? '_' : *s);
	buf_printf(out, " %s\n", date);
}

/* Compares an address with optional <> and surrounding blanks. */
static int
address_equal(const char *v, size_t vlen, const char *addr)
{
	size_t alen;

	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' ||
			    v[vlen - 1] == '\r'))
		vlen--;
	if (vlen >= 2 && v[0] == '<' && v[vlen - 1] == '>')
		v++, vlen -= 2;
	if (*addr == '<') {
		addr++;
		alen = strlen(addr);
		if (alen > 0 && addr[alen - 1] == '>')
			alen--;
	} else {
		alen = strlen(addr);
	}
	return vlen == alen && str_ncasecmp(v, addr, alen) == 0;
}

int
mbox_delivered_to(const char *content, size_t len, const char *addr)
{
	static const char field[] = "delivered-to:";
	const size_t flen = sizeof(field) - 1;
	const char *p = content, *end = content + len, *nl;
	size_t n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* The empty line ends the header section. */
		if (n == 0 || (n == 1 && p[0] == '\r'))
			return 0;
		if (n > flen && str_ncasecmp(p, field, flen) == 0 &&
		    address_equal(p + flen, n - flen, addr))
			return 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

int
mbox_lock_owner_parse(const char *text, size_t len, long *pid, char *host,
		      size_t host_size)
{
	size_t i = 0, h = 0;
	long v = 0;

	*pid = 0;
	if (host_size > 0)
		host[0] = '\0';
	while (i < len && text[i] == ' ')
		i++;
	if (i == len || text[i] < '0' || text[i] > '9')
		return 0;
	while (i < len && text[i] >= '0' && text[i] <= '9') {
		if (v > (MBOX_LOCK_PID_LIMIT - (text[i] - '0')) / 10)
			return 0;
		v = v * 10 + (text[i++] - '0');
	}
	if (v <= 0)
		return 0;
	*pid = v;
	/* liblockfile's and older Panacea's "PID\n": no host. */
	if (i == len || text[i] == '\n' || text[i] == '\0')
		return 1;
	if (text[i] != ' ')
		return 1;
	i++;
	while (i < len && text[i] > ' ' && text[i] < 0x7f && h + 1 < host_size)
		host[h++] = text[i++];
	/* A host name cut short, or followed by anything but the line end,
	 * is no name: the lock is then judged as one from elsewhere. */
	if (h > 0 && (i == len || text[i] == '\n'))
		host[h] = '\0';
	else if (host_size > 0)
		host[0] = '\0';
	return 1;
}

/* This host's name as lock files record it ("" when unknown). */
static const char *
lock_hostname(void)
{
	static char name[MBOX_LOCK_HOST_MAX + 1];
	static int done;

	if (!done) {
		if (gethostname(name, sizeof(name)) < 0)
			name[0] = '\0';
		name[sizeof(name) - 1] = '\0';
		/* A name the parser would not read back is not written. */
		for (const char *p = name; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				name[0] = '\0';
				break;
			}
		done = 1;
	}
	return name;
}

/* Whether pid names a process of this system (EPERM: alive, not ours). */
static int
pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/*
 * A lock is stale when its owner is known to be gone: a lock made on this
 * host (its file names this host) whose process is dead goes at once (a
 * killed delivery agent or POP3 session must not hold the mailbox for
 * stale_sec); a lock made elsewhere (another host of a shared spool, or
 * a program that records no host) goes only when it is older than
 * stale_sec and, when it names a pid but no host, that pid is not alive
 * here.  The reason goes to why_stale for the warning.
 */
static int
dotlock_stale(const char *lockpath, int stale_sec, struct buf *why_stale)
{
	struct stat st;
	char text[MBOX_LOCK_TEXT_MAX + 1];
	char host[MBOX_LOCK_HOST_MAX + 1];
	const char *me = lock_hostname();
	ssize_t n = 0;
	long pid = 0;
	int fd, old;

	if (lstat(lockpath, &st) < 0)
		return 0;
	old = time(NULL) - st.st_mtime >= stale_sec;
	fd = open(lockpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, MBOX_LOCK_TEXT_MAX);
		close(fd);
	}
	if (n <= 0 ||
	    !mbox_lock_owner_parse(text, (size_t)n, &pid, host, sizeof(host)))
		pid = 0, host[0] = '\0';
	buf_set(why_stale, "");
	if (pid > 0 && *host && *me && strcmp(host, me) == 0) {
		if (pid_alive(pid))
			return 0;
		buf_printf(why_stale, "pid %ld on this host is gone", pid);
		return 1;
	}
	if (!old)
		return 0;
	if (pid > 0 && *host) {
		buf_printf(why_stale, "made on %s, older than %d s", host,
			   stale_sec);
		return 1;
	}
	if (pid > 0) {
		if (pid_alive(pid))
			return 0;
		buf_printf(why_stale, "pid %ld is gone", pid);
		return 1;
	}
	buf_printf(why_stale, "no owner pid, older than %d s", stale_sec);
	return 1;
}

int
mbox_dotlock(const char *path, int stale_sec, struct buf *why)
{
	struct buf lock = BUF_INIT, stale = BUF_INIT;
	char owner[MBOX_LOCK_TEXT_MAX + 1];
	int fd, tries, n, ret = MBOX_LOCK_BUSY, saved;

	buf_printf(&lock, "%s.lock", path);
	for (tries = 0; tries < 2; tries++) {
		fd = open(buf_cstr(&lock),
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			const char *me = lock_hostname();
			/* The owner only helps stale lock detection: "PID
			 * HOST", whose first word is what liblockfile and
			 * mutt read. */
			n = snprintf(owner, sizeof(owner),
				     *me ? "%ld %s\n" : "%ld\n", (long)getpid(),
				     me);
			if (write(fd, owner, (size_t)n) != n)
				msg_warn("%s: cannot write pid: %s",
					 buf_cstr(&lock), strerror(errno));
			close(fd);
			ret = MBOX_LOCK_OK;
			break;
		}
		if (errno != EEXIST) {
			saved = errno;
			buf_set(why, "");
			buf_printf(why, "cannot create lock file %s: %s",
				   buf_cstr(&lock), strerror(saved));
			errno = saved;
			ret = MBOX_LOCK_ERROR;
			break;
		}
		if (!dotlock_stale(buf_cstr(&lock), stale_sec, &stale))
			break;
		msg_warn("removing stale lock file %s (%s)", buf_cstr(&lock),
			 buf_cstr(&stale));
		if (unlink(buf_cstr(&lock)) < 0 && errno != ENOENT)
			break;
	}
	if (ret == MBOX_LOCK_BUSY) {
		buf_set(why, "");
		buf_printf(why, "lock file %s exists", buf_cstr(&lock));
	}
	buf_free(&lock);
	buf_free(&stale);
	return ret;
}

int
mbox_dotunlock(const char *path)
{
	struct buf lock = BUF_INIT;
	int r;

	buf_printf(&lock, "%s.lock", path);
	r = unlink(buf_cstr(&lock));
	buf_free(&lock);
	return r;
}

/* fcntl(F_SETLK) of type (F_WRLCK, F_UNLCK) over the whole file, without
 * waiting: fcntl's result. */
static int
whole_file_setlk(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

int
mbox_fcntl_lock(int fd)
{
	if (whole_file_setlk(fd, F_WRLCK) == 0)
		return MBOX_LOCK_OK;
	if (errno == EAGAIN || errno == EACCES)
		return MBOX_LOCK_BUSY;
	return MBOX_LOCK_ERROR;
}

void
mbox_fcntl_unlock(int fd)
{
	(void)whole_file_setlk(fd, F_UNLCK);
}

/*
 * Waits as Postfix does, up to attempts * delay_sec seconds, but the first
 * retries come after 1 ms, doubling up to delay_sec: two deliveries to one
 * mailbox contend for the time of a write and an fsync (about a
 * millisecond), and a whole second's sleep, or even 10 ms, wastes the
 * delivery slot (with local's two deliveries to one mailbox, a 10 ms
 * first step cost 4 ms a message on average).  With wake_fd (an inotify
 * descriptor watching the lock's directory) a removal in that directory
 * ends the wait at once; other events there cost one more try.
 */
static int
mbox_lock_wait(int (*try_lock)(const void *ctx, struct buf *why),
	       const void *ctx, int attempts, int delay_sec, int wake_fd,
	       struct buf *why)
{
	long long deadline =
	    io_now_ms() + (long long)attempts * delay_sec * 1000;
	long long step_ms = 1, left;
	char events[4096];
	struct pollfd pfd;
	int r;

	for (;;) {
		r = try_lock(ctx, why);
		left = deadline - io_now_ms();
		if (r != MBOX_LOCK_BUSY || left <= 0 || attempts <= 1)
			return r;
		if (step_ms > left)
			step_ms = left;
		pfd.fd = wake_fd;
		pfd.events = POLLIN;
		if (wake_fd >= 0 && poll(&pfd, 1, (int)step_ms) > 0) {
			/* Drained: the next event wakes the next wait. */
			while (read(wake_fd, events, sizeof(events)) > 0)
				continue;
			continue;
		}
		if (wake_fd < 0)
			usleep((useconds_t)(step_ms * 1000));
		if (step_ms * 2 <= (long long)delay_sec * 1000)
			step_ms *= 2;
	}
}

/* An inotify descriptor that reports removals in path's directory, or -1
 * (then the wait polls by the clock alone).  The directory is watched,
 * not the lock file: the lock may be gone before the watch is set, so the
 * watch comes first and a try follows it. */
static int
dotlock_wake_fd(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	size_t n;
	int fd;

	if (slash == NULL)
		n = 1, dir[0] = '.';
	else if ((n = (size_t)(slash - path)) == 0)
		n = 1, dir[0] = '/';
	else if (n < sizeof(dir))
		memcpy(dir, path, n);
	else
		return -1;
	dir[n] = '\0';
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -1;
	if (inotify_add_watch(fd, dir,
			      IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR |
				  IN_DONT_FOLLOW) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

struct dotlock_try {
	const char *path;
	int stale_sec;
};

static int
try_dotlock(const void *ctx, struct buf *why)
{
	const struct dotlock_try *t = ctx;

	return mbox_dotlock(t->path, t->stale_sec, why);
}

static int
try_fcntl(const void *ctx, struct buf *why)
{
	(void)why;
	return mbox_fcntl_lock(*(const int *)ctx);
}

int
mbox_dotlock_wait(const char *path, int stale_sec, int attempts, int delay_sec,
		  struct buf *why)
{
	struct dotlock_try t = {path, stale_sec};
	int r, wake_fd;

	/* Uncontended, the first try is the whole story. */
	if ((r = try_dotlock(&t, why)) != MBOX_LOCK_BUSY || attempts <= 1)
		return r;
	wake_fd = dotlock_wake_fd(path);
	r = mbox_lock_wait(try_dotlock, &t, attempts, delay_sec, wake_fd, why);
	if (wake_fd >= 0)
		(void)close(wake_fd);
	return r;
}

int
mbox_fcntl_lock_wait(int fd, int attempts, int delay_sec)
{
	return mbox_lock_wait(try_fcntl, &fd, attempts, delay_sec, -1, NULL);
}

const char *
mbox_errno_dsn(int err, const char *def_dsn)
{
	switch (err) {
	case EFBIG:
		return "5.2.2";
	case EDQUOT:
		return "4.2.2";
	case ENOSPC:
		return "4.3.0";
	case EAGAIN:
	case EINTR:
	case EBUSY:
	case ESTALE:
	case ENFILE:
	case EMFILE:
	case ENOMEM:
	case EIO:
	case ETXTBSY:
		return "4.2.0";
	default:
		return def_dsn;
	}
}

static int
safe_refuse(struct buf *why, const char *dsn, const char *path,
	    const char *text)
{
	buf_set(why, "");
	buf_printf(why, "%s cannot open %s: %s", dsn, path, text);
	errno = EPERM;
	return -1;
}

static int
safe_syserr(struct buf *why, const char *def_dsn, const char *path,
	    const char *what)
{
	int saved = errno;

	buf_set(why, "");
	buf_printf(why, "%s cannot %s %s: %s", mbox_errno_dsn(saved, def_dsn),
		   what, path, strerror(saved));
	errno = saved;
	return -1;
}

/* The checks that apply to an open file, new or old. */
static int
safe_check(int fd, const char *path, uid_t uid, const char *def_dsn,
	   struct stat *st, struct buf *why)
{
	char text[64];

	if (fstat(fd, st) < 0)
		return safe_syserr(why, def_dsn, path, "stat");
	if (!S_ISREG(st->st_mode))
		return safe_refuse(why, def_dsn, path, "not a regular file");
	if (st->st_nlink != 1) {
		snprintf(text, sizeof(text), "file has %lu hard links",
			 (unsigned long)st->st_nlink);
		return safe_refuse(why, def_dsn, path, text);
	}
	if (uid != (uid_t)-1 && st->st_uid != uid) {
		snprintf(text, sizeof(text), "bad file owner (uid %lu)",
			 (unsigned long)st->st_uid);
		return safe_refuse(why, def_dsn, path, text);
	}
	return 0;
}

/* safe_check() of the open fd: fd when it passes, else -1 with fd
 * closed (errno and why as safe_check left them). */
static int
safe_check_or_close(int fd, const char *path, uid_t uid, const char *def_dsn,
		    struct stat *st, struct buf *why)
{
	int saved;

	if (safe_check(fd, path, uid, def_dsn, st, why) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
safe_create(const char *path, int flags, mode_t mode, uid_t uid, gid_t gid,
	    const char *def_dsn, struct stat *st, struct buf *why)
{
	int fd, saved;

	fd =
	    open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (geteuid() == 0 && uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return safe_syserr(why, def_dsn, path, "change owner of");
	}
	return safe_check_or_close(fd, path, uid, def_dsn, st, why);
}

int
mbox_safe_open(const char *path, int flags, mode_t mode, uid_t uid, gid_t gid,
	       const char *def_dsn, struct stat *st, struct buf *why)
{
	struct stat lst;
	int fd, tries;

	buf_set(why, "");
	/* Two tries: the file may appear or vanish between the calls. */
	for (tries = 0; tries < 2; tries++) {
		if (lstat(path, &lst) < 0) {
			if (errno != ENOENT || !(flags & O_CREAT))
				return safe_syserr(why, def_dsn, path, "open");
			fd = safe_create(path, flags & ~O_TRUNC, mode, uid, gid,
					 def_dsn, st, why);
			if (fd >= 0)
				return fd;
			if (errno == EEXIST)
				continue;
			if (buf_cstr(why)[0])
				return -1;
			return safe_syserr(why, def_dsn, path, "create");
		}
		if (S_ISLNK(lst.st_mode))
			return safe_refuse(why, def_dsn, path,
					   "file is a symbolic link");
		if (!S_ISREG(lst.st_mode))
			return safe_refuse(why, def_dsn, path,
					   "not a regular file");
		if (lst.st_nlink != 1)
			return safe_refuse(why, def_dsn, path,
					   "file has more than one hard link");
		fd = open(path, (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW |
				    O_CLOEXEC);
		if (fd < 0) {
			if (errno == ELOOP)
				return safe_refuse(why, def_dsn, path,
						   "file is a symbolic link");
			if (errno == ENOENT)
				continue;
			return safe_syserr(why, def_dsn, path, "open");
		}
		if (safe_check_or_close(fd, path, uid, def_dsn, st, why) < 0)
			return -1;
		if (st->st_dev != lst.st_dev || st->st_ino != lst.st_ino) {
			close(fd);
			return safe_refuse(why, def_dsn, path,
					   "file was replaced while opening");
		}
		return fd;
	}
	buf_set(why, "");
	buf_printf(why, "4.2.0 cannot open %s: file keeps changing", path);
	errno = EAGAIN;
	return -1;
}
