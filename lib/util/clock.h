/*
 * clock - the one wall clock the queue and its scheduler share.
 *
 * Invariant: a time a program stores (a message's arrival, a next
 * attempt) and the time another program compares it with come from the
 * same clock.  glibc's time() reads the kernel's coarse clock, which lags
 * gettimeofday() by up to a clock tick (measured up to 5.4 ms on the
 * development machine): a message queued in the first milliseconds of a
 * second, stamped by gettimeofday(), looked "not due yet" to a scheduler
 * asking time(), and waited for the next queue run (queue_run_delay).
 * Every wall-clock second that is compared with a stored time therefore
 * comes from clock_wall(), never from time().
 *
 * Intervals and timeouts use the monotonic clock (io_now_ms, iostuff.h).
 */
#ifndef PANACEA_CLOCK_H
#define PANACEA_CLOCK_H

#include <sys/time.h>
#include <time.h>

/* The current time with microseconds (CLOCK_REALTIME, precise). */
void clock_wall_tv(struct timeval *tv);
/* Its seconds: what time() would say if it did not lag. */
time_t clock_wall(void);

#endif
