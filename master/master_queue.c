/*
 * master_queue - master's side of the queue keeper.
 *
 * DESIGN.md ("The queue", Rule 2): recovery runs before any daemon
 * starts, and DB_ENV->failchk after a daemon dies abnormally, so that
 * locks held by a dead process never wedge the queue.  master runs as
 * root and never opens the environment: the queue keeper
 * (master_keeper.c), a child that has dropped to mail_owner for good,
 * does all of it, and master only tells it when a child died and hears
 * whether full recovery is needed.
 *
 *  master_queue_recover()   once, after the pid file lock is taken (no
 *                           other master can be recovering the same
 *                           environment) and before any listener is
 *                           opened or any child started: forks the keeper
 *                           and waits for its READY (no time limit:
 *                           recovery takes as long as the log needs).
 *                           Fatal when it exits instead.
 *  master_child_abnormal()  for every child that did not exit with status
 *                           0, after it has been reaped and forgotten:
 *                           sends FAILCHK pid and waits for the answer
 *                           (MASTER_KEEPER_REPLY_MS at most), before any
 *                           other child starts, so the dead pid cannot be
 *                           reused by a child of ours in between.  On
 *                           RECOVER, no answer, or a keeper that is gone:
 *                           full recovery.
 *  full recovery            every child is ended first (no process may
 *                           hold the old environment while recovery runs:
 *                           a daemon blocked on a lock of the dead process
 *                           would wait for ever, and one still committing
 *                           would write into it), then the keeper is ended
 *                           and a new one recovers, as at start.  A keeper
 *                           that dies unasked gets the same, from a timer
 *                           (not inside the reaping that noticed it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "master.h"
#include "msg.h"

/* How long master waits for the keeper's answer to FAILCHK; failchk
 * takes milliseconds, so a keeper this late is stuck (on a mutex of the
 * dead process) and only recovery helps. */
#define MASTER_KEEPER_REPLY_MS (10 * 1000)

static pid_t keeper_pid = -1;
static int keeper_fd = -1;
static int master_queue_recovering;
static int master_queue_closing;
static unsigned long keeper_replace_timer;

/* Logs how the keeper ended, unless master ended it. */
static void
keeper_log_exit(pid_t pid, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		msg_warn("queue keeper pid %ld exit status %d", (long)pid,
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		msg_warn("queue keeper pid %ld killed by signal %d", (long)pid,
			 WTERMSIG(status));
}

static void
keeper_forget(void)
{
	keeper_pid = -1;
	if (keeper_fd >= 0)
		close(keeper_fd);
	keeper_fd = -1;
}

/*
 * Ends the keeper: end of file on its socket (it closes the environment
 * and exits), SIGKILL after grace_ms.  Reaps it here, by its pid only.
 */
static void
keeper_stop(long long grace_ms)
{
	long long deadline = io_now_ms() + grace_ms;
	pid_t pid = keeper_pid;
	int status;
	pid_t r;

	if (keeper_fd >= 0)
		close(keeper_fd);
	keeper_fd = -1;
	if (pid <= 0)
		return;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	       io_now_ms() < deadline)
		(void)poll(NULL, 0, 20);
	if (r == 0) {
		msg_warn("queue keeper pid %ld did not stop: killing it",
			 (long)pid);
		(void)kill(pid, SIGKILL);
		while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	keeper_forget();
}

/* The next record from the keeper: its type, or -1 (end of file, time
 * out, short record). */
static int
keeper_read(int timeout_ms)
{
	struct master_keeper_msg m;

	if (io_read_full(keeper_fd, &m, sizeof(m), timeout_ms) < 0)
		return -1;
	return m.type;
}

/* Forks a keeper and waits until it has recovered the queue; fatal when
 * it cannot. */
static void
keeper_start(void)
{
	int sv[2];
	pid_t pid, master_pid = getpid();

	/* The daemons that are not chrooted (local) reach the queue through
	 * its path, as mail_owner: say so now rather than at each start. */
	master_as_owner();
	if (faccessat(AT_FDCWD, master_params.queue_dir, X_OK, AT_EACCESS) <
		0 &&
	    errno == EACCES) {
		master_as_root();
		msg_fatal(
		    "mail_owner %s cannot reach %s: every directory above "
		    "it must be searchable by that user",
		    master_params.mail_owner, master_params.queue_dir);
	}
	master_as_root();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		msg_fatal("socketpair: %s", strerror(errno));
	if ((pid = fork()) < 0)
		msg_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		master_keeper_main(sv[1], master_params.foreground, master_pid);
	}
	close(sv[1]);
	keeper_pid = pid;
	keeper_fd = sv[0];
	if (keeper_read(-1) != MASTER_KEEPER_READY) {
		keeper_stop(MASTER_STOP_GRACE_MS);
		msg_fatal("cannot recover the queue in %s/db (the queue "
			  "keeper's lines above say why; \"pansuper -s\" "
			  "salvages a damaged queue)",
			  master_params.queue_dir);
	}
	msg_info("queue %s/db: recovery done", master_params.queue_dir);
}

static void
master_queue_full_recovery(void)
{
	if (master_queue_recovering || master_queue_closing)
		return;
	master_queue_recovering = 1;
	master_restart_children();
	keeper_stop(MASTER_STOP_GRACE_MS);
	keeper_start();
	master_queue_recovering = 0;
}

void
master_queue_recover(void)
{
	keeper_start();
}

void
master_child_abnormal(pid_t pid, int status)
{
	struct master_keeper_msg m = {.type = MASTER_KEEPER_FAILCHK,
				      .pid = (int32_t)pid};
	int answer = -1;

	(void)status;
	/* The children ended for a recovery are not news. */
	if (master_queue_recovering || (master_queue_closing && keeper_fd < 0))
		return;
	if (keeper_fd >= 0 &&
	    send(keeper_fd, &m, sizeof(m), MSG_NOSIGNAL) == sizeof(m))
		answer = keeper_read(MASTER_KEEPER_REPLY_MS);
	if (answer == MASTER_KEEPER_OK || master_queue_closing)
		return; /* when closing, the next start recovers */
	if (answer == MASTER_KEEPER_RECOVER)
		msg_warn("queue: process %ld died leaving the queue in need of "
			 "recovery; restarting every daemon and recovering",
			 (long)pid);
	else
		msg_warn("queue keeper pid %ld did not answer about process "
			 "%ld; restarting every daemon and recovering",
			 (long)keeper_pid, (long)pid);
	master_queue_full_recovery();
}

static void
keeper_replace_event(void *ctx)
{
	(void)ctx;
	keeper_replace_timer = 0;
	if (keeper_pid > 0)
		return; /* replaced meanwhile */
	msg_warn("queue: the queue keeper is gone; restarting every daemon "
		 "and recovering");
	master_queue_full_recovery();
}

int
master_queue_reaped(pid_t pid, int status)
{
	if (pid <= 0 || pid != keeper_pid)
		return 0;
	keeper_log_exit(pid, status);
	keeper_forget();
	if (!master_queue_recovering && !master_queue_closing &&
	    keeper_replace_timer == 0)
		keeper_replace_timer =
		    event_timer_add(0, keeper_replace_event, NULL);
	return 1;
}

void
master_queue_stopping(void)
{
	master_queue_closing = 1;
}

void
master_queue_close(void)
{
	master_queue_closing = 1;
	keeper_stop(MASTER_STOP_GRACE_MS);
}
