// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet_bench_ovh: per-job overhead of /dev/bitnet against calling the
 * compute core in-process, measured in the same run. Prints TAP (one
 * result: the benchmark ran and the results matched) with the numbers as
 * comments:
 *   - microseconds per 1-row job (1 x 2560, one token): in-process core,
 *     ring A (one ENTER per job), ring A batched (32 jobs per ENTER),
 *     io_uring B (one submit+wait per job);
 *   - time per GEMV of 2560 x 2560 and 6912 x 2560 and its ratio to the
 *     in-process core (one thread) on the same machine;
 *   - the engine's batched kernel path: a group of 3 such weights in one
 *     matmul call through the kmod backend (each submission path) against
 *     the cpu backend in-process (bench_ovh_group.c).
 * The paths are measured in alternation, ROUNDS times, and each path's
 * median is printed, so a drifting machine load biases no path.
 * Without the device only the in-process figures are printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ksft_common.h"
#include "bench_ovh_group.h"

#define BENCH_MIN_NS 100000000ULL /* one measurement runs this long */
#define ROUNDS 5		  /* paths alternate; the median is kept */
#define BATCH 32

struct bench_ctx {
	struct bnd_dev *dev;
	struct bnd_uring *u;
	struct kw w;
	struct ka a;
	uint32_t handle;
	int32_t *out;
	int32_t *ref;
};

enum bench_path {
	PATH_CORE,
	PATH_RING,
	PATH_RING_BATCH,
	PATH_URING
};

static int run_once(struct bench_ctx *c, enum bench_path p, uint32_t *jobs)
{
	struct bnc_act x = ka_act(&c->a);
	struct bitnet_cqe cqe;
	struct bitnet_job job;
	int i, done, ret;

	bnd_job_matmul(&job, c->handle, 1, c->a.q, NULL, c->a.sum, c->out, BITNET_OUT_I32);
	*jobs = 1;
	switch (p) {
	case PATH_CORE:
		return bnc_matmul_i32(bnc_isa_best(), &c->w.mat, &x, 0, c->w.rows, 0, 1, c->out,
				      c->w.rows);
	case PATH_RING:
		return bnd_run(c->dev, &job);
	case PATH_URING:
		return bnd_uring_run(c->u, &job);
	case PATH_RING_BATCH:
		for (i = 0; i < BATCH; i++)
			if (bnd_ring_push(c->dev, &job, i))
				return -EBUSY;
		ret = bnd_ring_enter(c->dev, BATCH, 1);
		if (ret != BATCH)
			return ret < 0 ? ret : -EIO;
		for (done = 0; done < BATCH;) {
			if (bnd_ring_pop(c->dev, &cqe) == 1) {
				if (cqe.res)
					return cqe.res;
				done++;
			} else if (bnd_ring_enter(c->dev, 1, 1) < 0) {
				return -EIO;
			}
		}
		*jobs = BATCH;
		return 0;
	}
	return -EINVAL;
}

/* Nanoseconds per job on @p, or a negative errno. */
static double measure(struct bench_ctx *c, enum bench_path p)
{
	uint64_t t0, elapsed, jobs = 0;
	uint32_t n;
	int ret;

	ret = run_once(c, p, &n); /* warm up */
	if (ret)
		return ret;
	t0 = bench_now_ns();
	do {
		ret = run_once(c, p, &n);
		if (ret)
			return ret;
		jobs += n;
		elapsed = bench_now_ns() - t0;
	} while (elapsed < BENCH_MIN_NS);
	return (double)elapsed / jobs;
}

static int setup(struct bench_ctx *c, uint32_t rows, uint32_t cols)
{
	struct bnc_act x;
	int ret;

	ret = kw_make(&c->w, BNC_FMT_I2_S, rows, cols, rows);
	if (!ret)
		ret = ka_make(&c->a, 1, cols, cols);
	if (ret)
		return ret;
	c->out = calloc(rows, sizeof(int32_t));
	c->ref = calloc(rows, sizeof(int32_t));
	if (!c->out || !c->ref)
		return -ENOMEM;
	x = ka_act(&c->a);
	ret = bnc_matmul_i32(bnc_isa_best(), &c->w.mat, &x, 0, rows, 0, 1, c->ref, rows);
	if (!ret && c->dev)
		ret = kw_load(c->dev, &c->w, &c->handle);
	return ret;
}

