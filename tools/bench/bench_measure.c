// SPDX-License-Identifier: GPL-2.0
/* What several bitnet-bench subcommands measure: see bench_measure.h. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <immintrin.h>

#include "daemon/engine/backend/backend_cpu.h"
#include "kmod/core/bitnet_core.h"
#include "libcore/pool.h"
#include "kmod/core/bnc_quant.h"
#include "tools/bench/bench_measure.h"
#include "tools/bench/bench_ref.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void *bench_xalloc(size_t bytes)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, bytes ? bytes : 64)) {
		fprintf(stderr, "bitnet-bench: out of memory (%zu bytes)\n", bytes);
		exit(1);
	}
	return p;
}

void *bench_xalloc_weights(size_t bytes)
{
	void *p = bn_cpu_weight_region(&bytes);

	if (!p) {
		fprintf(stderr, "bitnet-bench: out of memory (%zu bytes)\n", bytes);
		exit(1);
	}
	return p;
}

struct read_job {
	char *buf[2];
	size_t bytes;
	uint64_t sum[2];
};

/* Without AVX-512 (the baselines' build): plain 64-bit loads. */
static uint64_t plain_read(const void *buf, size_t bytes)
{
	const uint64_t *p = buf;
	uint64_t a = 0, b = 0;
	size_t i;

	for (i = 0; i + 1 < bytes / 8; i += 2) {
		a ^= p[i];
		b ^= p[i + 1];
	}
	return a + b;
}

/* Each of 2 threads reads one buffer (one thread: both). */
static void read_tile(void *arg, int index, int count)
{
	struct read_job *job = arg;
	int i;

	for (i = index; i < 2; i += count)
		job->sum[i] = bench_ref_supported() ? bench_read(job->buf[i], job->bytes) :
						      plain_read(job->buf[i], job->bytes);
}

double bench_dram_gbs(struct bnc_pool *pool)
{
	struct read_job job = { .bytes = (size_t)512 << 20 };
	double best = 0, t0, gbs;
	int i, rep;

	for (i = 0; i < 2; i++) {
		job.buf[i] = bench_xalloc(job.bytes);
		memset(job.buf[i], i + 1, job.bytes);
	}
	for (rep = 0; rep < 4; rep++) {
		t0 = bench_now();
		bnc_pool_run(pool, read_tile, &job);
		gbs = 2.0 * job.bytes / (bench_now() - t0) / 1e9;
		if (gbs > best)
			best = gbs;
	}
	for (i = 0; i < 2; i++)
		free(job.buf[i]);
	return best;
}

void *bench_ternary(uint32_t m, uint32_t k, uint32_t layout, struct bnc_matrix *mat)
{
	size_t cnt = (size_t)m * k, bytes = bnc_packed_size(BNC_FMT_I2_S, m, k), i;
	s8 *t = bench_xalloc(cnt);
	void *i2s = bench_xalloc(bytes);
	uint32_t r = 12345 + m + k;

	for (i = 0; i < cnt; i++) {
		r = r * 1103515245u + 12345u;
		t[i] = (s8)((r >> 16) % 3) - 1;
	}
	memset(mat, 0, sizeof(*mat));
	mat->rows = m;
	mat->cols = k;
	mat->data = bench_xalloc(bnc_layout_size(layout, m, k));
	if (bnc_pack(BNC_FMT_I2_S, t, m, k, 0x3d800000, i2s, bytes) ||
	    bnc_repack_layout(mat, layout, BNC_FMT_I2_S, i2s, bytes))
		exit(1);
	free(t);
	free(i2s);
	return mat->data;
}

struct bench_act *bench_act_new(uint32_t n, uint32_t k)
{
	struct bench_act *a = calloc(1, sizeof(*a));
	float *x = bench_xalloc((size_t)n * k * 4);
	size_t i;

	if (!a)
		exit(1);
	a->q = bench_xalloc((size_t)n * k);
	a->sigma = bench_xalloc(n * sizeof(float));
	a->sum = bench_xalloc(n * sizeof(s32));
	for (i = 0; i < (size_t)n * k; i++)
		x[i] = (float)((int)(i * 2654435761u >> 20) % 2001) / 1000.0f - 1.0f;
	bnc_quant_act_rows(x, n, k, a->q, a->sigma, a->sum);
	free(x);
	a->act = (struct bnc_act){ .n = n, .k = k, .q = a->q, .sum = a->sum, .sigma = a->sigma };
	return a;
}

void bench_act_free(struct bench_act *a)
{
	free(a->q);
	free(a->sigma);
	free(a->sum);
	free(a);
}

