// SPDX-License-Identifier: GPL-2.0
/*
 * The compact output head: each row of the (usually tied) embedding as int8
 * with one float scale, half the bytes of F16 per decoded token. On AVX-512
 * VNNI the input is quantized per token too (like a BitLinear's) and rows
 * are int8 x int8 dot products; elsewhere the input stays float.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#include "daemon/engine/kernels/ops.h"

/* Row @r to int8 with its scale and sum; @row is a float copy, or NULL. */
static void q8_row(struct bn_q8rows *h, const struct bn_ftensor *t, uint32_t r, const float *row)
{
	int8_t *q = h->q + (size_t)r * h->cols;
	float amax = 0, inv, v;
	uint32_t i;

	for (i = 0; i < t->cols; i++) {
		v = fabsf(row ? row[i] : bn_ftensor_at(t, r, i));
		if (v > amax)
			amax = v;
	}
	inv = amax > 0 ? 127.0f / amax : 0;
	h->sum[r] = 0;
	for (i = 0; i < t->cols; i++) {
		q[i] = (int8_t)rintf((row ? row[i] : bn_ftensor_at(t, r, i)) * inv);
		h->sum[r] += q[i];
	}
	h->scale[r] = amax / 127.0f;
}

void bn_q8rows_fill(struct bn_q8rows *h, const struct bn_ftensor *t, uint32_t r0, uint32_t r1)
{
	float *row = malloc(t->cols * sizeof(float));
	uint32_t r;

	for (r = r0; r < r1; r++) {
		if (row)
			bn_ftensor_row(t, r, row);
		q8_row(h, t, r, row);
	}
	free(row);
}

__attribute__((target("avx512f"))) static float dot_q8_avx512(const int8_t *q, const float *b,
							      uint32_t n)
{
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	uint32_t i = 0;
	float s;

	for (; i + 32 <= n; i += 32) {
		__m512i w0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + i)));
		__m512i w1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + i + 16)));

		acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(w0), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(w1), _mm512_loadu_ps(b + i + 16), acc1);
	}
	s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += q[i] * b[i];
	return s;
}

static float dot_q8_scalar(const int8_t *q, const float *b, uint32_t n)
{
	float s = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		s += q[i] * b[i];
	return s;
}

void bn_q8rows_matmul(const struct bn_q8rows *h, uint32_t r0, uint32_t r1, const float *x,
		      uint32_t n_x, float *out, size_t out_stride)
{
	bool avx512 = bn_simd() >= BN_SIMD_AVX512;
	uint32_t r, n;

	for (r = r0; r < r1; r++) {
		const int8_t *q = h->q + (size_t)r * h->cols;

		for (n = 0; n < n_x; n++) {
			const float *xn = x + (size_t)n * h->cols;
			float d = avx512 ? dot_q8_avx512(q, xn, h->cols) :
					   dot_q8_scalar(q, xn, h->cols);

			out[n * out_stride + r] = d * h->scale[r];
		}
	}
}

bool bn_q8rows_have_vnni(void)
{
	return bn_simd() == BN_SIMD_AVX512_VNNI;
}

/*
 * Rows follow each other in memory and a decode step streams all of them
 * from DRAM: prefetching this far ahead (into the next rows) measured ~15%
 * faster than the hardware prefetcher alone, at 1 and 2 threads. Into L2,
 * not L1: 32 KiB of L1 cannot hold the 8 rows in use and the 8 being
 * fetched (one input: 1.4x faster than prefetcht0 on the EPYC here).
 */
#define HEAD_PREFETCH 4096

/*
 * Eight rows an eighth of the range apart at once: one core reads DRAM
 * faster from several streams than from one (about 20% here), and each
 * load of the input serves all of them.
 */
#define HEAD_STREAMS 8

/*
 * Inputs per pass over the rows: a batched step computes up to three tokens
 * from each load of a weight vector, so the loads per vpdpbusd drop from ~2
 * to ~0.5 and the head runs near the VNNI rate instead of the load ports'.
 * 8 rows x 3 inputs take 24 of the 32 vector registers; 3 measured ~7%
 * faster than 2 for 8 inputs.
 */
#define HEAD_INPUTS 3

/* Inputs per call of dot_rows(): its accumulators live on the stack. */
#define HEAD_ROWS_MAX 16

/*
 * vpdpbusd with its accumulator tied: gcc 12 copies every accumulator of the
 * intrinsic's form to another register each iteration (two moves per
 * product) and folds one load per input into it.
 */
__attribute__((target("avx512f"), always_inline)) static inline __m512i dpbusd(__m512i acc,
									       __m512i x, __m512i w)
{
	__asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
	return acc;
}

/*
 * Accumulators of tokens t < @nt and streams s at acc[t * HEAD_STREAMS + s],
 * kept in memory between calls: a call covers columns [@i0, @i1) (multiples
 * of 64) and adds to them, or starts them at zero when @first.
 * @prefetch on the pass that streams the rows from DRAM (later passes over
 * the same columns find them in L1).
 */
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) static inline void
dotn_u8s8(const uint8_t *x, size_t x_stride, const int8_t *const *w, uint32_t i0, uint32_t i1,
	  uint32_t nt, bool prefetch, bool first, __m512i *accm)
{
	__m512i acc[HEAD_INPUTS][HEAD_STREAMS], xv[HEAD_INPUTS], wv;
	uint32_t i, t;
	int s;

	for (t = 0; t < nt; t++)
		for (s = 0; s < HEAD_STREAMS; s++)
			acc[t][s] = first ? _mm512_setzero_si512() : accm[t * HEAD_STREAMS + s];
	for (i = i0; i < i1; i += 64) {
		for (t = 0; t < nt; t++)
			xv[t] = _mm512_loadu_si512(x + t * x_stride + i);
		for (s = 0; s < HEAD_STREAMS; s++) {
			if (prefetch)
				__builtin_prefetch(w[s] + i + HEAD_PREFETCH, 0, 2);
			wv = _mm512_loadu_si512(w[s] + i);
			for (t = 0; t < nt; t++)
				acc[t][s] = dpbusd(acc[t][s], xv[t], wv);
		}
	}
	for (t = 0; t < nt; t++)
		for (s = 0; s < HEAD_STREAMS; s++)
			accm[t * HEAD_STREAMS + s] = acc[t][s];
}

