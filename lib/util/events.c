/*
 * events - a small poll(2) event loop with timers and signals; see events.h.
 *
 * Descriptors live in a table indexed by fd.  Every registration gets a
 * fresh generation number, so that a round can tell whether the
 * registration it polled is still the one in place when its turn comes: a
 * callback may remove another fd, or close it and register a new
 * descriptor that reuses the number, and the stale readiness must not be
 * delivered to it.  Polling is level-triggered, so skipping costs nothing.
 *
 * Timers sit in a binary min-heap ordered by (deadline, id); ids grow
 * monotonically, so equal deadlines fire in the order they were added.  A
 * round only fires timers that existed when the round began, so a callback
 * that re-arms itself with a zero delay cannot starve the descriptors.
 *
 * Signals: the handler writes the signal number as one byte to a
 * non-blocking self-pipe (a full pipe drops the byte; the signal is
 * already pending in the pipe then), preserving errno; the loop reads the
 * pipe and calls the registered callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "msg.h"
#include "xalloc.h"

struct fd_reg {
	int mask; /* 0: slot unused */
	event_fd_fn fn;
	void *ctx;
	unsigned long gen;
};

struct timer {
	long long deadline; /* monotonic milliseconds */
	unsigned long id;
	event_timer_fn fn;
	void *ctx;
};

struct sig_reg {
	event_signal_fn fn;
	void *ctx;
};

static struct fd_reg *fd_tab;
static int fd_tab_size;
static unsigned long fd_gen;

static struct timer *timers;
static size_t timer_count;
static size_t timer_cap;
static unsigned long timer_last_id;

#define SIG_MAX 65 /* signal numbers 1..64 (Linux NSIG) */
static struct sig_reg sig_tab[SIG_MAX];
static int sig_pipe[2] = {-1, -1};
/* The process the self-pipe belongs to.  A child forked from it shares
 * the pipe until it execs or calls event_reset(): a signal it gets in
 * between must not reach the parent's loop as the parent's own (master
 * read a SIGTERM sent to a child it had just forked as a SIGTERM to
 * itself, and stopped). */
static pid_t sig_pipe_pid;

static volatile int loop_stopped;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Descriptors. */

void
event_fd_set(int fd, int mask, event_fd_fn fn, void *ctx)
{
	mask &= EVENT_READ | EVENT_WRITE;
	if (fd < 0)
		msg_panic("event_fd_set: bad fd %d", fd);
	if (mask == 0) {
		event_fd_remove(fd);
		return;
	}
	if (fn == NULL)
		msg_panic("event_fd_set: fd %d: no callback", fd);
	if (fd >= fd_tab_size) {
		int size = fd_tab_size ? fd_tab_size : 16;

		while (size <= fd)
			size *= 2;
		fd_tab = xreallocarray(fd_tab, size, sizeof(*fd_tab));
		memset(fd_tab + fd_tab_size, 0,
		       (size - fd_tab_size) * sizeof(*fd_tab));
		fd_tab_size = size;
	}
	fd_tab[fd].mask = mask;
	fd_tab[fd].fn = fn;
	fd_tab[fd].ctx = ctx;
	fd_tab[fd].gen = ++fd_gen;
}

void
event_fd_remove(int fd)
{
	if (fd >= 0 && fd < fd_tab_size)
		memset(&fd_tab[fd], 0, sizeof(fd_tab[fd]));
}

/* Timers: a binary min-heap on (deadline, id). */

static int
timer_before(const struct timer *a, const struct timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->id < b->id;
}

static void
timer_swap(size_t i, size_t j)
{
	struct timer t = timers[i];

	timers[i] = timers[j];
	timers[j] = t;
}

static void
timer_sift_up(size_t i)
{
	while (i > 0 && timer_before(&timers[i], &timers[(i - 1) / 2])) {
		timer_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
timer_sift_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < timer_count && timer_before(&timers[l], &timers[min]))
			min = l;
		if (r < timer_count && timer_before(&timers[r], &timers[min]))
			min = r;
		if (min == i)
			return;
		timer_swap(i, min);
		i = min;
	}
}

static void
timer_remove_at(size_t i)
{
	timer_count--;
	if (i == timer_count)
		return;
	timers[i] = timers[timer_count];
	timer_sift_down(i);
	timer_sift_up(i);
}

unsigned long
event_timer_add(long long delay_ms, event_timer_fn fn, void *ctx)
{
	struct timer *t;

	if (fn == NULL)
		msg_panic("event_timer_add: no callback");
	if (delay_ms < 0)
		delay_ms = 0;
	/* Far-away deadlines are clamped rather than overflowed. */
	if (delay_ms > LLONG_MAX / 4)
		delay_ms = LLONG_MAX / 4;
	if (timer_count == timer_cap) {
		timer_cap = timer_cap ? 2 * timer_cap : 16;
		timers = xreallocarray(timers, timer_cap, sizeof(*timers));
	}
	t = &timers[timer_count];
	t->deadline = now_ms() + delay_ms;
	t->id = ++timer_last_id;
	t->fn = fn;
	t->ctx = ctx;
	timer_sift_up(timer_count++);
	return timer_last_id;
}

void
event_timer_cancel(unsigned long id)
{
	size_t i;

	for (i = 0; i < timer_count; i++) {
		if (timers[i].id == id) {
			timer_remove_at(i);
			return;
		}
	}
}

/* Signals. */

