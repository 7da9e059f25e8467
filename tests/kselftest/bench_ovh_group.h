/* SPDX-License-Identifier: GPL-2.0 */
/* bitnet_bench_ovh: a dispatch group through the engine's backends. */
#ifndef BITNET_KSFT_BENCH_OVH_GROUP_H
#define BITNET_KSFT_BENCH_OVH_GROUP_H

#include <stdint.h>

uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC */
/* qsort() comparison of doubles. */
int bench_cmp_double(const void *a, const void *b);
/* Prints one line per backend; returns the number of failures. */
int bench_group(uint32_t rows, uint32_t cols, int have_dev);

#endif /* BITNET_KSFT_BENCH_OVH_GROUP_H */
