// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet_bench_ovh, engine part: one matmul call of a dispatch group (3
 * weights of one shape sharing activations, like q/k/v) through the
 * engine's "cpu" backend (one thread, in-process) and its "kmod" backend
 * on each submission path (the group as several SQEs in flight), f32 out;
 * kmod's output must be bit-identical to cpu's. Medians of ROUNDS rounds
 * measured in alternation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ksft_common.h"
#include "bench_ovh_group.h"
#include "daemon/engine/backend/backend.h"

#define GROUP_N 3
#define GROUP_ROUNDS 5
#define GROUP_MIN_NS 100000000ULL

enum {
	B_CPU,
	B_URING,
	B_RING,
	B_COUNT
};

static const char *const b_names[B_COUNT] = { "cpu backend, in-process", "kmod, uring_cmd",
					      "kmod, ring" };
static const char *const b_env[B_COUNT] = { NULL, "uring", "ring" };

struct group {
	struct bn_backend *b[B_COUNT];
	bn_weight_id id[B_COUNT][GROUP_N];
	struct kw w[GROUP_N];
	struct ka a;
	float *out[B_COUNT][GROUP_N];
};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int group_backend(struct group *g, int i)
{
	char err[256];
	int j, rc;

	if (i == B_CPU) {
		rc = bn_backend_cpu_new(1, &g->b[i]);
	} else {
		setenv("BITNET_KMOD_SUBMIT", b_env[i], 1);
		rc = bn_backend_kmod_new(NULL, &g->b[i], err, sizeof(err));
		unsetenv("BITNET_KMOD_SUBMIT");
		if (rc)
			printf("# group %s: unavailable: %s\n", b_names[i], err);
	}
	for (j = 0; !rc && j < GROUP_N; j++)
		rc = g->b[i]->ops->add_weight(g->b[i], g->w[j].fmt, g->w[j].rows, g->w[j].cols,
					      g->w[j].packed, g->w[j].bytes, &g->id[i][j]);
	if (!rc)
		rc = g->b[i]->ops->finish_load(g->b[i]);
	if (rc && g->b[i]) {
		g->b[i]->ops->destroy(g->b[i]);
		g->b[i] = NULL;
	}
	return rc;
}

static double group_measure(struct group *g, int i)
{
	uint64_t t0 = bench_now_ns(), t;
	long n = 0;

	do {
		if (g->b[i]->ops->matmul(g->b[i], g->id[i], GROUP_N, g->a.q, g->a.sigma, g->a.sum,
					 1, g->out[i]))
			return -1;
		n++;
		t = bench_now_ns() - t0;
	} while (t < GROUP_MIN_NS);
	return (double)t / n;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int group_run(struct group *g, uint32_t rows, uint32_t cols)
{
	double runs[B_COUNT][GROUP_ROUNDS], med[B_COUNT];
	int i, j, r, fails = 0, bad[B_COUNT] = { 0 };

	for (r = 0; r < GROUP_ROUNDS; r++)
		for (i = 0; i < B_COUNT; i++)
			if (g->b[i]) {
				runs[i][r] = group_measure(g, i);
				bad[i] |= runs[i][r] < 0;
			}
	for (i = 0; i < B_COUNT; i++) {
		if (!g->b[i])
			continue;
		for (j = 0; i && j < GROUP_N; j++)
			bad[i] |= memcmp(g->out[i][j], g->out[B_CPU][j], rows * sizeof(float)) != 0;
		if (bad[i]) {
			printf("# group %ux%ux%u %-24s: FAILED\n", GROUP_N, rows, cols, b_names[i]);
			fails++;
			continue;
		}
		qsort(runs[i], GROUP_ROUNDS, sizeof(double), bench_cmp_double);
		med[i] = runs[i][GROUP_ROUNDS / 2];
		printf("# group %ux%ux%u %-24s: %10.2f us/call", GROUP_N, rows, cols, b_names[i],
		       med[i] / 1e3);
		if (i)
			printf("  ratio %6.2fx", med[i] / med[B_CPU]);
		printf("\n");
	}
	return fails;
}

int bench_group(uint32_t rows, uint32_t cols, int have_dev)
{
	struct group g = { 0 };
	int i, j, fails = 0;

	if (ka_make(&g.a, 1, cols, 77))
		return 1;
	for (j = 0; j < GROUP_N; j++)
		if (kw_make(&g.w[j], BNC_FMT_I2_S, rows, cols, 300 + j))
			return 1;
	for (i = 0; i < B_COUNT; i++) {
		for (j = 0; j < GROUP_N; j++)
			g.out[i][j] = calloc(rows, sizeof(float));
		if (i == B_CPU || have_dev)
			fails += group_backend(&g, i) && (i == B_CPU || i == B_RING);
	}
	if (!fails)
		fails += group_run(&g, rows, cols);
	for (i = 0; i < B_COUNT; i++) {
		if (g.b[i])
			g.b[i]->ops->destroy(g.b[i]);
		for (j = 0; j < GROUP_N; j++)
			free(g.out[i][j]);
	}
	for (j = 0; j < GROUP_N; j++)
		kw_free(&g.w[j]);
	ka_free(&g.a);
	return fails;
}
