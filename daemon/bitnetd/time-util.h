/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's clock: CLOCK_MONOTONIC in microseconds.
 */
#ifndef BITNETD_TIME_UTIL_H
#define BITNETD_TIME_UTIL_H

#include <stdint.h>
#include <time.h>

static inline uint64_t bnetd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

#endif /* BITNETD_TIME_UTIL_H */
