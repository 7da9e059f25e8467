// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-bench kernels: the compute core's matmul paths on the shapes of
 * microsoft/bitnet-b1.58-2B-4T, at 1 and 2 threads, against the scalar
 * path, an FP32 and an FP16-weight matmul, and this machine's DRAM read
 * bandwidth, all measured in the same run. Decode (N = 1) rotates over
 * enough copies of each matrix that weights come from DRAM, as in a real
 * decode step; prefill (N = 128) reuses one copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmod/core/bitnet_core.h"
#include "libcore/pool.h"
#include "kmod/core/bnc_quant.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_measure.h"
#include "tools/bench/bench_ref.h"
#include "tools/opts.h"

#define MIB (1024.0 * 1024.0)
#define NR_LAYERS 30

enum path {
	P_SCALAR,
	P_AVX2,
	P_VNNI,
	P_F32,
	P_F16,
	P_COUNT
};

static const char *const path_names[P_COUNT] = { "scalar", "avx2", "avx512vnni", "fp32", "fp16w" };

struct shape {
	uint32_t m, k;
	int per_layer; /* matrices of this shape in one layer */
	const char *what;
};

static const struct shape shapes[] = {
	{ 2560, 2560, 2, "attn q,o" },
	{ 640, 2560, 2, "attn k,v" },
	{ 6912, 2560, 2, "ffn gate,up" },
	{ 2560, 6912, 1, "ffn down" },
};

#define NR_SHAPES (sizeof(shapes) / sizeof(shapes[0]))
static const uint32_t token_counts[] = { 1, 128 };
static const int thread_counts[] = { 1, 2 };

struct opts {
	double rotate_mib;  /* weights cycled through for N = 1 */
	double min_seconds; /* per measurement */
	bool scalar;
};

struct ref_job {
	enum path p;
	const void *w;
	uint32_t rows, cols, n;
	const float *x;
	float *out;
};

struct bench_ctx {
	struct bnc_pool *pool[2];
	struct bnc_act act;
	float *xf; /* float activations for the baselines */
	float *out;
};

static void *xalloc(size_t bytes)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, bytes ? bytes : 64)) {
		fprintf(stderr, "bitnet-bench: out of memory (%zu bytes)\n", bytes);
		exit(1);
	}
	return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static float rndf(void)
{
	return (float)(rnd() % 20001) / 10000.0f - 1.0f;
}

static void ref_tile(void *arg, int index, int count)
{
	struct ref_job *j = arg;
	uint32_t b0 = (uint64_t)j->rows * index / count;
	uint32_t b1 = (uint64_t)j->rows * (index + 1) / count;

	if (b0 >= b1)
		return;
	if (j->p == P_F32)
		bench_ref_f32(j->w, j->rows, j->cols, j->x, j->n, j->out, b0, b1);
	else
		bench_ref_f16(j->w, j->rows, j->cols, j->x, j->n, j->out, b0, b1);
}

/* Copies of one random matrix in a path's weight format. */
struct weights {
	enum path p;
	int copies;
	size_t bytes; /* one copy's weight bytes */
	void **data;
	struct bnc_matrix *mat; /* ternary paths */
};

static void weights_make(struct weights *wt, enum path p, const struct shape *s, const void *proto,
			 int copies, const struct bnc_matrix *tern)
{
	int c;

	wt->p = p;
	wt->copies = copies;
	wt->data = calloc(copies, sizeof(*wt->data));
	wt->mat = calloc(copies, sizeof(*wt->mat));
	if (p == P_F32)
		wt->bytes = (size_t)s->m * s->k * 4;
	else if (p == P_F16)
		wt->bytes = (size_t)s->m * s->k * 2;
	else
		wt->bytes = bnc_exec_size(s->m, s->k);
	for (c = 0; c < copies; c++) {
		wt->data[c] = xalloc(wt->bytes);
		memcpy(wt->data[c], proto, wt->bytes);
		if (tern) {
			wt->mat[c] = *tern;
			wt->mat[c].data = wt->data[c];
		}
	}
}

