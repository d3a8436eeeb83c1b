/*
 * events - a small poll(2) event loop with timers and signals.
 *
 * One loop per process (global state, as in Postfix).  Callbacks run from
 * event_loop(), never from a signal handler: event_signal() installs a
 * handler that writes the signal number to a self-pipe, and the loop calls
 * the registered callback later.  A callback may add or remove any fd or
 * timer, including its own.  Timers are one-shot, ordered by deadline on
 * the monotonic clock; ids are never reused within a process.
 *
 * After fork(), a child that does not want its parent's registrations
 * calls event_reset() (it also closes the self-pipe and restores the
 * default signal dispositions of handled signals).  Until then (or its
 * exec), a handled signal that reaches the child takes its default
 * action: it never reaches the parent's loop through the shared pipe.
 */
#ifndef PANACEA_EVENTS_H
#define PANACEA_EVENTS_H

#define EVENT_READ 0x1
#define EVENT_WRITE 0x2
#define EVENT_ERROR 0x4 /* delivered with READ/WRITE on POLLERR/POLLHUP */

typedef void (*event_fd_fn)(int fd, int events, void *ctx);
typedef void (*event_timer_fn)(void *ctx);
typedef void (*event_signal_fn)(int signo, void *ctx);

/* Watches fd for the given EVENT_READ/EVENT_WRITE mask (replacing any
 * earlier registration); mask 0 is event_fd_remove(). */
void event_fd_set(int fd, int mask, event_fd_fn fn, void *ctx);
void event_fd_remove(int fd);

/* Calls fn(ctx) once after delay_ms; returns an id (> 0). */
unsigned long event_timer_add(long long delay_ms, event_timer_fn fn, void *ctx);
/* Cancelling an id that already fired or was cancelled is a no-op. */
void event_timer_cancel(unsigned long id);

/* Routes signo to fn through the self-pipe. */
void event_signal(int signo, event_signal_fn fn, void *ctx);

/* One round: waits up to max_wait_ms (-1 = until something happens, or
 * the next timer), dispatches what is ready and the timers that are due.
 * Returns the number of callbacks run. */
int event_loop(long long max_wait_ms);
/* Runs rounds until event_stop() is called. */
void event_run(void);
void event_stop(void);
void event_reset(void);

#endif
