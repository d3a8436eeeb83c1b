/*
 * lock_helper - the spool dotlock made by a session's root parent; the
 * protocol is in lock_helper.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock_helper.h"
#include "mbox.h"
#include "msg.h"

#define REQ_LOCK 'L'
#define REQ_UNLOCK 'U'
#define ANS_DONE '0'
#define ANS_BUSY '1'
#define ANS_REFUSED '2'

static void
unlock_path(const char *path)
{
	if (mbox_dotunlock(path) < 0)
		msg_warn("cannot remove lock file %s.lock: %s", path,
			 strerror(errno));
}

/* The answer to one request; *held follows the lock. */
static char
answer(const struct lock_helper_config *cfg, const char *path, int spool_mbox,
       char req, int *held)
{
	struct buf why = BUF_INIT;
	char ans = ANS_REFUSED;

	if (req == REQ_LOCK && !*held && spool_mbox) {
		switch (mbox_dotlock_wait(path, cfg->stale, cfg->attempts,
					  cfg->delay, &why)) {
		case MBOX_LOCK_OK:
			*held = 1;
			ans = ANS_DONE;
			break;
		case MBOX_LOCK_BUSY:
			ans = ANS_BUSY;
			break;
		default:
			msg_warn("%s", buf_cstr(&why));
			break;
		}
	} else if (req == REQ_UNLOCK && *held) {
		unlock_path(path);
		*held = 0;
		ans = ANS_DONE;
	}
	buf_free(&why);
	return ans;
}

void
lock_helper_serve(const struct lock_helper_config *cfg, const char *path,
		  int spool_mbox, int sock, pid_t pid)
{
	int held = 0, status = 0;
	ssize_t n;
	char req, ans;

	for (;;) {
		n = read(sock, &req, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ans = answer(cfg, path, spool_mbox, req, &held);
		if (write(sock, &ans, 1) != 1)
			break;
	}
	if (held)
		unlock_path(path);
	close(sock);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	if (WIFSIGNALED(status))
		msg_warn("session process %ld killed by signal %d", (long)pid,
			 WTERMSIG(status));
}

/* One request and its answer; the answer, or 0 when the parent is gone. */
static char
ask(int sock, char req)
{
	char ans;

	if (write(sock, &req, 1) != 1 || read(sock, &ans, 1) != 1)
		return 0;
	return ans;
}

int
lock_helper_lock(int sock, struct buf *why)
{
	switch (ask(sock, REQ_LOCK)) {
	case ANS_DONE:
		return MBOX_LOCK_OK;
	case ANS_BUSY:
		buf_set(why, "lock file exists");
		return MBOX_LOCK_BUSY;
	case 0:
		buf_set(why, "the lock helper is gone");
		return MBOX_LOCK_ERROR;
	default:
		buf_set(why, "cannot create lock file");
		return MBOX_LOCK_ERROR;
	}
}

int
lock_helper_unlock(int sock)
{
	return ask(sock, REQ_UNLOCK) == ANS_DONE ? 0 : -1;
}