static void weights_free(struct weights *wt)
{
	int c;

	for (c = 0; c < wt->copies; c++)
		free(wt->data[c]);
	free(wt->data);
	free(wt->mat);
}

/* One pass over all copies; returns seconds per matmul. */
static double run_once(struct bench_ctx *ctx, struct weights *wt, const struct shape *s, uint32_t n,
		       int ti)
{
	static const enum bnc_isa isa_of[] = { BNC_ISA_SCALAR, BNC_ISA_AVX2, BNC_ISA_AVX512_VNNI };
	double t0 = bench_now();
	int c, ret;

	ctx->act.n = n;
	for (c = 0; c < wt->copies; c++) {
		if (wt->p <= P_VNNI) {
			ret = bnc_pool_matmul_f32(ctx->pool[ti], isa_of[wt->p], &wt->mat[c],
						  &ctx->act, ctx->out, s->m);
			if (ret) {
				fprintf(stderr, "bitnet-bench: matmul failed: %s\n",
					strerror(-ret));
				exit(1);
			}
		} else {
			struct ref_job j = { wt->p, wt->data[c], s->m, s->k, n, ctx->xf, ctx->out };

			bnc_pool_run(ctx->pool[ti], ref_tile, &j);
		}
	}
	return (bench_now() - t0) / wt->copies;
}

/* Best of repeated passes, for at least opts->min_seconds (scalar: once). */
static double measure(struct bench_ctx *ctx, struct weights *wt, const struct shape *s, uint32_t n,
		      int ti, const struct opts *o)
{
	double best = 1e30, start = bench_now(), t;
	int reps = 0;

	run_once(ctx, wt, s, n, ti); /* warm up: page faults, pool wake */
	do {
		t = run_once(ctx, wt, s, n, ti);
		if (t < best)
			best = t;
		reps++;
	} while (wt->p != P_SCALAR && (reps < 3 || bench_now() - start < o->min_seconds));
	return best;
}

static void nop_tile(void *arg, int index, int count)
{
	(void)arg;
	(void)index;
	(void)count;
}

/* Mean cost of one empty dispatch over the 2-thread pool, back to back. */
static double dispatch_us(struct bnc_pool *pool)
{
	double t0, best = 1e30, t;
	int rep, i;

	for (rep = 0; rep < 5; rep++) {
		t0 = bench_now();
		for (i = 0; i < 10000; i++)
			bnc_pool_run(pool, nop_tile, NULL);
		t = (bench_now() - t0) / 10000 * 1e6;
		if (t < best)
			best = t;
	}
	return best;
}

/* From ../shared/notes/peers.md (llama-bench on this kind of machine). */
static const double peer_tq2_decode[2] = { 8.2, 13.3 }; /* tok/s, 1 and 2 thr */
static const double peer_tq2_prefill[2] = { 22.3, 34.4 };
static const double peer_best_prefill[2] = { 32.6, 65.7 }; /* bitnet.cpp 2026 */
static const double peer_tq2_model_mb = 808, peer_tq2_ternary_mb = 2084044800.0 * 2.0625 / 8 / 1e6;
static const double peer_bw[2] = { 15.6, 28.6 }; /* GB/s there */

