/*
 * master_queue - where master looks after the Berkeley DB queue.
 *
 * DESIGN.md ("The queue"): master runs recovery before any daemon starts,
 * and DB_ENV->failchk after a daemon dies abnormally, so that locks held
 * by a dead process never wedge the queue.  The queue module does not
 * exist yet; these two hooks are where it plugs in, and master already
 * calls them at the right moments:
 *
 *  master_queue_recover()   once, after the pid file lock is taken (so no
 *                           other master can be recovering the same
 *                           environment) and before any listener is
 *                           opened or any child started.  It will open
 *                           $queue_directory/db with DB_RECOVER (as
 *                           mail_owner) and fail fatally when the
 *                           environment cannot be recovered.
 *
 *  master_child_abnormal()  from the SIGCHLD handling (event loop, not a
 *                           signal handler), for every child that did not
 *                           exit with status 0, after it has been reaped.
 *                           It will run DB_ENV->failchk with an is_alive
 *                           callback that answers from master's child
 *                           table (master_spawn.c).
 */
#include <sys/types.h>

#include "master.h"

void
master_queue_recover(void)
{
	/* No queue yet: nothing to recover. */
}

void
master_child_abnormal(pid_t pid, int status)
{
	/* No queue yet: no locks a dead process could hold. */
	(void)pid;
	(void)status;
}
