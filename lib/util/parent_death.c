/*
 * parent_death - a child that outlives its parent ends; see
 * parent_death.h.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "parent_death.h"

static volatile unsigned grace_seconds;
static volatile int release_first = -1;
static volatile int release_count;

int
parent_death_signal(pid_t parent, int sig)
{
	(void)prctl(PR_SET_PDEATHSIG, sig);
	return getppid() == parent ? 0 : -1;
}

/* Async-signal-safe: only alarm(). */
static void
parent_died(int sig)
{
	int saved = errno;

	(void)sig;
	/* shutdown(2) and alarm(2) are async-signal-safe. */
	for (int i = 0; i < release_count; i++)
		(void)shutdown(release_first + i, SHUT_RDWR);
	alarm(grace_seconds);
	errno = saved;
}

void
parent_death_release(int first_fd, int n)
{
	/* Never a moment where the handler sees the new first with the
	 * old count. */
	release_count = 0;
	release_first = first_fd;
	release_count = n > 0 ? n : 0;
}

int
parent_death_grace(pid_t parent, unsigned grace_s)
{
	struct sigaction sa;

	grace_seconds = grace_s > 0 ? grace_s : 1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = parent_died;
	sa.sa_flags = SA_RESTART;
	(void)sigaction(SIGUSR2, &sa, NULL);
	(void)signal(SIGALRM, SIG_DFL);
	return parent_death_signal(parent, SIGUSR2);
}
