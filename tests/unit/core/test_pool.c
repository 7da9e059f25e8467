// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace thread pool: every index runs exactly once per dispatch,
 * over many back-to-back dispatches (spinning and sleeping workers both),
 * and a pooled matmul equals the single-threaded one.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "tests/unit/core/core_test.h"
#include "libcore/pool.h"

struct count_job {
	_Atomic int hits[8];
	_Atomic int count_seen;
};

static void count_fn(void *arg, int index, int count)
{
	struct count_job *j = arg;

	atomic_fetch_add(&j->hits[index], 1);
	atomic_store(&j->count_seen, count);
}

static void test_dispatch(int threads, int rounds, int sleep_us)
{
	struct bnc_pool *pool = bnc_pool_new(threads);
	struct count_job job;
	int r, i, ok = pool != NULL;

	memset(&job, 0, sizeof(job));
	for (r = 0; ok && r < rounds; r++) {
		bnc_pool_run(pool, count_fn, &job);
		if (sleep_us)
			usleep(sleep_us); /* let the workers go to sleep */
	}
	for (i = 0; ok && i < 8; i++)
		ok &= atomic_load(&job.hits[i]) == (i < threads ? rounds : 0);
	ok &= atomic_load(&job.count_seen) == threads && bnc_pool_threads(pool) == threads;
	tap_ok(ok, "%d threads, %d dispatches%s: each index ran once per dispatch", threads, rounds,
	       sleep_us ? " with sleeps between" : "");
	bnc_pool_free(pool);
}

static void test_pool_matmul(void)
{
	u32 rows = 203, cols = 512, n = 5, i;
	s8 *t = test_alloc(rows * cols), *q = test_alloc(n * cols);
	s32 *ref = test_alloc(n * rows * 4), *out = test_alloc(n * rows * 4);
	float *fref = test_alloc(n * rows * 4), *fout = test_alloc(n * rows * 4);
	float sigma[5] = { 1.0f, 0.5f, 3.0f, 100.0f, 7.0f };
	struct bnc_act x = { .n = n, .k = cols, .q = q, .sigma = sigma };
	struct bnc_pool *pool = bnc_pool_new(3);
	struct bnc_matrix w;
	int ok = pool != NULL;

	test_random_t(t, rows, cols, 1);
	for (i = 0; i < n * cols; i++)
		q[i] = (s8)test_rand();
	test_ref_matmul(t, rows, cols, q, n, ref);
	ok &= !test_make_matrix(t, rows, cols, 0x3e000000, &w);
	ok &= !bnc_pool_matmul_i32(pool, bnc_isa_best(), &w, &x, out, rows);
	ok &= !memcmp(ref, out, n * rows * 4);
	ok &= !bnc_matmul_f32(bnc_isa_best(), &w, &x, 0, rows, 0, n, fref, rows);
	ok &= !bnc_pool_matmul_f32(pool, bnc_isa_best(), &w, &x, fout, rows);
	ok &= !memcmp(fref, fout, n * rows * 4);
	ok &= bnc_pool_matmul_i32(pool, BNC_ISA_COUNT, &w, &x, out, rows) == -EINVAL;
	ok &= bnc_pool_matmul_f32(pool, bnc_isa_best(), &w, &x, NULL, rows) == -EINVAL;
	tap_ok(ok, "pooled matmul (3 threads, 203 rows) equals one thread; errors come back");
	bnc_pool_free(pool);
	free(w.data);
	free(t);
	free(q);
	free(ref);
	free(out);
	free(fref);
	free(fout);
}

struct many_job {
	_Atomic int hits[64];
	_Atomic int bad_count;
};

static void many_fn(void *arg, int index, int count)
{
	struct many_job *j = arg;

	if (count != 37)
		atomic_store(&j->bad_count, 1);
	atomic_fetch_add(&j->hits[index], 1);
}

/* More tasks than threads, and no tasks at all. */
static void test_run_n(void)
{
	struct bnc_pool *pool = bnc_pool_new(2);
	struct many_job job;
	int r, i, ok = pool != NULL;

	memset(&job, 0, sizeof(job));
	for (r = 0; ok && r < 2000; r++) {
		bnc_pool_run_n(pool, many_fn, &job, 37);
		bnc_pool_run_n(pool, many_fn, &job, 0);
	}
	for (i = 0; ok && i < 64; i++)
		ok &= atomic_load(&job.hits[i]) == (i < 37 ? 2000 : 0);
	tap_ok(ok && !atomic_load(&job.bad_count),
	       "37 tasks on 2 threads, 2000 times: each task ran once");
	bnc_pool_free(pool);
}

/* q, k, v-like weights of different heights in one dispatch. */
static void test_pool_multi(void)
{
	static const u32 heights[3] = { 64, 17, 35 };
	u32 cols = 384, n = 3, i, j;
	s8 *q = test_alloc(n * cols), *t[3];
	s32 *ref[3], *out[3];
	struct bnc_matrix w[3];
	const struct bnc_matrix *wp[3] = { &w[0], &w[1], &w[2] };
	struct bnc_act x = { .n = n, .k = cols, .q = q };
	struct bnc_pool *pool = bnc_pool_new(2);
	int ok = pool != NULL;

	for (i = 0; i < n * cols; i++)
		q[i] = (s8)test_rand();
	for (j = 0; j < 3; j++) {
		t[j] = test_alloc(heights[j] * cols);
		ref[j] = test_alloc(n * heights[j] * 4);
		out[j] = test_alloc(n * heights[j] * 4);
		test_random_t(t[j], heights[j], cols, 0);
		test_ref_matmul(t[j], heights[j], cols, q, n, ref[j]);
		ok &= !test_make_matrix(t[j], heights[j], cols, 0x3f800000, &w[j]);
	}
	ok &= !bnc_pool_matmul_multi_i32(pool, bnc_isa_best(), wp, 3, &x, out);
	for (j = 0; j < 3; j++)
		ok &= !memcmp(ref[j], out[j], n * heights[j] * 4);
	ok &= bnc_pool_matmul_multi_i32(pool, bnc_isa_best(), wp, 0, &x, out) == -EINVAL;
	tap_ok(ok, "three weights (64, 17, 35 rows) in one pooled dispatch match");
	for (j = 0; j < 3; j++) {
		free(t[j]);
		free(ref[j]);
		free(out[j]);
		free(w[j].data);
	}
	free(q);
	bnc_pool_free(pool);
}

int main(void)
{
	test_dispatch(1, 1000, 0);
	test_dispatch(2, 20000, 0);
	test_dispatch(4, 5000, 0);
	test_dispatch(2, 20, 300);
	test_run_n();
	test_pool_matmul();
	test_pool_multi();
	tap_plan(tap_n);
	return tap_exit();
}
