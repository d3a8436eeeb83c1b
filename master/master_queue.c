/*
 * master_queue - master's care of the Berkeley DB queue.
 *
 * DESIGN.md ("The queue"): master runs recovery before any daemon starts,
 * and DB_ENV->failchk after a daemon dies abnormally, so that locks held
 * by a dead process never wedge the queue.
 *
 *  master_queue_recover()   once, after the pid file lock is taken (no
 *                           other master can be recovering the same
 *                           environment) and before any listener is
 *                           opened or any child started: normal recovery,
 *                           orphan content chunks purged.  Fatal when the
 *                           environment cannot be recovered.
 *  master_child_abnormal()  for every child that did not exit with status
 *                           0, after it has been reaped: failchk, whose
 *                           is-alive callback answers from master's child
 *                           table; when failchk says full recovery is
 *                           needed, recovery runs again (the environment
 *                           of live daemons then panics, they exit and
 *                           master restarts them).
 *                           Full recovery first ends every child: no
 *                           process may hold the old environment while
 *                           it runs.
 * master also checkpoints the environment every minute, which removes
 * the log files recovery no longer needs, so the queue's disk use stays
 * bounded whatever else runs, and every second lets lock waits behind a
 * stopped process time out (queue_lock_expire).
 *
 * Every process opens the environment as mail_owner (DESIGN.md): master,
 * which runs as root, switches its effective ids around each call, so no
 * file in db/ is ever owned by root.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "master.h"
#include "msg.h"
#include "queue.h"

#define MASTER_CHECKPOINT_MS (60 * 1000)
#define MASTER_LOCK_EXPIRE_MS 1000

static struct queue *master_queue;
static int master_queue_recovering;

/* Runs as mail_owner's effective ids while open. */
static void
master_queue_become_owner(void)
{
	if (!master_params.as_root)
		return;
	if (setegid(master_params.owner_gid) < 0 ||
	    seteuid(master_params.owner_uid) < 0)
		msg_fatal("cannot switch to mail_owner %s for the queue: %s",
			  master_params.mail_owner, strerror(errno));
}

static void
master_queue_become_root(void)
{
	if (!master_params.as_root)
		return;
	if (seteuid(0) < 0 || setegid(0) < 0)
		msg_fatal("cannot switch back to root: %s", strerror(errno));
}

/*
 * Berkeley DB asks whether a process registered in the environment is
 * alive.  master itself and its children are known from the child table
 * (a reaped child is gone from it even if its zombie lingered); any other
 * process (a command such as pansuper) is asked with kill(pid, 0).
 */
static int
master_queue_isalive(pid_t pid)
{
	if (pid == getpid() || master_child_known(pid))
		return 1;
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void
master_queue_open_recovered(void)
{
	int r;

	master_queue_become_owner();
	if (faccessat(AT_FDCWD, master_params.queue_dir, X_OK, AT_EACCESS) <
		0 &&
	    errno == EACCES) {
		master_queue_become_root();
		msg_fatal(
		    "mail_owner %s cannot reach %s: every directory above "
		    "it must be searchable by that user",
		    master_params.mail_owner, master_params.queue_dir);
	}
	r = queue_env_recover(master_params.queue_dir, master_queue_isalive,
			      &master_queue);
	master_queue_become_root();
	if (r != QUEUE_OK)
		msg_fatal("cannot recover the queue in %s/db",
			  master_params.queue_dir);
}

static void
master_queue_checkpoint(void *ctx)
{
	(void)ctx;
	if (master_queue) {
		master_queue_become_owner();
		if (queue_checkpoint(master_queue) == QUEUE_RECOVER)
			msg_warn("queue checkpoint: the environment needs "
				 "recovery");
		master_queue_become_root();
	}
	event_timer_add(MASTER_CHECKPOINT_MS, master_queue_checkpoint, NULL);
}

/* Lets lock waiters behind a stopped process time out (queue.h). */
static void
master_queue_lock_expire(void *ctx)
{
	(void)ctx;
	if (master_queue) {
		master_queue_become_owner();
		(void)queue_lock_expire(master_queue);
		master_queue_become_root();
	}
	event_timer_add(MASTER_LOCK_EXPIRE_MS, master_queue_lock_expire, NULL);
}

void
master_queue_recover(void)
{
	master_queue_open_recovered();
	msg_info("queue %s/db: recovery done", master_params.queue_dir);
	event_timer_add(MASTER_CHECKPOINT_MS, master_queue_checkpoint, NULL);
	event_timer_add(MASTER_LOCK_EXPIRE_MS, master_queue_lock_expire, NULL);
}

void
master_child_abnormal(pid_t pid, int status)
{
	int r;

	(void)status;
	/* The children ended for a recovery are not news. */
	if (master_queue == NULL || master_queue_recovering)
		return;
	master_queue_become_owner();
	r = queue_env_failchk(master_queue);
	master_queue_become_root();
	if (r == QUEUE_OK)
		return;
	msg_warn("queue: process %ld died leaving the queue in need of "
		 "recovery; restarting every daemon and recovering",
		 (long)pid);
	/* Recovery must not run while any process has the old environment
	 * open: a daemon blocked on a lock of the dead process would wait
	 * for ever, and one still committing would write into it. */
	master_queue_recovering = 1;
	master_restart_children();
	master_queue_become_owner();
	queue_close(master_queue);
	master_queue = NULL;
	master_queue_become_root();
	master_queue_open_recovered();
	master_queue_recovering = 0;
	msg_info("queue %s/db: recovery done", master_params.queue_dir);
}

void
master_queue_close(void)
{
	if (master_queue == NULL)
		return;
	master_queue_become_owner();
	queue_close(master_queue);
	master_queue_become_root();
	master_queue = NULL;
}
