/*
 * clock - the one wall clock; see clock.h.
 */
#include "clock.h"

void
clock_wall_tv(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
}

time_t
clock_wall(void)
{
	struct timeval tv;

	clock_wall_tv(&tv);
	return tv.tv_sec;
}
