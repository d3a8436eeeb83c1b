/*
 * master_files - the queue directory tree and master's pid file.
 *
 * master_make_dirs() creates $queue_directory (and missing parents, mode
 * 0755, owned by whoever runs master: root on a real system, so that a
 * chrooted daemon cannot change its own jail) and, when missing, its
 * subfolders:
 *   db/        0700  Berkeley DB environment (mail_owner only)
 *   private/   0700  daemon-to-daemon sockets
 *   public/    0711  sockets local users may connect to (mode 0666 each)
 *   pid/       0755  master.pid (root's, like the queue directory)
 *   maildrop/  03733 local submission drop folder (lib/maildrop.h)
 * Everything but pid/ belongs to mail_owner when master runs as root.
 * Existing folders are left as they are.
 *
 * A folder is made with mkdir, then opened without following a link
 * (O_NOFOLLOW | O_DIRECTORY) and given its owner and mode through that
 * descriptor (fchown, fchmod): were the parent writable by someone else,
 * a name changed into a symbolic link between mkdir and a chown by name
 * would give away whatever the link points to (DESIGN.md, Rule 1).
 *
 * Inside mail_owner's folders (private/, public/, maildrop/) master never
 * works as root: master_as_owner() switches its effective ids (and
 * supplementary groups) to mail_owner's and master_as_root() back, around
 * every bind, unlink and connect there, so a path that mail_owner has
 * turned into a link reaches nothing mail_owner could not reach itself.
 * seteuid, not setuid: master needs root again afterwards; while switched
 * it runs no code that reads anything from mail_owner's processes.
 *
 * The pid file $queue_directory/pid/master.pid holds master's pid and an
 * fcntl write lock for master's whole life: the lock, not the pid, is what
 * says "running", so a stale file after a crash never blocks a start.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "master.h"
#include "msg.h"
#include "xalloc.h"

static const struct master_dir {
	const char *name;
	mode_t mode;
	int owner_is_mail_owner;
} master_dirs[] = {
    {"db", 0700, 1},  {"private", 0700, 1},   {"public", 0711, 1},
    {"pid", 0755, 0}, {"maildrop", 03733, 1},
};

static int master_pid_fd = -1;
static char *master_pid_path;

/* Root's supplementary groups, restored by master_as_root(). */
static gid_t *master_root_groups;
static int master_root_ngroups;
static int master_is_owner;

void
master_as_owner(void)
{
	gid_t gid = master_params.owner_gid;
	int n;

	if (!master_params.as_root || master_is_owner)
		return;
	if (master_root_groups == NULL) {
		if ((n = getgroups(0, NULL)) < 0)
			msg_fatal("getgroups: %s", strerror(errno));
		master_root_groups = xcalloc((size_t)n + 1, sizeof(gid_t));
		if ((n = getgroups(n, master_root_groups)) < 0)
			msg_fatal("getgroups: %s", strerror(errno));
		master_root_ngroups = n;
	}
	if (setgroups(1, &gid) < 0 || setegid(gid) < 0 ||
	    seteuid(master_params.owner_uid) < 0)
		msg_fatal("cannot switch to mail_owner %s: %s",
			  master_params.mail_owner, strerror(errno));
	master_is_owner = 1;
}

void
master_as_root(void)
{
	if (!master_is_owner)
		return;
	/* msg_fatal's cleanup hook comes back here: no fatal loop. */
	master_is_owner = 0;
	if (seteuid(0) < 0 || setegid(0) < 0 ||
	    setgroups((size_t)master_root_ngroups, master_root_groups) < 0)
		msg_fatal("cannot switch back to root: %s", strerror(errno));
}

/* mkdir with an exact mode (umask aside) and owner; an existing folder is
 * fine as it is. */
static void
master_mkdir(const char *path, mode_t mode, int give_away)
{
	int fd;

	if (mkdir(path, mode) < 0) {
		if (errno == EEXIST)
			return;
		msg_fatal("create directory %s: %s", path, strerror(errno));
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		msg_fatal("open directory %s: %s", path, strerror(errno));
	/* fchmod after fchown: a chown may clear the set-group-id bit. */
	if (give_away && master_params.as_root &&
	    fchown(fd, master_params.owner_uid, master_params.owner_gid) < 0)
		msg_fatal("chown %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) < 0)
		msg_fatal("chmod %s: %s", path, strerror(errno));
	close(fd);
}

/* The queue directory with its missing parents. */
static void
master_mkdir_parents(const char *dir)
{
	char *path = xstrdup(dir);
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		master_mkdir(path, 0755, 0);
		*p = '/';
	}
	master_mkdir(path, 0755, 0);
	xfree(path);
}

void
master_make_dirs(void)
{
	struct buf path = BUF_INIT;
	size_t i;

	master_mkdir_parents(master_params.queue_dir);
	for (i = 0; i < sizeof(master_dirs) / sizeof(master_dirs[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", master_params.queue_dir,
			   master_dirs[i].name);
		master_mkdir(buf_cstr(&path), master_dirs[i].mode,
			     master_dirs[i].owner_is_mail_owner);
	}
	buf_free(&path);
}

static char *
master_pidfile_path(void)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/pid/master.pid", master_params.queue_dir);
	return buf_steal(&path);
}

/* The pid of the process holding the lock: from the kernel, else (another
 * pid namespace) from the file. */
static long
master_pidfile_holder(int fd)
{
	struct flock fl;
	char text[32];
	ssize_t n;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
	    fl.l_pid > 0)
		return (long)fl.l_pid;
	n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strtol(text, NULL, 10);
}

void
master_pidfile_lock(void)
{
	char *path = master_pidfile_path();
	struct flock fl;
	struct stat st;
	char text[32];
	int fd;
	int len;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		  0644);
	if (fd < 0)
		msg_fatal("open %s: %s", path, strerror(errno));
	/* It is truncated and written: never another file's second name. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		msg_fatal("%s: not a regular file with one link", path);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			msg_fatal("the Panacea mail system is already running "
				  "(master pid %ld)",
				  master_pidfile_holder(fd));
		msg_fatal("lock %s: %s", path, strerror(errno));
	}
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)
		msg_fatal("write %s: %s", path, strerror(errno));
	master_pid_fd = fd;
	master_pid_path = path;
}

void
master_pidfile_remove(void)
{
	if (master_pid_fd < 0)
		return;
	if (unlink(master_pid_path) < 0 && errno != ENOENT)
		msg_warn("remove %s: %s", master_pid_path, strerror(errno));
	close(master_pid_fd);
	master_pid_fd = -1;
	xfree(master_pid_path);
	master_pid_path = NULL;
}

int
master_pidfile_test(void)
{
	char *path = master_pidfile_path();
	struct flock fl;
	int fd;
	int ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	xfree(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : 2;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		ret = 2;
	else
		ret = fl.l_type == F_UNLCK ? 0 : 1;
	close(fd);
	return ret;
}
