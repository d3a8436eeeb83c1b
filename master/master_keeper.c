/*
 * master_keeper - the queue keeper: the one process that does master's
 * part of the Berkeley DB queue (DESIGN.md, "The queue" and Rule 2).
 *
 * master forks it (no exec) before it opens any listener, and again after
 * a full recovery.  The regions and log files in db/ are writable by
 * mail_owner and Berkeley DB trusts the offsets and mutexes in them, so
 * the keeper becomes mail_owner for good before it touches the queue: in
 * the child, master's event registrations are dropped, every descriptor
 * but 0-2 and the keeper socket is closed (listeners, status pipes and
 * the pid file stay master's), the log is opened again, and priv_drop
 * chroots to queue_directory and sets groups, gid and uid (not only the
 * effective ones: nothing in this process can become root again).
 *
 * Then it runs normal recovery (queue_env_recover, which also purges
 * orphan content chunks), reports MASTER_KEEPER_READY, and lives on its
 * event loop:
 *  - every second it lets lock waits behind a stopped process time out
 *    (queue_lock_expire); every minute it checkpoints, which removes the
 *    log files recovery no longer needs, so the queue's disk use stays
 *    bounded;
 *  - on MASTER_KEEPER_FAILCHK pid (master has reaped pid after an abnormal
 *    exit) it runs DB_ENV->failchk, whose is-alive answer knows that pid
 *    is dead (its number may already be reused) and asks the kernel about
 *    any other (kill(pid, 0): EPERM means alive); it answers
 *    MASTER_KEEPER_OK, or MASTER_KEEPER_RECOVER when full recovery is
 *    needed.  After RECOVER it leaves the environment alone (a checkpoint
 *    could wait for ever on a mutex of the dead process) until master
 *    ends it;
 *  - at end of file on the socket (master stops it, or master died) it
 *    closes the environment (with a checkpoint; after RECOVER by panicking
 *    it without writing anything) and exits 0.
 * A failed recovery exits 1 before READY; master then stops (fatal).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <syslog.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "master.h"
#include "msg.h"
#include "parent_death.h"
#include "priv.h"
#include "queue.h"

#define KEEPER_CHECKPOINT_MS (60 * 1000)
#define KEEPER_LOCK_EXPIRE_MS 1000
/* How long a write of a reply to master may wait. */
#define KEEPER_WRITE_MS 10000
/* A keeper whose master died ends by itself at once (end of file on its
 * socket); if it is stuck, it is killed after this long. */
#define KEEPER_ORPHAN_GRACE_S 2

static struct queue *keeper_queue;
static pid_t keeper_dead_pid;
static int keeper_broken; /* failchk asked for recovery */

static int
keeper_isalive(pid_t pid)
{
	if (pid == keeper_dead_pid)
		return 0;
	return kill(pid, 0) == 0 || errno == EPERM;
}

static _Noreturn void
keeper_exit(void)
{
	(void)queue_close(keeper_queue);
	exit(0);
}

static void
keeper_reply(int fd, int type, pid_t pid)
{
	struct master_keeper_msg m = {.type = type, .pid = (int32_t)pid};

	if (io_write_full(fd, &m, sizeof(m), KEEPER_WRITE_MS) < 0) {
		msg_warn("reply to master: %s", strerror(errno));
		keeper_exit();
	}
}

static void
keeper_checkpoint(void *ctx)
{
	(void)ctx;
	if (keeper_broken)
		return;
	if (queue_checkpoint(keeper_queue) == QUEUE_RECOVER)
		msg_warn("queue checkpoint: the environment needs recovery");
	event_timer_add(KEEPER_CHECKPOINT_MS, keeper_checkpoint, NULL);
}

/* Lets lock waiters behind a stopped process time out (queue.h). */
static void
keeper_lock_expire(void *ctx)
{
	(void)ctx;
	if (keeper_broken)
		return;
	(void)queue_lock_expire(keeper_queue);
	event_timer_add(KEEPER_LOCK_EXPIRE_MS, keeper_lock_expire, NULL);
}

static void
keeper_request(int fd, int events, void *ctx)
{
	struct master_keeper_msg m;
	int r;

	(void)events;
	(void)ctx;
	if (io_read_full(fd, &m, sizeof(m), KEEPER_WRITE_MS) < 0)
		keeper_exit(); /* end of file: master is done with us */
	if (m.type != MASTER_KEEPER_FAILCHK || m.pid <= 0) {
		msg_warn("bad request from master: type %d", (int)m.type);
		keeper_exit();
	}
	if (keeper_broken) {
		keeper_reply(fd, MASTER_KEEPER_RECOVER, m.pid);
		return;
	}
	keeper_dead_pid = (pid_t)m.pid;
	r = queue_env_failchk(keeper_queue);
	keeper_dead_pid = 0;
	if (r == QUEUE_OK) {
		msg_info("queue: failchk after process %ld died: done",
			 (long)m.pid);
		keeper_reply(fd, MASTER_KEEPER_OK, m.pid);
		return;
	}
	keeper_broken = 1;
	keeper_reply(fd, MASTER_KEEPER_RECOVER, m.pid);
}

/* Closes every descriptor but 0-2 and the keeper socket, then opens the
 * log again (its descriptor went with the rest). */
static void
keeper_descriptors(int sock)
{
	closelog();
	if (sock > 3)
		(void)close_range(3, (unsigned)sock - 1, 0);
	(void)close_range((unsigned)sock + 1, ~0U, 0);
	if (msg_log_to(master_params.maillog_file) < 0)
		_exit(1);
}

static void
keeper_stdio_null(void)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0)
		_exit(1);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
	msg_also_stderr(0);
}

_Noreturn void
master_keeper_main(int sock, int foreground, pid_t master_pid)
{
	const char *qdir = master_params.queue_dir;
	sigset_t none;

	msg_set_cleanup(NULL);
	event_reset();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Only master ends it (end of file on the socket): a signal to the
	 * whole process group (^C, a hangup, a service manager's SIGTERM)
	 * reaches master too, which then stops every process in order. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	msg_init("queue-keeper");
	(void)prctl(PR_SET_NAME, "queue-keeper", 0, 0, 0);
	keeper_descriptors(sock);
	/* master detaches from a terminal once started; the keeper, started
	 * first, must not keep it (and finds no /dev in its jail). */
	if (!foreground)
		keeper_stdio_null();
	if (master_params.as_root) {
		priv_drop_ids(master_params.owner_uid, master_params.owner_gid,
			      qdir);
		qdir = ""; /* chrooted into it: db/ is /db */
	}
	/* After the drop, which clears it: a keeper stuck inside Berkeley DB
	 * (failchk) must not outlive a killed master (parent_death.h). */
	if (parent_death_grace(master_pid, KEEPER_ORPHAN_GRACE_S) != 0)
		exit(0);
	queue_env_end_stuck_users(qdir);
	if (queue_env_recover(qdir, keeper_isalive, &keeper_queue) != QUEUE_OK)
		exit(1);
	keeper_reply(sock, MASTER_KEEPER_READY, getpid());
	/* The start-up is over: nothing more for a person (as master). */
	msg_also_stderr(0);
	event_fd_set(sock, EVENT_READ, keeper_request, NULL);
	event_timer_add(KEEPER_CHECKPOINT_MS, keeper_checkpoint, NULL);
	event_timer_add(KEEPER_LOCK_EXPIRE_MS, keeper_lock_expire, NULL);
	event_run();
	keeper_exit();
}
