/*
 * local_command - delivery to "/file" and "|command" alias targets.
 *
 * Both run in a child with the privileges local_rcpt.c chose: the owner
 * of the alias database (or of the :include: file), default_privs when
 * that owner is root; never root.
 *
 * A file gets the mbox format, appended under an fcntl lock with the
 * safe_open discipline (no dotlock: the file's directory is not ours);
 * /dev/null is accepted as is.
 *
 * A command runs as "$local_command_shell COMMAND" (default /bin/sh -c)
 * in its own session, with the message (From_ line, Return-Path:,
 * Delivered-To:, Unix line endings) on standard input from a memory
 * file, so it may read as little of it as it likes, and with the
 * variables SENDER, RECIPIENT, LOCAL, DOMAIN, HOME, USER, LOGNAME, SHELL
 * and PATH, as Postfix sets them.  Its output (first 512 bytes) goes into
 * the status text.  It is killed (its whole process group) after
 * command_time_limit seconds.  Exit status 0 is success, EX_TEMPFAIL (75)
 * and death by a signal or the time limit are temporary, EX_NOUSER (67)
 * is 5.1.1 and any other status is 5.3.0, as in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iostuff.h"
#include "local.h"
#include "mbox.h"
#include "msg.h"
#include "xalloc.h"

#define COMMAND_OUTPUT_MAX 512
#define COMMAND_SHOW_MAX 200 /* bytes of a command in a status text */
#define EX_NOUSER_CODE 67
#define EX_TEMPFAIL_CODE 75

struct target_job {
	const struct local_msg *msg;
	const char *to;
	const char *target;
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
	struct target_job job = {msg, to, path};

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
	char **env = xcalloc(12, sizeof(char *));
	struct buf b = BUF_INIT;
	int n = 0;

#define ENV_ADD(...)                                                           \
	do {                                                                   \
		buf_reset(&b);                                                 \
		buf_printf(&b, __VA_ARGS__);                                   \
		env[n++] = xstrdup(buf_cstr(&b));                              \
	} while (0)
	ENV_ADD("PATH=/usr/bin:/bin");
	ENV_ADD("SHELL=/bin/sh");
	ENV_ADD("HOME=%s", pw ? pw->pw_dir : "/");
	ENV_ADD("USER=%s", pw ? pw->pw_name : "nobody");
	ENV_ADD("LOGNAME=%s", pw ? pw->pw_name : "nobody");
	ENV_ADD("SENDER=%s", job->msg->sender);
	ENV_ADD("RECIPIENT=%s", to);
	ENV_ADD("LOCAL=%.*s", (int)(at ? at - to : (long)strlen(to)), to);
	ENV_ADD("DOMAIN=%s", at ? at + 1 : "");
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

static _Noreturn void
exec_command(const struct target_job *job, int in, int out)
{
	char **argv = command_argv(job->target);
	char **env = command_env(job);
	struct passwd *pw = getpwuid(getuid());

	(void)setsid();
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(EX_TEMPFAIL_CODE);
	if (chdir(pw ? pw->pw_dir : "/") < 0 && chdir("/") < 0)
		_exit(EX_TEMPFAIL_CODE);
	execve(argv[0], argv, env);
	dprintf(2, "cannot execute %s: %s", argv[0], strerror(errno));
	_exit(EX_TEMPFAIL_CODE);
}

/* Reads the output until end of file or the deadline; then the exit. */
static int
command_wait(pid_t pid, int out, long long deadline, struct buf *output,
	     int *status)
{
	char data[512];
	ssize_t n;
	pid_t r;

	for (;;) {
		n = io_read_timeout(out, data, sizeof(data),
				    io_left_ms(deadline));
		if (n <= 0)
			break;
		if (output->len < COMMAND_OUTPUT_MAX)
			buf_append(output, data,
				   (size_t)n < COMMAND_OUTPUT_MAX - output->len
				       ? (size_t)n
				       : COMMAND_OUTPUT_MAX - output->len);
	}
	while ((r = waitpid(pid, status, WNOHANG)) == 0) {
		if (io_left_ms(deadline) == 0)
			return -1;
		poll(NULL, 0, 10);
	}
	return r == pid ? 0 : -1;
}

/* Printable command output on one line, for the status text. */
static void
clean_output(struct buf *output)
{
	for (size_t i = 0; i < output->len; i++)
		if ((unsigned char)output->data[i] < ' ' ||
		    output->data[i] == 0x7f)
			output->data[i] = ' ';
	while (output->len > 0 && output->data[output->len - 1] == ' ')
		buf_truncate(output, output->len - 1);
}

static void
command_child(void *arg, struct local_status *st)
{
	struct target_job *job = arg;
	struct buf output = BUF_INIT;
	long long deadline = io_deadline(local_cfg.command_time_limit * 1000);
	int in, p[2], status = 0, code;
	const char *cmd = job->target;
	pid_t pid;

	if ((in = message_fd(job)) < 0 || pipe2(p, O_CLOEXEC) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot set up command: %s",
				 strerror(errno));
		return;
	}
	if ((pid = fork()) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot fork: %s",
				 strerror(errno));
		return;
	}
	if (pid == 0)
		exec_command(job, in, p[1]);
	close(p[1]);
	close(in);
	if (command_wait(pid, p[0], deadline, &output, &status) < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		local_status_set(
		    st, 4, "4.3.0", "command time limit (%d s) exceeded: %.*s",
		    local_cfg.command_time_limit, COMMAND_SHOW_MAX, cmd);
	} else if (WIFSIGNALED(status)) {
		local_status_set(st, 4, "4.3.0",
				 "Command died with signal %d: "
				 "\"%.*s\"",
				 WTERMSIG(status), COMMAND_SHOW_MAX, cmd);
	} else if ((code = WEXITSTATUS(status)) == 0) {
		local_status_set(st, 2, "2.0.0", "delivered to command: %.*s",
				 COMMAND_SHOW_MAX, cmd);
	} else {
		clean_output(&output);
		local_status_set(st, code == EX_TEMPFAIL_CODE ? 4 : 5,
				 code == EX_TEMPFAIL_CODE ? "4.3.0"
				 : code == EX_NOUSER_CODE ? "5.1.1"
							  : "5.3.0",
				 "Command died with status %d: \"%.*s\"%s%s",
				 code, COMMAND_SHOW_MAX, cmd,
				 output.len ? ". Command output: " : "",
				 buf_cstr(&output));
	}
	close(p[0]);
	buf_free(&output);
}

void
local_deliver_command(const struct local_msg *msg, const char *to,
		      const char *command, uid_t uid, gid_t gid,
		      struct local_status *st)
{
	struct target_job job = {msg, to, command};

	/* The child's own limit is command_time_limit; this one only
	 * catches a child that could not kill its command. */
	local_child_run(uid, gid, local_cfg.command_time_limit + 30,
			command_child, &job, st);
}