static void teardown(struct bench_ctx *c)
{
	if (c->dev)
		bnd_obj_destroy(c->dev, c->handle);
	kw_free(&c->w);
	ka_free(&c->a);
	free(c->out);
	free(c->ref);
	c->out = c->ref = NULL;
}

static const char *const path_names[] = {
	[PATH_CORE] = "in-process core",
	[PATH_RING] = "ring A",
	[PATH_RING_BATCH] = "ring A, 32 per ENTER",
	[PATH_URING] = "io_uring B",
};

/* Returns the number of failures. */
static int bench_shape(struct bench_ctx *c, uint32_t rows, uint32_t cols)
{
	double ns[4] = { 0 }, runs[4][ROUNDS];
	int p, r, fails = 0, bad[4] = { 0 };

	if (setup(c, rows, cols)) {
		printf("# %ux%u: setup failed\n", rows, cols);
		teardown(c);
		return 1;
	}
	for (r = 0; r < ROUNDS; r++) {
		for (p = PATH_CORE; p <= PATH_URING; p++) {
			if ((p != PATH_CORE && !c->dev) || (p == PATH_URING && !c->u))
				continue;
			memset(c->out, 0, rows * sizeof(int32_t));
			runs[p][r] = measure(c, p);
			if (runs[p][r] < 0 || memcmp(c->out, c->ref, rows * sizeof(int32_t)))
				bad[p] = 1;
		}
	}
	for (p = PATH_CORE; p <= PATH_URING; p++) {
		if (p != PATH_CORE && !c->dev)
			break;
		if (p == PATH_URING && !c->u) {
			printf("# %ux%u %-22s: unavailable\n", rows, cols, path_names[p]);
			continue;
		}
		if (bad[p]) {
			printf("# %ux%u %-22s: FAILED\n", rows, cols, path_names[p]);
			fails++;
			continue;
		}
		qsort(runs[p], ROUNDS, sizeof(double), bench_cmp_double);
		ns[p] = runs[p][ROUNDS / 2];
		printf("# %ux%u %-22s: %10.2f us/job", rows, cols, path_names[p], ns[p] / 1e3);
		if (p != PATH_CORE)
			printf("  overhead %+9.2f us  ratio %6.2fx", (ns[p] - ns[0]) / 1e3,
			       ns[p] / ns[0]);
		printf("\n");
	}
	teardown(c);
	return fails;
}

int main(void)
{
	struct bench_ctx c = { 0 };
	const char *why = NULL;
	int fails = 0, ret;

	printf("1..1\n");
	if (ksft_have_device(&why)) {
		if (bnd_open(NULL, &c.dev) || bnd_ring_setup(c.dev, 64, 0)) {
			printf("not ok 1 - bench: cannot open /dev/bitnet\n");
			return 1;
		}
		ret = bnd_uring_open(c.dev, 64, &c.u);
		if (ret)
			printf("# io_uring B unavailable: %s\n", strerror(-ret));
		printf("# device: %u workers, isa %u; in-process: 1 thread, isa %s\n",
		       bnd_info(c.dev)->nr_workers, bnd_info(c.dev)->isa,
		       bnc_isa_name(bnc_isa_best()));
	} else {
		printf("# %s: in-process figures only\n", why);
		printf("# in-process: 1 thread, isa %s\n", bnc_isa_name(bnc_isa_best()));
	}
	fails += bench_shape(&c, 1, 2560);
	fails += bench_shape(&c, 2560, 2560);
	fails += bench_shape(&c, 6912, 2560);
	fails += bench_group(2560, 2560, c.dev != NULL);
	fails += bench_group(6912, 2560, c.dev != NULL);
	bnd_uring_close(c.u);
	bnd_close(c.dev);
	printf("%sok 1 - bench ran, every path matched the core\n", fails ? "not " : "");
	return fails ? 1 : 0;
}