/* The kernel's shapes, each compiled with its loops unrolled. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
dotn_u8s8_vnni(const uint8_t *x, size_t x_stride, const int8_t *const *w, uint32_t i0, uint32_t i1,
	       uint32_t nt, bool prefetch, bool first, __m512i *accm)
{
	if (nt == 3 && prefetch)
		dotn_u8s8(x, x_stride, w, i0, i1, 3, true, first, accm);
	else if (nt == 3)
		dotn_u8s8(x, x_stride, w, i0, i1, 3, false, first, accm);
	else if (nt == 2 && prefetch)
		dotn_u8s8(x, x_stride, w, i0, i1, 2, true, first, accm);
	else if (nt == 2)
		dotn_u8s8(x, x_stride, w, i0, i1, 2, false, first, accm);
	else if (prefetch)
		dotn_u8s8(x, x_stride, w, i0, i1, 1, true, first, accm);
	else
		dotn_u8s8(x, x_stride, w, i0, i1, 1, false, first, accm);
}

/*
 * dot[t * HEAD_STREAMS + s] = dot(x + t * x_stride, w[s]) for @n_x inputs.
 * Inputs go in passes of HEAD_INPUTS and only the first pass prefetches, so
 * with whole rows per pass DRAM idled through the later ones (the head
 * with 4 inputs took 1.18x, with 8 1.40x the time of one). Several passes
 * go over HEAD_BLOCK columns at a time instead, the accumulators kept on
 * the stack in between: 8 inputs 1.15x of one (640 measured best; 512 and
 * 1280 gained little, 256 lost; 2 threads on the EPYC here).
 */
#define HEAD_BLOCK 640

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
dot_rows(const uint8_t *x, size_t x_stride, const int8_t *const *w, uint32_t cols, uint32_t n_x,
	 int32_t *dot)
{
	__m512i accm[HEAD_ROWS_MAX * HEAD_STREAMS];
	uint32_t whole = cols & ~63u, step = n_x > HEAD_INPUTS ? HEAD_BLOCK : whole;
	uint32_t i0, i1, n, nt, j;
	int s;

	if (!step)
		step = 64;
	for (i0 = 0; i0 < whole; i0 += step) {
		i1 = whole - i0 < step ? whole : i0 + step;
		for (n = 0; n < n_x; n += nt) {
			nt = n_x - n < HEAD_INPUTS ? n_x - n : HEAD_INPUTS;
			dotn_u8s8_vnni(x + (size_t)n * x_stride, x_stride, w, i0, i1, nt, n == 0,
				       i0 == 0, accm + n * HEAD_STREAMS);
		}
	}
	for (n = 0; n < n_x; n++)
		for (s = 0; s < HEAD_STREAMS; s++) {
			int32_t *r = &dot[n * HEAD_STREAMS + s];

			*r = whole ? _mm512_reduce_add_epi32(accm[n * HEAD_STREAMS + s]) : 0;
			for (j = whole; j < cols; j++)
				*r += x[n * x_stride + j] * w[s][j];
		}
}

static void head_q8_out(const struct bn_q8rows *h, uint32_t r, int32_t dot, float sigma, float *out)
{
	*out = (float)(dot - 128 * h->sum[r]) * h->scale[r] / sigma;
}

void bn_q8rows_matmul_q8(const struct bn_q8rows *h, uint32_t r0, uint32_t r1, const uint8_t *xq,
			 const float *sigma, uint32_t n_x, float *out, size_t out_stride)
{
	uint32_t part = (r1 - r0) / HEAD_STREAMS, left = (r1 - r0) % HEAD_STREAMS;
	uint32_t steps = part + (left != 0), i, n, row[HEAD_STREAMS];
	const int8_t *w[HEAD_STREAMS];
	int32_t dot[HEAD_ROWS_MAX * HEAD_STREAMS];
	uint32_t s, keep;

	for (i = 0; i < steps; i++) {
		/* the last step takes the rows left over, the last one several times */
		keep = i < part ? HEAD_STREAMS : left;
		for (s = 0; s < HEAD_STREAMS; s++) {
			row[s] = i < part ? r0 + s * part + i :
					    r0 + HEAD_STREAMS * part + (s < left ? s : left - 1);
			w[s] = h->q + (size_t)row[s] * h->cols;
		}
		for (n = 0; n < n_x; n += HEAD_ROWS_MAX) {
			uint32_t nn = n_x - n < HEAD_ROWS_MAX ? n_x - n : HEAD_ROWS_MAX, t;

			dot_rows(xq + (size_t)n * h->cols, h->cols, w, h->cols, nn, dot);
			for (t = 0; t < nn; t++)
				for (s = 0; s < keep; s++)
					head_q8_out(h, row[s], dot[t * HEAD_STREAMS + s],
						    sigma[n + t],
						    out + (n + t) * out_stride + row[s]);
		}
	}
}
