/*
 * local_child - one child process per file or command delivery, with the
 * privileges of whoever the delivery is for; see local.h.
 *
 * The child reports "CLASS DSN TEXT" over a pipe and exits with _exit(),
 * touching nothing of the parent's (the queue handle belongs to the
 * parent: Berkeley DB handles are never shared across fork).  A child
 * that dies without a report, or does not finish within its time limit
 * (it is then killed), is a temporary failure: the mail is tried again.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iostuff.h"
#include "local.h"
#include "msg.h"

#define CHILD_REPORT_MAX 2048

void
local_child_privileges(uid_t uid, gid_t gid)
{
	if (!local_cfg.as_root)
		return;
	if (uid == 0)
		msg_fatal("refusing to deliver as root");
	if (setgroups(1, &gid) < 0)
		msg_fatal("setgroups: %s", strerror(errno));
	if (setgid(gid) < 0 || setuid(uid) < 0)
		msg_fatal("cannot switch to uid %ld gid %ld: %s", (long)uid,
			  (long)gid, strerror(errno));
	if (setuid(0) == 0 || seteuid(0) == 0)
		msg_fatal("could get root back after dropping it");
}

static _Noreturn void
child_main(int fd, uid_t uid, gid_t gid,
	   void (*fn)(void *arg, struct local_status *st), void *arg)
{
	struct local_status st;
	struct buf report = BUF_INIT;

	local_child_privileges(uid, gid);
	local_status_init(&st);
	fn(arg, &st);
	buf_printf(&report, "%d %s %s", st.cls, st.dsn, buf_cstr(&st.text));
	if (report.len > CHILD_REPORT_MAX)
		buf_truncate(&report, CHILD_REPORT_MAX);
	(void)io_write_full(fd, report.data, report.len, 10000);
	_exit(0);
}

/* "CLASS DSN TEXT" -> st; 0, or -1 when malformed. */
static int
report_parse(const char *s, struct local_status *st)
{
	const char *dsn, *text;
	size_t n;
	char code[16];

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != ' ')
		return -1;
	dsn = s + 2;
	n = strcspn(dsn, " ");
	if (n < 5 || n >= sizeof(code) || dsn[0] != s[0])
		return -1;
	memcpy(code, dsn, n);
	code[n] = '\0';
	text = dsn[n] ? dsn + n + 1 : "";
	local_status_set(st, s[0] - '0', code, "%s", text);
	return 0;
}

void
local_child_run(uid_t uid, gid_t gid, int timeout,
		void (*fn)(void *arg, struct local_status *st), void *arg,
		struct local_status *st)
{
	struct buf report = BUF_INIT;
	char data[512];
	long long deadline;
	ssize_t n;
	pid_t pid;
	int p[2], status = 0, timed_out = 0;

	if (pipe2(p, O_CLOEXEC) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot create a pipe: %s",
				 strerror(errno));
		return;
	}
	if ((pid = fork()) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot fork: %s",
				 strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child_main(p[1], uid, gid, fn, arg);
	}
	close(p[1]);
	deadline = io_deadline(timeout * 1000);
	for (;;) {
		n = io_read_timeout(p[0], data, sizeof(data),
				    io_left_ms(deadline));
		if (n <= 0) {
			timed_out = n < 0 && errno == ETIMEDOUT;
			break;
		}
		if (report.len < CHILD_REPORT_MAX)
			buf_append(&report, data, (size_t)n);
	}
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		local_status_set(st, 4, "4.3.0",
				 "delivery timed out after %d s", timeout);
	else if (report_parse(buf_cstr(&report), st) < 0)
		local_status_set(st, 4, "4.3.0",
				 "delivery process died (%s %d)",
				 WIFSIGNALED(status) ? "signal" : "status",
				 WIFSIGNALED(status) ? WTERMSIG(status)
						     : WEXITSTATUS(status));
	buf_free(&report);
}
