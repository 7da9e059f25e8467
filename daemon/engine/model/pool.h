/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's parallel-for over the compute core's thread pool, for the
 * float work of the forward pass (attention, output head).
 */
#ifndef BITNET_ENGINE_POOL_H
#define BITNET_ENGINE_POOL_H

#include <stdint.h>

struct bn_pool;
struct bnc_pool;

/* @threads: 0 = all online CPUs. NULL on failure. */
struct bn_pool *bn_pool_new(int threads);
void bn_pool_free(struct bn_pool *p);
uint32_t bn_pool_threads(const struct bn_pool *p);
/* The core pool underneath, for the cpu backend to share. */
struct bnc_pool *bn_pool_core(struct bn_pool *p);
/*
 * Calls fn(ctx, i, worker) for every i in [0, n), spread over the pool's
 * threads (worker in [0, bn_pool_threads())); returns when all are done.
 */
void bn_pool_for(struct bn_pool *p, uint32_t n, void (*fn)(void *ctx, uint32_t i, uint32_t worker),
		 void *ctx);

#endif /* BITNET_ENGINE_POOL_H */
