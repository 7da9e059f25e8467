// SPDX-License-Identifier: GPL-2.0
/*
 * A dynamic parallel-for on the compute core's pool: threads take task
 * indices from a shared counter, so uneven tasks (attention rows of
 * different lengths) balance themselves.
 */
#include <stdlib.h>

#include "daemon/engine/model/pool.h"
#include "libcore/pool.h"

struct bn_pool {
	struct bnc_pool *core;
};

struct pool_job {
	uint32_t n;
	uint32_t next; /* atomically incremented */
	void (*fn)(void *ctx, uint32_t i, uint32_t worker);
	void *ctx;
};

struct bn_pool *bn_pool_new(int threads)
{
	struct bn_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->core = bnc_pool_new(threads);
	if (!p->core) {
		free(p);
		return NULL;
	}
	return p;
}

void bn_pool_free(struct bn_pool *p)
{
	if (!p)
		return;
	bnc_pool_free(p->core);
	free(p);
}

uint32_t bn_pool_threads(const struct bn_pool *p)
{
	return (uint32_t)bnc_pool_threads(p->core);
}

struct bnc_pool *bn_pool_core(struct bn_pool *p)
{
	return p->core;
}

static void pool_worker(void *arg, int index, int count)
{
	struct pool_job *job = arg;
	uint32_t i;

	(void)count;
	while ((i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->n)
		job->fn(job->ctx, i, (uint32_t)index);
}

void bn_pool_for(struct bn_pool *p, uint32_t n, void (*fn)(void *ctx, uint32_t i, uint32_t worker),
		 void *ctx)
{
	struct pool_job job = { .n = n, .next = 0, .fn = fn, .ctx = ctx };
	uint32_t i;

	if (n == 1 || bn_pool_threads(p) == 1) {
		for (i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	bnc_pool_run(p->core, pool_worker, &job);
}