double bench_gemm_gmacs(struct bnc_pool *pool, uint32_t m, uint32_t k, uint32_t n)
{
	struct bench_act *a = bench_act_new(n, k);
	float *out = bench_xalloc((size_t)n * m * 4);
	struct bnc_matrix mat;
	void *exec = bench_ternary(m, k, BNC_LAYOUT_R16, &mat);
	double best = 1e30, t0, start;
	int reps = 0;

	start = bench_now();
	do {
		t0 = bench_now();
		if (bnc_pool_matmul_f32(pool, bnc_isa_best(), &mat, &a->act, out, m))
			exit(1);
		t0 = bench_now() - t0;
		if (t0 < best)
			best = t0;
	} while (++reps < 3 || bench_now() - start < 0.3);
	free(exec);
	free(out);
	bench_act_free(a);
	return (double)m * k * n / best / 1e9;
}

/*
 * Register-only vpdpbusd: 12 independent accumulators, so neither latency nor
 * memory limits it; what the instruction itself can do on this core.
 */
struct peak_job {
	double seconds;
	double gmacs[64];
	int32_t sink[64]; /* the accumulators' sum: keeps the loop alive */
};

/* Twelve vpdpbusd in one asm, so that the accumulators live in registers. */
#define VNNI_12(x, w, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11)                           \
	__asm__("vpdpbusd %13, %12, %0\n\tvpdpbusd %13, %12, %1\n\t"                              \
		"vpdpbusd %13, %12, %2\n\tvpdpbusd %13, %12, %3\n\t"                              \
		"vpdpbusd %13, %12, %4\n\tvpdpbusd %13, %12, %5\n\t"                              \
		"vpdpbusd %13, %12, %6\n\tvpdpbusd %13, %12, %7\n\t"                              \
		"vpdpbusd %13, %12, %8\n\tvpdpbusd %13, %12, %9\n\t"                              \
		"vpdpbusd %13, %12, %10\n\tvpdpbusd %13, %12, %11"                                \
		: "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), \
		  "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11)                                        \
		: "v"(x), "v"(w))

__attribute__((target("avx512f,avx512vnni"))) static void vnni_peak_tile(void *arg, int index,
									 int count)
{
	struct peak_job *job = arg;
	__m512i x = _mm512_set1_epi8(1), w = _mm512_set1_epi8(-1);
	__m512i a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
	uint64_t iters = 0;
	double t0 = bench_now(), t;

	(void)count;
	a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm512_setzero_si512();
	do {
		for (int r = 0; r < 1000; r++)
			VNNI_12(x, w, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
		iters += 1000;
		t = bench_now() - t0;
	} while (t < job->seconds);
	a0 = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
			      _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
	a0 = _mm512_add_epi32(a0, _mm512_add_epi32(_mm512_add_epi32(a8, a9),
						   _mm512_add_epi32(a10, a11)));
	job->sink[index % 64] = _mm512_reduce_add_epi32(a0);
	/* 64 u8 x s8 products per instruction */
	job->gmacs[index % 64] = iters * 12.0 * 64 / t / 1e9;
}

double bench_int8_peak_gmacs(struct bnc_pool *pool)
{
	struct peak_job job = { .seconds = 0.2 };
	double best = 0, sum;
	int i, n = bnc_pool_threads(pool);

	if (bnc_isa_best() != BNC_ISA_AVX512_VNNI)
		return bench_gemm_gmacs(pool, 2560, 2560, 128);
	for (int rep = 0; rep < 3; rep++) {
		bnc_pool_run(pool, vnni_peak_tile, &job);
		for (i = 0, sum = 0; i < n && i < 64; i++)
			sum += job.gmacs[i];
		if (sum > best)
			best = sum;
	}
	return best;
}

void bench_rates_again(struct bnc_pool *pool, double *gbs, double *gmacs)
{
	double again = bench_dram_gbs(pool);

	if (again > *gbs)
		*gbs = again;
	if (!gmacs)
		return;
	again = bench_int8_peak_gmacs(pool);
	if (again > *gmacs)
		*gmacs = again;
}

void bench_prompt(int32_t *ids, int n, uint32_t n_vocab, uint32_t salt)
{
	int i;

	for (i = 0; i < n; i++)
		ids[i] = (int32_t)(300 + ((i + salt * 104729u) * 7919u) % (n_vocab - 300));
}

int bench_mkmodel(const char *args, const char *out, const char *what)
{
	char self[PATH_MAX], cmd[3 * PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;

	if (!stat(out, &st))
		return 0;
	if (n <= 0)
		return -1;
	self[n] = 0;
	snprintf(cmd, sizeof(cmd), "'%s/bitnet-mkmodel' %s '%s'", dirname(self), args, out);
	fprintf(stderr, "bitnet-bench: writing %s (%s)\n", out, what);
	return system(cmd) == 0 ? 0 : -1;
}
