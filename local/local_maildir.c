/*
 * local_maildir - Maildir delivery (the qmail layout that Dovecot, mutt
 * and Python's mailbox read).
 *
 * Runs with the recipient's (effective) ids.  Creates DIR, DIR/tmp,
 * DIR/new and DIR/cur when missing (refusing symbolic links in their
 * place), writes the message to tmp/NAME with a name no other delivery
 * can have (seconds, microseconds, pid and a sequence number, host name),
 * fsyncs it, then links it into new/ (link() never overwrites, unlike
 * rename()) and removes the tmp/ name, and syncs new/ so that the
 * delivery survives a crash once it is reported.  mailbox_size_limit
 * bounds the size of one message file here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "local.h"
#include "mbox.h"
#include "msg.h"

static unsigned maildir_seq;

/* Makes dir when missing; a symbolic link or non-directory is refused.
 * Looked at first: a Maildir exists after its first delivery, and one
 * lstat is all each later delivery needs. */
static int
maildir_mkdir(const char *dir, struct local_status *st)
{
	struct stat sb;

	if (lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		const char *dsn = mbox_errno_dsn(errno, "4.3.0");
		local_status_set(st, dsn[0] - '0', dsn,
				 "cannot create maildir %s: %s", dir,
				 strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		local_status_set(st, 5, "5.2.0",
				 "cannot deliver to maildir: %s is not a "
				 "directory",
				 dir);
		return -1;
	}
	return 0;
}

/* The host part of a unique name: no '/' or ':' (RFC-less convention). */
static void
host_part(struct buf *out)
{
	/* Asked once per process (a worker lives for many deliveries). */
	static char host[256];

	if (*host == '\0' && gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	for (const char *p = host; *p; p++) {
		if (*p == '/')
			buf_puts(out, "\\057");
		else if (*p == ':')
			buf_puts(out, "\\072");
		else
			buf_putc(out, *p);
	}
}

static int
write_file(const char *path, const struct buf *data)
{
	int fd, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -1;
	if (local_write_all(fd, data->data, data->len) < 0 || fsync(fd) < 0)
		goto fail;
	return close(fd);
fail:
	saved = errno;
	close(fd);
	unlink(path);
	errno = saved;
	return -1;
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

void
local_maildir_deliver(const struct local_msg *msg, const char *to,
		      const char *dir, struct local_status *st)
{
	struct buf data = BUF_INIT, name = BUF_INIT, tmp = BUF_INIT,
		   new = BUF_INIT, sub = BUF_INIT;
	long long limit = local_cfg.mailbox_size_limit;
	static const char *const subs[] = {"tmp", "new", "cur"};
	struct timeval tv;
	const char *dsn;

	if (maildir_mkdir(dir, st) < 0)
		goto done;
	for (int i = 0; i < 3; i++) {
		buf_reset(&sub);
		buf_printf(&sub, "%s/%s", dir, subs[i]);
		if (maildir_mkdir(buf_cstr(&sub), st) < 0)
			goto done;
	}
	local_prepend(&data, msg, to);
	mbox_convert(msg->content.data ? msg->content.data : "",
		     msg->content.len, 0, &data);
	if (limit > 0 && (long long)data.len > limit) {
		local_status_set(st, 5, "5.2.2",
				 "cannot deliver to maildir %s: message "
				 "larger than mailbox_size_limit (%lld bytes)",
				 dir, limit);
		goto done;
	}
	gettimeofday(&tv, NULL);
	buf_printf(&name, "%lld.M%06ldP%ld_%u.", (long long)tv.tv_sec,
		   (long)tv.tv_usec, (long)getpid(), maildir_seq++);
	host_part(&name);
	buf_printf(&tmp, "%s/tmp/%s", dir, buf_cstr(&name));
	buf_printf(&new, "%s/new/%s", dir, buf_cstr(&name));
	if (write_file(buf_cstr(&tmp), &data) < 0) {
		dsn = mbox_errno_dsn(errno, "4.3.0");
		local_status_set(st, dsn[0] - '0', dsn,
				 "cannot create maildir file %s: %s",
				 buf_cstr(&tmp), strerror(errno));
		goto done;
	}
	if (link(buf_cstr(&tmp), buf_cstr(&new)) < 0) {
		dsn = mbox_errno_dsn(errno, "4.3.0");
		local_status_set(st, dsn[0] - '0', dsn,
				 "cannot link maildir file %s: %s",
				 buf_cstr(&new), strerror(errno));
		unlink(buf_cstr(&tmp));
		goto done;
	}
	if (unlink(buf_cstr(&tmp)) < 0)
		msg_warn("cannot remove %s: %s", buf_cstr(&tmp),
			 strerror(errno));
	buf_reset(&sub);
	buf_printf(&sub, "%s/new", dir);
	sync_dir(buf_cstr(&sub));
	local_status_set(st, 2, "2.0.0", "delivered to maildir");
done:
	buf_free(&data);
	buf_free(&name);
	buf_free(&tmp);
	buf_free(&new);
	buf_free(&sub);
}
