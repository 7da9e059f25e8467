// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-bench head: the int8 output head alone (bn_q8rows_matmul_q8) on
 * the 2B-4T shape, 128256 rows of 2560 (328 MB, streamed from DRAM every
 * step), for B = 1..16 inputs, split into tasks over the engine's pool as
 * the forward pass does, against the roofline of that batch size,
 *   max(head bytes / DRAM read, B x MACs / vpdpbusd rate),
 * both measured in this run. The batch sizes take turns round after round,
 * so a shared machine's load shifts them alike; best and median per B.
 * --cached: every task runs the same 256 rows (655 KB, in L2), so the time
 * is the kernel's compute alone, against the vpdpbusd rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/kernels/ops.h"
#include "daemon/engine/model/pool.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_measure.h"
#include "tools/opts.h"

#define MAX_TOK 16
#define MAX_ROUNDS 64
#define HEAD_TASKS 64 /* as daemon/engine/model/forward.c splits the vocab */
#define CACHED_ROWS 256

struct head_job {
	const struct bn_q8rows *h;
	const uint8_t *xq;
	const float *sigma;
	uint32_t n;
	bool cached;
	float *out;
};

static void head_task(void *arg, uint32_t i, uint32_t worker)
{
	const struct head_job *j = arg;
	uint32_t v = j->h->rows;

	if (j->cached)
		bn_q8rows_matmul_q8(j->h, 0, CACHED_ROWS, j->xq, j->sigma, j->n,
				    j->out + (size_t)worker * MAX_TOK * v, v);
	else
		bn_q8rows_matmul_q8(j->h, (uint32_t)((uint64_t)v * i / HEAD_TASKS),
				    (uint32_t)((uint64_t)v * (i + 1) / HEAD_TASKS), j->xq, j->sigma,
				    j->n, j->out, v);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bitnet-bench head [--threads N] [--tokens B|B1-B2] [--rounds R] "
		   "[--cached]\n");
}

int bench_head_main(int argc, char **argv)
{
	struct bn_q8rows h = { .rows = 128256, .cols = 2560 };
	double t[MAX_TOK + 1][MAX_ROUNDS], gbs, peak, t0;
	int threads = 2, rounds = 9, lo, hi, n, r, rc;
	struct tool_span tok = { 1, MAX_TOK };
	bool cached = false;
	const struct tool_opt opts[] = {
		TOOL_OPT("threads", TOOL_OPT_INT, &threads),
		TOOL_OPT_PARSE("tokens", &tok, tool_opt_span),
		TOOL_OPT("rounds", TOOL_OPT_INT, &rounds),
		TOOL_OPT("cached", TOOL_OPT_SET, &cached),
		TOOL_OPT_END,
	};
	double rows;
	float sigma[MAX_TOK], *out;
	struct head_job job;
	struct bn_pool *pool;
	uint32_t s = 12345;
	uint8_t *xq;
	size_t i;

	rc = tool_opts_parse(argc, argv, opts, 0, "bitnet-bench head", usage);
	if (rc)
		return rc;
	lo = (int)tok.lo;
	hi = (int)tok.hi;
	if (threads < 1 || hi > MAX_TOK || rounds < 1 || rounds > MAX_ROUNDS) {
		usage(stderr);
		return 2;
	}
	if (!bn_q8rows_have_vnni()) {
		printf("# bitnet-bench head: no AVX-512 VNNI, the int8 x int8 head does not run\n");
		return 0;
	}
	pool = bn_pool_new(threads);
	if (!pool)
		return 1;
	h.q = bench_xalloc((size_t)h.rows * h.cols);
	h.scale = bench_xalloc(h.rows * sizeof(float));
	h.sum = bench_xalloc(h.rows * sizeof(int32_t));
	xq = bench_xalloc((size_t)MAX_TOK * h.cols);
	/* --cached: a buffer per worker */
	out = bench_xalloc((size_t)threads * MAX_TOK * h.rows * sizeof(float));
	for (i = 0; i < (size_t)h.rows * h.cols; i++) {
		s = s * 1103515245u + 12345u;
		h.q[i] = (int8_t)((s >> 8) % 255 - 127);
	}
	for (i = 0; i < h.rows; i++) {
		h.scale[i] = 1.0f / 4096;
		h.sum[i] = 0;
	}
	for (i = 0; i < (size_t)MAX_TOK * h.cols; i++)
		xq[i] = (uint8_t)(i * 7919 % 255 + 1);
	for (n = 0; n < MAX_TOK; n++)
		sigma[n] = 16.0f + n;
	gbs = bench_dram_gbs(bn_pool_core(pool));
	peak = bench_int8_peak_gmacs(bn_pool_core(pool));
	job = (struct head_job){ &h, xq, sigma, 0, cached, out };
	rows = cached ? (double)HEAD_TASKS * CACHED_ROWS : h.rows;
	for (r = 0; r < rounds; r++)
		for (n = lo; n <= hi; n++) {
			job.n = n;
			t0 = bench_now();
			bn_pool_for(pool, HEAD_TASKS, head_task, &job);
			t[n][r] = bench_now() - t0;
		}
	bench_rates_again(bn_pool_core(pool), &gbs, &peak);
	printf("# bitnet-bench head: int8 head %u x %u (%.0f MB%s), %d thread(s), %d rounds; DRAM "
	       "read %.1f GB/s, int8 ceiling %.0f G MAC/s\n",
	       h.rows, h.cols, (double)h.rows * h.cols / 1e6,
	       cached ? "; --cached: 64 x the first 256 rows" : "", threads, rounds, gbs, peak);
	printf("%3s %10s %10s %10s %10s %8s\n", "B", "best ms", "median ms", "roof ms",
	       lo == 1 ? "x B=1" : "x B=lo", "% roof");
	for (n = lo; n <= hi; n++) {
		double mem = cached ? 0 : rows * h.cols / gbs / 1e9;
		double cmp = n * rows * h.cols / peak / 1e9;
		double roof = mem > cmp ? mem : cmp;

		qsort(t[n], rounds, sizeof(double), cmp_double);
		printf("%3d %10.2f %10.2f %10.2f %10.2f %7.0f%%\n", n, t[n][0] * 1e3,
		       t[n][rounds / 2] * 1e3, roof * 1e3, t[n][0] / t[lo][0],
		       100 * roof / t[n][0]);
	}
	bn_pool_free(pool);
	free(h.q);
	free(h.scale);
	free(h.sum);
	free(xq);
	free(out);
	return 0;
}
