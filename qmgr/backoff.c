/*
 * backoff - exponential retry delay between a minimum and a maximum; see
 * backoff.h.
 */
#include "backoff.h"

int64_t
backoff_delay(uint32_t attempts, int64_t min_sec, int64_t max_sec)
{
	int64_t delay;

	if (min_sec < 1)
		min_sec = 1;
	if (max_sec < min_sec)
		max_sec = min_sec;
	delay = min_sec;
	/* Doubling stops at the maximum, so delay never overflows. */
	for (uint32_t i = 1; i < attempts && delay < max_sec; i++)
		delay = delay > max_sec / 2 ? max_sec : delay * 2;
	return delay < max_sec ? delay : max_sec;
}