static int path_available(enum path p)
{
	u32 isa = bnc_isa_supported();

	switch (p) {
	case P_SCALAR:
		return 1;
	case P_AVX2:
		return !!(isa & (1u << BNC_ISA_AVX2));
	case P_VNNI:
		return !!(isa & (1u << BNC_ISA_AVX512_VNNI));
	default:
		return bench_ref_supported();
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bitnet-bench kernels [--rotate-mib MIB] [--min-seconds S] "
		   "[--no-scalar]\n"
		   "  --rotate-mib   weights cycled through for N = 1 (default 256)\n"
		   "  --min-seconds  time per measurement, best pass kept (default 0.3)\n"
		   "  --no-scalar    skip the (slow) scalar reference path\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	const struct tool_opt opts[] = {
		TOOL_OPT("rotate-mib", TOOL_OPT_DOUBLE, &o->rotate_mib),
		TOOL_OPT("min-seconds", TOOL_OPT_DOUBLE, &o->min_seconds),
		TOOL_OPT("no-scalar", TOOL_OPT_CLEAR, &o->scalar),
		TOOL_OPT_END,
	};

	if (tool_opts_parse(argc, argv, opts, 0, "bitnet-bench kernels", usage))
		return -1;
	if (o->rotate_mib < 0 || o->min_seconds < 0) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Random ternary matrix -> I2_S -> execution layout (timing the repack). */
static void *make_ternary(const struct shape *s, struct bnc_matrix *mat, double *repack_gbs)
{
	size_t n = (size_t)s->m * s->k, i2s_bytes = bnc_packed_size(BNC_FMT_I2_S, s->m, s->k);
	s8 *t = xalloc(n);
	void *i2s = xalloc(i2s_bytes);
	u8 *exec = xalloc(bnc_exec_size(s->m, s->k));
	double t0;
	size_t i;

	for (i = 0; i < n; i++)
		t[i] = (s8)(rnd() % 3) - 1;
	if (bnc_pack(BNC_FMT_I2_S, t, s->m, s->k, 0x3d800000, i2s, i2s_bytes))
		exit(1);
	mat->rows = s->m;
	mat->cols = s->k;
	mat->data = exec;
	t0 = bench_now();
	if (bnc_repack(mat, BNC_FMT_I2_S, i2s, i2s_bytes))
		exit(1);
	*repack_gbs = i2s_bytes / (bench_now() - t0) / 1e9;
	free(t);
	free(i2s);
	return exec;
}

static void print_row(const struct shape *s, uint32_t n, int threads, enum path p,
		      const double *secs)
{
	double t = secs[p], bytes;

	if (p == P_F32)
		bytes = (double)s->m * s->k * 4;
	else if (p == P_F16)
		bytes = (double)s->m * s->k * 2;
	else
		bytes = (double)s->m * s->k / 4;
	printf("%5u x %-5u %-11s %4u %2d  %-10s %10.1f %8.1f %7.2f", s->m, s->k, s->what, n,
	       threads, path_names[p], t * 1e6, 2.0 * s->m * s->k * n / t / 1e9, bytes / t / 1e9);
	if (secs[P_SCALAR] > 0)
		printf(" %8.1f", secs[P_SCALAR] / t);
	else
		printf(" %8s", "-");
	if (secs[P_F32] > 0)
		printf(" %7.2f %7.2f\n", secs[P_F32] / t, secs[P_F16] / t);
	else
		printf(" %7s %7s\n", "-", "-");
}

int bench_kernels_main(int argc, char **argv)
{
	struct opts o = { .rotate_mib = 256, .min_seconds = 0.3, .scalar = 1 };
	static double secs[NR_SHAPES][2][2][P_COUNT];
	double bw[2], tok_time[2][2][P_COUNT] = { { { 0 } } }, tern_bytes = 0, t;
	struct bench_ctx ctx;
	unsigned int si, ni, ti, p;
	size_t i;

	if (parse_opts(argc, argv, &o))
		return 2;
	ctx.pool[0] = bnc_pool_new(1);
	ctx.pool[1] = bnc_pool_new(2);
	if (!ctx.pool[0] || !ctx.pool[1]) {
		fprintf(stderr, "bitnet-bench: cannot start threads\n");
		return 1;
	}
	printf("# bitnet-bench kernels: best isa %s; baselines %s\n", bnc_isa_name(bnc_isa_best()),
	       bench_ref_supported() ? "fp32/fp16w AVX-512 FMA" : "unavailable");
	for (ti = 0; ti < 2; ti++) {
		bw[ti] = bench_dram_gbs(ctx.pool[ti]);
		printf("# DRAM read bandwidth, %d thread(s): %.1f GB/s\n", thread_counts[ti],
		       bw[ti]);
	}
	printf("# pool: empty dispatch over 2 threads %.2f us\n", dispatch_us(ctx.pool[1]));
	printf("# N=1 rotates over %.0f MiB of copies per path (weights from DRAM); "
	       "time = best pass, per matmul, f32 epilogue included\n",
	       o.rotate_mib);
	printf("%-25s %4s %2s  %-10s %10s %8s %7s %8s %7s %7s\n", "shape (M x K)", "N", "th",
	       "path", "us", "GOP/s", "GB/s", "x scalar", "x fp32", "x fp16w");

	for (si = 0; si < NR_SHAPES; si++) {
		const struct shape *s = &shapes[si];
		struct weights wt[P_COUNT];
		struct bnc_matrix tern;
		float *f32 = xalloc((size_t)s->m * s->k * 4);
		u16 *f16 = xalloc((size_t)s->m * s->k * 2);
		double repack_gbs;
		void *exec = make_ternary(s, &tern, &repack_gbs);
		s8 *q = xalloc((size_t)128 * s->k);

		tern_bytes += (double)NR_LAYERS * s->per_layer * s->m * s->k / 4;
		for (i = 0; i < (size_t)s->m * s->k; i++) {
			f32[i] = rndf() * 0.05f;
			f16[i] = bnc_fp32_to_fp16(f32[i]);
		}
		ctx.xf = xalloc((size_t)128 * s->k * 4);
		for (i = 0; i < (size_t)128 * s->k; i++)
			ctx.xf[i] = rndf();
		ctx.act.k = s->k;
		ctx.act.q = q;
		ctx.act.sum = xalloc(128 * sizeof(s32));
		ctx.act.sigma = xalloc(128 * sizeof(float));
		bnc_quant_act_rows(ctx.xf, 128, s->k, q, (float *)ctx.act.sigma,
				   (s32 *)ctx.act.sum);
		ctx.out = xalloc((size_t)128 * s->m * 4);
		printf("# %u x %u: repack I2_S -> execution layout %.2f GB/s of I2_S\n", s->m, s->k,
		       repack_gbs);

		for (ni = 0; ni < 2; ni++) {
			for (p = 0; p < P_COUNT; p++) {
				const void *proto = p == P_F32 ? (void *)f32 :
						    p == P_F16 ? (void *)f16 :
								 exec;
				size_t bytes = p == P_F32 ? (size_t)s->m * s->k * 4 :
					       p == P_F16 ? (size_t)s->m * s->k * 2 :
							    bnc_exec_size(s->m, s->k);
				int copies = 1;

				wt[p].copies = 0;
				if (!path_available(p) || (p == P_SCALAR && !o.scalar))
					continue;
				if (token_counts[ni] == 1 && p != P_SCALAR)
					copies = (int)(o.rotate_mib * MIB / bytes) + 1;
				weights_make(&wt[p], p, s, proto, copies,
					     p <= P_VNNI ? &tern : NULL);
			}
			for (ti = 0; ti < 2; ti++) {
				double *sc = secs[si][ni][ti];

				for (p = 0; p < P_COUNT; p++)
					sc[p] = wt[p].copies ? measure(&ctx, &wt[p], s,
								       token_counts[ni], ti, &o) :
							       0;
				for (p = 0; p < P_COUNT; p++) {
					if (!wt[p].copies)
						continue;
					print_row(s, token_counts[ni], thread_counts[ti], p, sc);
					tok_time[ni][ti][p] += NR_LAYERS * s->per_layer * sc[p];
				}
			}
			for (p = 0; p < P_COUNT; p++)
				if (wt[p].copies)
					weights_free(&wt[p]);
			if (token_counts[ni] == 1 && path_available(P_VNNI)) {
				/* one copy stays in cache: what the kernel could do */
				weights_make(&wt[P_VNNI], P_VNNI, s, exec, 1, &tern);
				t = measure(&ctx, &wt[P_VNNI], s, 1, 0, &o);
				printf("# %u x %u N=1 avx512vnni, weights in cache, 1 thread: %.1f us, "
				       "%.1f GB/s (decode ceiling per core)\n",
				       s->m, s->k, t * 1e6, (double)s->m * s->k / 4 / t / 1e9);
				weights_free(&wt[P_VNNI]);
			}
		}
		free(f32);
		free(f16);
		free(exec);
		free(q);
		free(ctx.xf);
		free((void *)ctx.act.sum);
		free((void *)ctx.act.sigma);
		free(ctx.out);
	}

	/* the machine may have got busier or quieter: keep the higher figure */
	for (ti = 0; ti < 2; ti++) {
		t = bench_dram_gbs(ctx.pool[ti]);
		printf("# DRAM read bandwidth again, %d thread(s): %.1f GB/s%s\n",
		       thread_counts[ti], t, t > bw[ti] ? " (used below)" : "");
		if (t > bw[ti])
			bw[ti] = t;
	}
	printf("\n# Per token of the 2B-4T ternary linears (%d layers, %.0f MB at 2 bits/weight;"
	       " head, attention, norms excluded)\n",
	       NR_LAYERS, tern_bytes / 1e6);
	for (ti = 0; ti < 2; ti++) {
		for (p = P_AVX2; p <= P_VNNI; p++) {
			double dec = tok_time[0][ti][p], pre = tok_time[1][ti][p];

			if (!dec)
				continue;
			printf("# %d thr %-10s decode %6.1f ms/token = %5.1f GB/s = %4.0f%% of DRAM "
			       "read; prefill %6.1f tok/s\n",
			       thread_counts[ti], path_names[p], dec * 1e3, tern_bytes / dec / 1e9,
			       100.0 * tern_bytes / dec / 1e9 / bw[ti], 128.0 / pre);
		}
		p = P_VNNI;
		if (!tok_time[0][ti][p])
			continue;
		printf("# %d thr vs llama.cpp TQ2_0 decode (%.1f tok/s): x%.2f counting its whole "
		       "token, x%.2f counting only its ternary share (%.0f of %.0f MB)\n",
		       thread_counts[ti], peer_tq2_decode[ti],
		       1.0 / peer_tq2_decode[ti] / tok_time[0][ti][p],
		       peer_tq2_ternary_mb / peer_tq2_model_mb / peer_tq2_decode[ti] /
			       tok_time[0][ti][p],
		       peer_tq2_ternary_mb, peer_tq2_model_mb);
		printf("# %d thr bandwidth-normalised: %.0f%% of this run's DRAM read vs llama.cpp "
		       "TQ2_0 at %.0f%% of its machine's (%.0f MB x %.1f tok/s / %.1f GB/s): x%.2f\n",
		       thread_counts[ti], 100.0 * tern_bytes / tok_time[0][ti][p] / 1e9 / bw[ti],
		       100.0 * peer_tq2_model_mb * peer_tq2_decode[ti] / 1e3 / peer_bw[ti],
		       peer_tq2_model_mb, peer_tq2_decode[ti], peer_bw[ti],
		       (tern_bytes / tok_time[0][ti][p] / 1e9 / bw[ti]) /
			       (peer_tq2_model_mb * peer_tq2_decode[ti] / 1e3 / peer_bw[ti]));
		printf("# %d thr prefill vs llama.cpp TQ2_0 (%.1f tok/s): x%.2f; vs bitnet.cpp 2026 "
		       "(%.1f tok/s): x%.2f (whole-model peer figures)\n",
		       thread_counts[ti], peer_tq2_prefill[ti],
		       128.0 / tok_time[1][ti][p] / peer_tq2_prefill[ti], peer_best_prefill[ti],
		       128.0 / tok_time[1][ti][p] / peer_best_prefill[ti]);
	}
	bnc_pool_free(ctx.pool[0]);
	bnc_pool_free(ctx.pool[1]);
	return 0;
}
