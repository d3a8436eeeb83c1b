/*
 * pipe_command - one external command of a delivery; see pipe_command.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iostuff.h"
#include "pipe_command.h"

#define EX_TEMPFAIL_CODE 75

/* <sysexits.h>, as Postfix reports each: code, enhanced status code. */
static const struct {
	int code;
	const char *dsn;
} sysexits[] = {
    {64, "5.3.0"}, /* EX_USAGE */
    {65, "5.6.0"}, /* EX_DATAERR */
    {66, "5.3.0"}, /* EX_NOINPUT */
    {67, "5.1.1"}, /* EX_NOUSER */
    {68, "5.1.2"}, /* EX_NOHOST */
    {69, "5.3.0"}, /* EX_UNAVAILABLE */
    {70, "5.3.0"}, /* EX_SOFTWARE */
    {71, "4.3.0"}, /* EX_OSERR */
    {72, "5.3.0"}, /* EX_OSFILE */
    {73, "5.2.0"}, /* EX_CANTCREAT */
    {74, "5.3.0"}, /* EX_IOERR */
    {75, "4.3.0"}, /* EX_TEMPFAIL */
    {76, "5.5.0"}, /* EX_PROTOCOL */
    {77, "5.7.0"}, /* EX_NOPERM */
    {78, "5.3.5"}, /* EX_CONFIG */
};

int
pipe_command_exit_dsn(int code, char dsn[16])
{
	for (size_t i = 0; i < sizeof(sysexits) / sizeof(sysexits[0]); i++)
		if (sysexits[i].code == code) {
			snprintf(dsn, 16, "%s", sysexits[i].dsn);
			return dsn[0] - '0';
		}
	snprintf(dsn, 16, "5.3.0");
	return 5;
}

void
pipe_command_clean(struct buf *output)
{
	for (size_t i = 0; i < output->len; i++)
		if ((unsigned char)output->data[i] < ' ' ||
		    output->data[i] == 0x7f)
			output->data[i] = ' ';
	while (output->len > 0 && output->data[output->len - 1] == ' ')
		buf_truncate(output, output->len - 1);
}

/* "4.X.Y" or "5.X.Y" followed by a blank or the end, at the start of s:
 * its length, or 0. */
static size_t
leading_dsn(const char *s)
{
	size_t i = 0, n;

	if ((s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (n = 0; s[i] >= '0' && s[i] <= '9' && n < 3; n++)
			i++;
		if (n == 0)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	return (s[i] == '\0' || s[i] == ' ') && i < 16 ? i : 0;
}

static _Noreturn void
child(const struct pipe_command *pc, int out)
{
	(void)setsid();
	signal(SIGPIPE, SIG_DFL);
	if (dup2(pc->in_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(EX_TEMPFAIL_CODE);
	/* Nothing else of the agent's reaches the command: not master's
	 * status pipe (fd 3), not a listener, not qmgr's connection. */
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			(void)close(fd);
	if (pc->uid != (uid_t)-1 &&
	    (setgroups(1, &pc->gid) < 0 || setgid(pc->gid) < 0 ||
	     setuid(pc->uid) < 0 || (pc->uid != 0 && setuid(0) == 0))) {
		dprintf(2, "cannot switch to uid %ld: %s", (long)pc->uid,
			strerror(errno));
		_exit(EX_TEMPFAIL_CODE);
	}
	if (pc->cwd && *pc->cwd && chdir(pc->cwd) < 0 &&
	    (!pc->cwd_or_root || chdir("/") < 0)) {
		dprintf(2, "cannot change to directory %s: %s", pc->cwd,
			strerror(errno));
		_exit(EX_TEMPFAIL_CODE);
	}
	execve(pc->argv[0], pc->argv, pc->env);
	dprintf(2, "cannot execute %s: %s", pc->argv[0], strerror(errno));
	_exit(EX_TEMPFAIL_CODE);
}

/* Reads the output until end of file or the deadline, then reaps the
 * child: 0, or -1 when the deadline passed first. */
static int
wait_command(pid_t pid, int out, long long deadline, struct buf *output,
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
		if (output->len < PIPE_COMMAND_OUTPUT_MAX)
			buf_append(output, data,
				   (size_t)n <
					   PIPE_COMMAND_OUTPUT_MAX - output->len
				       ? (size_t)n
				       : PIPE_COMMAND_OUTPUT_MAX - output->len);
	}
	/* A command that closed its output may still run; poll its end
	 * within the same deadline. */
	while ((r = waitpid(pid, status, WNOHANG)) == 0) {
		if (io_left_ms(deadline) == 0)
			return -1;
		poll(NULL, 0, 10);
	}
	return r == pid ? 0 : -1;
}

int
pipe_command_run(const struct pipe_command *pc, char dsn[16], struct buf *text)
{
	struct buf output = BUF_INIT;
	long long deadline = io_deadline(pc->time_limit * 1000);
	int p[2], status = 0, cls, code;
	size_t dl;
	pid_t pid;

	buf_reset(text);
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(dsn, 16, "4.3.0");
		buf_printf(text, "cannot run command: %s", strerror(errno));
		return 4;
	}
	if (pid == 0)
		child(pc, p[1]);
	close(p[1]);
	if (wait_command(pid, p[0], deadline, &output, &status) < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		close(p[0]);
		buf_free(&output);
		snprintf(dsn, 16, "4.3.0");
		buf_printf(text, "Command time limit (%d s) exceeded: \"%.*s\"",
			   pc->time_limit, PIPE_COMMAND_SHOW_MAX, pc->what);
		return 4;
	}
	close(p[0]);
	pipe_command_clean(&output);
	if (WIFSIGNALED(status)) {
		snprintf(dsn, 16, "4.3.0");
		buf_printf(text, "Command died with signal %d: \"%.*s\"",
			   WTERMSIG(status), PIPE_COMMAND_SHOW_MAX, pc->what);
		cls = 4;
	} else if ((code = WEXITSTATUS(status)) == 0) {
		snprintf(dsn, 16, "2.0.0");
		buf_puts(text, buf_cstr(&output));
		cls = 2;
	} else {
		cls = pipe_command_exit_dsn(code, dsn);
		/* The command's own enhanced code says more than sysexits. */
		if ((dl = leading_dsn(buf_cstr(&output))) > 0) {
			snprintf(dsn, 16, "%.*s", (int)dl, output.data);
			cls = dsn[0] - '0';
		}
		buf_printf(text, "Command died with status %d: \"%.*s\"%s%s",
			   code, PIPE_COMMAND_SHOW_MAX, pc->what,
			   output.len ? ". Command output: " : "",
			   buf_cstr(&output));
	}
	buf_free(&output);
	return cls;
}