static void
sig_handler(int signo)
{
	int saved = errno;
	unsigned char c = (unsigned char)signo;
	ssize_t n;

	if (getpid() != sig_pipe_pid) {
		/* Not the loop's process: the signal's default action, as
		 * if the handler had been reset at fork. */
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = SIG_DFL;
		(void)sigaction(signo, &sa, NULL);
		(void)raise(signo);
		errno = saved;
		return;
	}
	n = write(sig_pipe[1], &c, 1);
	(void)n;
	errno = saved;
}

void
event_signal(int signo, event_signal_fn fn, void *ctx)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= SIG_MAX)
		msg_panic("event_signal: bad signal %d", signo);
	if (sig_pipe[0] >= 0 && sig_pipe_pid != getpid()) {
		/* A forked child's own loop gets a pipe of its own. */
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		sig_pipe[0] = sig_pipe[1] = -1;
	}
	if (sig_pipe[0] < 0) {
		if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
			msg_fatal("event_signal: pipe: %m");
		sig_pipe_pid = getpid();
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = fn ? sig_handler : SIG_DFL;
	sig_tab[signo].fn = fn;
	sig_tab[signo].ctx = ctx;
	if (sigaction(signo, &sa, NULL) != 0)
		msg_fatal("event_signal: sigaction %d: %m", signo);
}

static int
sig_dispatch(void)
{
	unsigned char sigs[64];
	ssize_t n;
	int ran = 0;

	while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			struct sig_reg *r = &sig_tab[sigs[i] % SIG_MAX];

			if (r->fn != NULL) {
				r->fn(sigs[i], r->ctx);
				ran++;
			}
		}
	}
	return ran;
}

/* The loop. */

static int
poll_timeout(long long max_wait_ms)
{
	long long wait = max_wait_ms;

	if (timer_count > 0) {
		long long due = timers[0].deadline - now_ms();

		if (due < 0)
			due = 0;
		if (wait < 0 || due < wait)
			wait = due;
	}
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

static int
revents_mask(short revents, int mask)
{
	int ev = 0;

	if (revents & POLLIN)
		ev |= EVENT_READ;
	if (revents & POLLOUT)
		ev |= EVENT_WRITE;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		ev |= EVENT_ERROR | mask;
	return ev;
}

static int
timers_dispatch(void)
{
	unsigned long last_id = timer_last_id;
	long long now = now_ms();
	int ran = 0;

	/*
	 * A timer added by a callback has a deadline >= now and a larger id,
	 * so it sorts after every timer that was already due: stopping at the
	 * first new one at the top leaves no old due timer behind.
	 */
	while (timer_count > 0 && timers[0].deadline <= now &&
	       timers[0].id <= last_id) {
		struct timer t = timers[0];

		timer_remove_at(0);
		t.fn(t.ctx);
		ran++;
	}
	return ran;
}

int
event_loop(long long max_wait_ms)
{
	struct pollfd *pfd;
	unsigned long *gens;
	int npfd = 0, ready, ran = 0, timeout;

	/* Allocated per round, so that a callback may itself run a round. */
	pfd = xreallocarray(NULL, (size_t)fd_tab_size + 1, sizeof(*pfd));
	gens = xreallocarray(NULL, (size_t)fd_tab_size + 1, sizeof(*gens));
	if (sig_pipe[0] >= 0) {
		pfd[npfd].fd = sig_pipe[0];
		pfd[npfd].events = POLLIN;
		gens[npfd++] = 0;
	}
	for (int fd = 0; fd < fd_tab_size; fd++) {
		if (fd_tab[fd].mask == 0)
			continue;
		pfd[npfd].fd = fd;
		pfd[npfd].events =
		    (fd_tab[fd].mask & EVENT_READ ? POLLIN : 0) |
		    (fd_tab[fd].mask & EVENT_WRITE ? POLLOUT : 0);
		gens[npfd++] = fd_tab[fd].gen;
	}
	timeout = poll_timeout(max_wait_ms);
	ready = poll(pfd, (nfds_t)npfd, timeout);
	if (ready < 0 && errno != EINTR)
		msg_fatal("event_loop: poll: %m");
	for (int i = 0; ready > 0 && i < npfd; i++) {
		struct fd_reg *r;
		int fd = pfd[i].fd, ev;

		if (pfd[i].revents == 0)
			continue;
		if (fd == sig_pipe[0] && gens[i] == 0) {
			ran += sig_dispatch();
			continue;
		}
		/* Still the registration that was polled? */
		if (fd >= fd_tab_size || fd_tab[fd].gen != gens[i])
			continue;
		r = &fd_tab[fd];
		ev = revents_mask(pfd[i].revents, r->mask);
		if ((ev & (EVENT_READ | EVENT_WRITE | EVENT_ERROR)) == 0)
			continue;
		r->fn(fd, ev, r->ctx);
		ran++;
	}
	xfree(pfd);
	xfree(gens);
	ran += timers_dispatch();
	return ran;
}

void
event_run(void)
{
	loop_stopped = 0;
	while (!loop_stopped)
		event_loop(-1);
}

void
event_stop(void)
{
	loop_stopped = 1;
}

void
event_reset(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < SIG_MAX; s++) {
		if (sig_tab[s].fn != NULL)
			sigaction(s, &sa, NULL);
		sig_tab[s].fn = NULL;
		sig_tab[s].ctx = NULL;
	}
	if (sig_pipe[0] >= 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		sig_pipe[0] = sig_pipe[1] = -1;
	}
	xfree(fd_tab);
	fd_tab = NULL;
	fd_tab_size = 0;
	xfree(timers);
	timers = NULL;
	timer_count = timer_cap = 0;
	loop_stopped = 0;
}
