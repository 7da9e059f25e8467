/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace thread pool of the compute core (libcore/pool.c; not in the
 * kernel build). A job is a number of tasks; every running thread,
 * the caller included, claims tasks until none is left, so a worker that
 * the machine has not scheduled yet delays nothing. Workers spin briefly
 * after a job, then sleep on a futex, so back-to-back dispatches (a decode
 * step makes hundreds) cost little and idle pools cost nothing. One
 * caller at a time per pool.
 */
#ifndef BNC_POOL_H
#define BNC_POOL_H

#include "kmod/core/bitnet_core.h"

struct bnc_pool;

/*
 * A task: fn(arg, index, count), each index in 0..count-1 run exactly once,
 * on whichever thread claims it (tasks of one job may run concurrently).
 */
typedef void (*bnc_pool_fn)(void *arg, int index, int count);

/* @threads <= 0: one per online CPU. NULL on failure. */
struct bnc_pool *bnc_pool_new(int threads);
int bnc_pool_threads(const struct bnc_pool *pool);
/* Runs @count tasks; returns when all have finished. */
void bnc_pool_run_n(struct bnc_pool *pool, bnc_pool_fn fn, void *arg, int count);
/* bnc_pool_run_n() with one task per thread. */
void bnc_pool_run(struct bnc_pool *pool, bnc_pool_fn fn, void *arg);
void bnc_pool_free(struct bnc_pool *pool);

/*
 * A whole matmul (all rows of @w, all x->n tokens) split into row tiles
 * over the pool: out[n * out_stride + m]. Same errors as bnc_matmul_*().
 */
int bnc_pool_matmul_i32(struct bnc_pool *pool, enum bnc_isa isa, const struct bnc_matrix *w,
			const struct bnc_act *x, s32 *out, size_t out_stride);
int bnc_pool_matmul_f32(struct bnc_pool *pool, enum bnc_isa isa, const struct bnc_matrix *w,
			const struct bnc_act *x, float *out, size_t out_stride);

/*
 * @n_w weights sharing K and the tokens of @x (q/k/v, gate/up) in one
 * dispatch: out[i][n * w[i]->rows + m]. The row blocks of all weights are
 * shared out evenly, so small matrices do not leave threads idle.
 */
int bnc_pool_matmul_multi_i32(struct bnc_pool *pool, enum bnc_isa isa,
			      const struct bnc_matrix *const *w, u32 n_w, const struct bnc_act *x,
			      s32 *const *out);
int bnc_pool_matmul_multi_f32(struct bnc_pool *pool, enum bnc_isa isa,
			      const struct bnc_matrix *const *w, u32 n_w, const struct bnc_act *x,
			      float *const *out);

#endif /* BNC_POOL_H */
