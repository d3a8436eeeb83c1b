/*
 * local_command - delivery to "/file" and "|command" alias targets, and
 * to mailbox_command.
 *
 * Both run in a child with the privileges local_rcpt.c chose: the owner
 * of the alias database (or of the :include: file), default_privs when
 * that owner is root; the recipient for mailbox_command; never root.
 *
 * A file gets the mbox format, appended under an fcntl lock with the
 * safe_open discipline (no dotlock: the file's directory is not ours);
 * /dev/null is accepted as is.
 *
 * A command runs as "$local_command_shell COMMAND" (default /bin/sh -c)
 * through lib/mail/pipe_command.h, the runner pipe(8) uses too: in its
 * own session, in the home directory of the uid it runs as, with the
 * message (From_ line, Return-Path:, Delivered-To:, Unix line endings)
 * on standard input from a memory file, so it may read as little of it
 * as it likes, and with Postfix's variables: HOME, USER, LOGNAME and
 * SHELL of the uid it runs as, PATH, SENDER, RECIPIENT, LOCAL (the local
 * part), USER... as above, EXTENSION (after recipient_delimiter),
 * DOMAIN, ORIGINAL_RECIPIENT and CLIENT_ADDRESS.  It is killed (its whole
 * process group) after command_time_limit seconds.  Exit status 0 is
 * success; otherwise pipe_command.h maps the status (sysexits) or the
 * command's own enhanced status code, as in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "iostuff.h"
#include "local.h"
#include "mbox.h"
#include "msg.h"
#include "pipe_command.h"
#include "xalloc.h"

struct target_job {
	const struct local_msg *msg;
	const char *to;
	const char *target;
	const char *orig_to; /* "" or the address before aliasing */
};

static void
file_child(void *arg, struct local_status *st)
{
	struct target_job *job = arg;

	local_mbox_append(job->msg, job->to, job->target, (uid_t)-1, (gid_t)-1,
			  0, st);
	if (st->cls == 2)
		local_status_set(st, 2, "2.0.0", "delivered to file: %s",
				 job->target);
}

void
local_deliver_file(const struct local_msg *msg, const char *to,
		   const char *path, uid_t uid, gid_t gid,
		   struct local_status *st)
{
	struct target_job job = {msg, to, path, ""};

	if (strcmp(path, "/dev/null") == 0) {
		local_status_set(st, 2, "2.0.0", "delivered to file: %s", path);
		return;
	}
	local_child_run(uid, gid, local_cfg.command_time_limit, file_child,
			&job, st);
}

/* The variables of the command's environment. */
static char **
command_env(const struct target_job *job)
{
	struct passwd *pw = getpwuid(getuid());
	const char *to = job->to, *at = strrchr(to, '@');
	char **env = xcalloc(16, sizeof(char *));
	size_t llen = at ? (size_t)(at - to) : strlen(to);
	size_t blen =
	    *local_cfg.delimiter ? strcspn(to, local_cfg.delimiter) : llen;
	struct buf b = BUF_INIT;
	int n = 0;

#define ENV_ADD(...)                                                           \
	do {                                                                   \
		buf_reset(&b);                                                 \
		buf_printf(&b, __VA_ARGS__);                                   \
		env[n++] = xstrdup(buf_cstr(&b));                              \
	} while (0)
	ENV_ADD("PATH=/usr/bin:/bin");
	ENV_ADD("SHELL=%s", pw && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	ENV_ADD("HOME=%s", pw ? pw->pw_dir : "/");
	ENV_ADD("USER=%s", pw ? pw->pw_name : "nobody");
	ENV_ADD("LOGNAME=%s", pw ? pw->pw_name : "nobody");
	ENV_ADD("SENDER=%s", job->msg->sender);
	ENV_ADD("RECIPIENT=%s", to);
	ENV_ADD("LOCAL=%.*s", (int)llen, to);
	/* "+ext" alone is a name, not an extension of nothing. */
	ENV_ADD("EXTENSION=%.*s",
		blen > 0 && blen < llen ? (int)(llen - blen - 1) : 0,
		blen > 0 && blen < llen ? to + blen + 1 : "");
	ENV_ADD("DOMAIN=%s", at ? at + 1 : "");
	ENV_ADD("ORIGINAL_RECIPIENT=%s",
		job->orig_to && *job->orig_to ? job->orig_to : to);
	ENV_ADD("CLIENT_ADDRESS=%s",
		job->msg->client_addr ? job->msg->client_addr : "");
#undef ENV_ADD
	buf_free(&b);
	return env;
}

static char **
command_argv(const char *command)
{
	char **shell = local_cfg.command_shell;
	size_t n = 0;
	char **argv;

	if (shell == NULL) {
		argv = xcalloc(4, sizeof(char *));
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = (char *)command;
		return argv;
	}
	while (shell[n])
		n++;
	argv = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		argv[i] = shell[i];
	argv[n] = (char *)command;
	return argv;
}

/* The message as the command reads it, in a memory file. */
static int
message_fd(const struct target_job *job)
{
	struct buf data = BUF_INIT;
	int fd = memfd_create("panacea-message", MFD_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -1;
	mbox_from_line(&data, job->msg->sender, time(NULL));
	local_prepend(&data, job->msg, job->to);
	mbox_convert(job->msg->content.data ? job->msg->content.data : "",
		     job->msg->content.len, 0, &data);
	if (io_write_full(fd, data.data, data.len, -1) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0)
		r = -1;
	buf_free(&data);
	if (r < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
command_child(void *arg, struct local_status *st)
{
	struct target_job *job = arg;
	struct pipe_command pc;
	struct buf text = BUF_INIT;
	struct passwd *pw = getpwuid(getuid());
	char **argv = command_argv(job->target);
	char **env = command_env(job);
	char dsn[16];
	int in, cls;

	if ((in = message_fd(job)) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot set up command: %s",
				 strerror(errno));
		return;
	}
	memset(&pc, 0, sizeof(pc));
	pc.argv = argv;
	pc.env = env;
	pc.in_fd = in;
	pc.cwd = pw ? pw->pw_dir : "/";
	pc.cwd_or_root = 1; /* nobody's home does not exist */
	pc.uid = (uid_t)-1; /* local_child_run switched already */
	pc.gid = (gid_t)-1;
	pc.time_limit = local_cfg.command_time_limit;
	pc.what = job->target;
	cls = pipe_command_run(&pc, dsn, &text);
	if (cls == 2)
		local_status_set(st, 2, "2.0.0", "delivered to command: %.*s",
				 PIPE_COMMAND_SHOW_MAX, job->target);
	else
		local_status_set(st, cls, dsn, "%s", buf_cstr(&text));
	close(in);
	buf_free(&text);
	/* The child exits after this; argv and env die with it. */
}

void
local_deliver_command(const struct local_msg *msg, const char *to,
		      const char *orig_to, const char *command, uid_t uid,
		      gid_t gid, struct local_status *st)
{
	struct target_job job = {msg, to, command, orig_to};

	/* The child's own limit is command_time_limit; this one only
	 * catches a child that could not kill its command. */
	local_child_run(uid, gid, local_cfg.command_time_limit + 30,
			command_child, &job, st);
}
