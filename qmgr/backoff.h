/*
 * backoff - when to try a deferred message again.
 *
 * The delay after the Nth failed attempt doubles with each attempt:
 * minimal_backoff_time, 2x, 4x, ... up to maximal_backoff_time (Postfix's
 * range, with an explicit attempt count instead of the message's age).
 * Pure and overflow-safe: a huge attempt count yields the maximum, never a
 * wrapped value.  A maximum below the minimum is raised to the minimum.
 */
#ifndef PANACEA_BACKOFF_H
#define PANACEA_BACKOFF_H

#include <stdint.h>

/* Seconds to wait after attempt number attempts (1 for the first failed
 * attempt; 0 counts as 1).  min_sec >= 1 is expected; 0 is taken as 1. */
int64_t backoff_delay(uint32_t attempts, int64_t min_sec, int64_t max_sec);

#endif
