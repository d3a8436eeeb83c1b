/*
 * queue_id - queue ids: unique, printable, sortable by arrival; see queue.h.
 *
 * 11 base-32 digits of microseconds since the epoch, then 5 of the pid.
 * Uniqueness within a process comes from never reusing a microsecond
 * (the clock is stepped forward by hand when it has not moved or went
 * back); across processes from the pid; across restarts from time itself.
 */
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "queue.h"

#define TIME_DIGITS 11
#define PID_DIGITS (QUEUE_ID_LEN - TIME_DIGITS)

static const char alphabet[] = QUEUE_ID_ALPHABET;

static void
put_base32(char *out, int digits, uint64_t value)
{
	while (digits-- > 0) {
		out[digits] = alphabet[value & 31];
		value >>= 5;
	}
}

void
queue_id_make(char id[QUEUE_ID_SIZE], uint64_t usec, uint32_t pid)
{
	put_base32(id, TIME_DIGITS, usec);
	put_base32(id + TIME_DIGITS, PID_DIGITS, pid);
	id[QUEUE_ID_LEN] = '\0';
}

void
queue_id_new(char id[QUEUE_ID_SIZE], struct timeval *tv)
{
	static uint64_t last;
	struct timeval now;
	uint64_t usec;

	gettimeofday(&now, NULL);
	usec = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_usec;
	if (usec <= last)
		usec = last + 1;
	last = usec;
	queue_id_make(id, usec, (uint32_t)getpid());
	if (tv) {
		tv->tv_sec = (time_t)(usec / 1000000);
		tv->tv_usec = (suseconds_t)(usec % 1000000);
	}
}

time_t
queue_now(void)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return now.tv_sec;
}

static int
digit_value(int c)
{
	const char *p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

int
queue_id_valid(const char *s)
{
	int i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (digit_value((unsigned char)s[i]) < 0)
			return 0;
	return s[QUEUE_ID_LEN] == '\0';
}

uint64_t
queue_id_usec(const char *id)
{
	uint64_t v = 0;
	int i, d;

	for (i = 0; i < TIME_DIGITS; i++) {
		d = digit_value((unsigned char)id[i]);
		v = (v << 5) | (uint64_t)(d < 0 ? 0 : d);
	}
	return v;
}
