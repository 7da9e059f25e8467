// SPDX-License-Identifier: GPL-2.0
/*
 * Attention of one position over its sequence's cached keys and values, for
 * the query heads that share one K/V head (GQA): each cached K and V row is
 * read once for all of them instead of once per query head. Decode spends
 * its attention time streaming the cache, so that is what counts.
 *
 * The AVX-512 path and the plain C one compute the same values in the same
 * order (the weighted sum of V as separate multiply and add, per element in
 * position order; this file is built with -ffp-contract=off), except the
 * scores' dot products, whose summation order follows the vector width.
 * The softmax between them is here too, with its vectorised expf().
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "daemon/engine/kernels/ops.h"

#define ATT_HEADS 4 /* query heads per pass over V */
#define ATT_VECS 4  /* 16-float vectors of the head dimension per pass, at most */

static void scores_scalar(const float *q, uint32_t heads, const float *k, size_t stride, uint32_t n,
			  uint32_t d, float scale, float *sc)
{
	uint32_t u, j, i;

	for (u = 0; u < n; u++) {
		const float *kr = k + u * stride;

		for (j = 0; j < heads; j++) {
			float s = 0;

			for (i = 0; i < d; i++)
				s += q[j * d + i] * kr[i];
			sc[j * n + u] = s * scale;
		}
	}
}

static void weigh_scalar(const float *sc, uint32_t heads, const float *v, size_t stride, uint32_t n,
			 uint32_t d, float *out)
{
	uint32_t u, j, i;

	memset(out, 0, (size_t)heads * d * sizeof(float));
	for (u = 0; u < n; u++)
		for (j = 0; j < heads; j++)
			for (i = 0; i < d; i++)
				out[j * d + i] += sc[j * n + u] * v[u * stride + i];
}

/*
 * The SIMD passes take @H heads at a time, a compile-time count (4, 2 or 1)
 * so that the accumulators stay in registers.
 */
#define ATT_FOR_HEADS(heads, pass, ...)            \
	do {                                       \
		uint32_t j_ = 0;                   \
		for (; j_ + 4 <= (heads); j_ += 4) \
			pass(j_, 4, __VA_ARGS__);  \
		if (j_ + 2 <= (heads)) {           \
			pass(j_, 2, __VA_ARGS__);  \
			j_ += 2;                   \
		}                                  \
		if (j_ < (heads))                  \
			pass(j_, 1, __VA_ARGS__);  \
	} while (0)

/* Scores of heads j..j+H-1 in rows of @ld: each K row loaded once for all of them. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
scores_pass(uint32_t j, const int H, const float *q, const float *k, size_t stride, uint32_t n,
	    uint32_t d, float scale, float *sc, uint32_t ld)
{
	uint32_t u, i;
	int h;

	for (u = 0; u < n; u++) {
		const float *kr = k + u * stride;
		__m512 acc[ATT_HEADS];

		for (h = 0; h < H; h++)
			acc[h] = _mm512_setzero_ps();
		for (i = 0; i < d; i += 16) {
			__m512 kv = _mm512_loadu_ps(kr + i);

			for (h = 0; h < H; h++)
				acc[h] = _mm512_fmadd_ps(_mm512_loadu_ps(q + (j + h) * d + i), kv,
							 acc[h]);
		}
		for (h = 0; h < H; h++)
			sc[(j + h) * ld + u] = _mm512_reduce_add_ps(acc[h]) * scale;
	}
}

/*
 * Floats c..c+16V-1 of the output of heads j..j+H-1, in registers while
 * the positions go by: each V row is read once per pass.
 */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
weigh_pass(uint32_t j, const int H, uint32_t c, const int V, const float *sc, const float *v,
	   size_t stride, uint32_t n, uint32_t d, float *out)
{
	__m512 acc[ATT_HEADS][ATT_VECS];
	uint32_t u;
	int h, x;

	for (h = 0; h < H; h++)
		for (x = 0; x < V; x++)
			acc[h][x] = _mm512_setzero_ps();
	for (u = 0; u < n; u++) {
		const float *vr = v + u * stride + c;
		__m512 vv[ATT_VECS];

		for (x = 0; x < V; x++)
			vv[x] = _mm512_loadu_ps(vr + 16 * x);
		for (h = 0; h < H; h++) {
			__m512 p = _mm512_set1_ps(sc[(j + h) * n + u]);

			for (x = 0; x < V; x++)
				acc[h][x] = _mm512_add_ps(acc[h][x], _mm512_mul_ps(p, vv[x]));
		}
	}
	for (h = 0; h < H; h++)
		for (x = 0; x < V; x++)
			_mm512_storeu_ps(out + (j + h) * d + c + 16 * x, acc[h][x]);
}

/* All of the head dimension in passes of 64, 32 and 16 floats. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
weigh_heads(uint32_t j, const int H, const float *sc, const float *v, size_t stride, uint32_t n,
	    uint32_t d, float *out)
{
	uint32_t c = 0;

	for (; c + 64 <= d; c += 64)
		weigh_pass(j, H, c, 4, sc, v, stride, n, d, out);
	if (c + 32 <= d) {
		weigh_pass(j, H, c, 2, sc, v, stride, n, d, out);
		c += 32;
	}
	if (c < d)
		weigh_pass(j, H, c, 1, sc, v, stride, n, d, out);
}

/*
 * _mm512_reduce_add_ps() of 16 vectors at once, the same sums in the same
 * order (upper half plus lower, then quarters, then the pairs of a quarter,
 * then the pair left) but each add serving two to four vectors: lane
 * 4 * (a % 4) + a / 4 of the result is the sum of vector @a. One reduction
 * per dot product cost as much as the product's multiply-adds.
 */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m512
reduce16(const __m512 *a)
{
	__m512 x[8], y[4], z[2];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44),
				     _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xee));
	for (i = 0; i < 4; i++)
		y[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x[2 * i], x[2 * i + 1], 0x88),
				     _mm512_shuffle_f32x4(x[2 * i], x[2 * i + 1], 0xdd));
	for (i = 0; i < 2; i++)
		z[i] = _mm512_add_ps(_mm512_shuffle_ps(y[2 * i], y[2 * i + 1], 0x44),
				     _mm512_shuffle_ps(y[2 * i], y[2 * i + 1], 0xee));
	return _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88),
			     _mm512_shuffle_ps(z[0], z[1], 0xdd));
}

/*
 * Scores of heads j..j+H-1 at the 16 / H positions from @u: each K row
 * loaded once for all heads, 16 dot products reduced together. Lane l of
 * the reduction is head l / P, position l % P, so each head's scores are
 * adjacent. K is read row after row, in memory order: taking the rows'
 * vectors in turn measured slower once the cache is out of L2 (unrolled,
 * so that the accumulators stay in registers).
 */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
scores_block(uint32_t j, const int H, uint32_t u, const float *q, const float *k, size_t stride,
	     uint32_t n, uint32_t d, float scale, float *sc)
{
	const int P = 16 / H;
	__m512 acc[16], s;
	uint32_t i;
	int a, p, h;

	for (a = 0; a < 16; a++)
		acc[a] = _mm512_setzero_ps();
#pragma GCC unroll 16
	for (p = 0; p < P; p++) {
		for (i = 0; i < d; i += 16) {
			__m512 kv = _mm512_loadu_ps(k + (u + p) * stride + i);

#pragma GCC unroll 4
			for (h = 0; h < H; h++) {
				/* lane h * P + p = 4 * (a % 4) + a / 4 */
				a = (h * P + p) % 4 * 4 + (h * P + p) / 4;
				acc[a] = _mm512_fmadd_ps(_mm512_loadu_ps(q + (j + h) * d + i), kv,
							 acc[a]);
			}
		}
	}
	s = _mm512_mul_ps(reduce16(acc), _mm512_set1_ps(scale));
	if (H == 1) {
		_mm512_storeu_ps(sc + j * n + u, s);
	} else if (H == 2) {
		_mm256_storeu_ps(sc + j * n + u, _mm512_castps512_ps256(s));
		_mm256_storeu_pd((double *)(sc + (j + 1) * n + u),
				 _mm512_extractf64x4_pd(_mm512_castps_pd(s), 1));
	} else {
		for (a = 0; a < 4; a++)
			_mm_storeu_ps(sc + (j + a) * n + u, _mm512_extractf32x4_ps(s, a));
	}
}

/* Whole blocks of positions, the rest one at a time (the same sums). */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
scores_heads(uint32_t j, const int H, const float *q, const float *k, size_t stride, uint32_t n,
	     uint32_t d, float scale, float *sc)
{
	uint32_t u = 0, p = 16 / H;

	for (; u + p <= n; u += p)
		scores_block(j, H, u, q, k, stride, n, d, scale, sc);
	if (u < n)
		scores_pass(j, H, q, k + u * stride, stride, n - u, d, scale, sc + u, n);
}

__attribute__((target("avx512f"))) static void scores_avx512(const float *q, uint32_t heads,
							     const float *k, size_t stride,
							     uint32_t n, uint32_t d, float scale,
							     float *sc)
{
	ATT_FOR_HEADS(heads, scores_heads, q, k, stride, n, d, scale, sc);
}

__attribute__((target("avx512f"))) static void weigh_avx512(const float *sc, uint32_t heads,
							    const float *v, size_t stride,
							    uint32_t n, uint32_t d, float *out)
{
	ATT_FOR_HEADS(heads, weigh_heads, sc, v, stride, n, d, out);
}

/*
 * expf() of 16 floats as glibc computes it (sysdeps/ieee754/flt-32/e_expf.c,
 * the FMA build that every AVX-512 CPU runs): 2^(k/32) from a table times a
 * cubic in double precision, the same fused operations in the same order,
 * so the same bits. Lanes where that code leaves the fast path (|x| >= 85.5,
 * NaN, infinities) are handed to expf() itself. The softmax spent more time
 * in scalar expf() calls than the dot products of its scores.
 */
static const uint64_t exp2f_tab[32] = {
	0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
	0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
	0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
	0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
	0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
	0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
	0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
	0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/* Eight lanes of the fast path, in double precision. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) __m256
expf8_avx512(__m256 xf, const __m512i *tab)
{
	const __m512d inv_ln2_n = _mm512_set1_pd(0x1.71547652b82fep+5);
	const __m512d shift = _mm512_set1_pd(0x1.8p+52);
	__m512d xd = _mm512_cvtps_pd(xf), kd, r, r2, z, y, s;
	__m512i ki, t, lo, hi;

	kd = _mm512_fmadd_pd(inv_ln2_n, xd, shift);
	ki = _mm512_castpd_si512(kd);
	kd = _mm512_sub_pd(kd, shift);
	r = _mm512_fmsub_pd(inv_ln2_n, xd, kd);
	/* tab[ki % 32]: bits 0-3 pick within a pair of registers, bit 4 the pair */
	lo = _mm512_permutex2var_epi64(tab[0], ki, tab[1]);
	hi = _mm512_permutex2var_epi64(tab[2], ki, tab[3]);
	t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), lo, hi);
	s = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(ki, 47)));
	z = _mm512_fmadd_pd(_mm512_set1_pd(0x1.c6af84b912394p-20), r,
			    _mm512_set1_pd(0x1.ebfce50fac4f3p-13));
	r2 = _mm512_mul_pd(r, r);
	y = _mm512_fmadd_pd(r, _mm512_set1_pd(0x1.62e42ff0c52d6p-6), _mm512_set1_pd(1.0));
	y = _mm512_fmadd_pd(z, r2, y);
	return _mm512_cvtpd_ps(_mm512_mul_pd(y, s));
}

__attribute__((target("avx512f"))) static __m512 expf16_avx512(__m512 x, const __m512i *tab)
{
	__m512i top = _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(x), 20),
				       _mm512_set1_epi32(0x7ff));
	__mmask16 slow = _mm512_cmpgt_epi32_mask(top, _mm512_set1_epi32(0x42a));
	__m512d halves = _mm512_castps_pd(x);
	__m256 lo = expf8_avx512(_mm512_castps512_ps256(x), tab);
	__m256 hi = expf8_avx512(_mm256_castpd_ps(_mm512_extractf64x4_pd(halves, 1)), tab);
	__m512d both = _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)),
					  _mm256_castps_pd(hi), 1);
	__m512 y = _mm512_castpd_ps(both);

	if (slow) {
		float in[16], out[16];
		int i;

		_mm512_storeu_ps(in, x);
		_mm512_storeu_ps(out, y);
		for (i = 0; i < 16; i++)
			if (slow >> i & 1)
				out[i] = expf(in[i]);
		y = _mm512_loadu_ps(out);
	}
	return y;
}

__attribute__((target("avx512f"))) static void expf16_store_avx512(const float *x, float *y)
{
	__m512i tab[4];

	memcpy(tab, exp2f_tab, sizeof(tab));
	_mm512_storeu_ps(y, expf16_avx512(_mm512_loadu_ps(x), tab));
}

void bn_expf16(const float *x, float *y)
{
	int i;

	if (bn_simd() >= BN_SIMD_AVX512) {
		expf16_store_avx512(x, y);
		return;
	}
	for (i = 0; i < 16; i++)
		y[i] = expf(x[i]);
}

/* x = expf(x - max(x)) over one row, without the sum. */
__attribute__((target("avx512f"))) static void exp_row_avx512(float *x, uint32_t n)
{
	__m512 m = _mm512_set1_ps(-INFINITY), mx;
	__m512i tab[4];
	float mxs;
	uint32_t i;

	memcpy(tab, exp2f_tab, sizeof(tab));
	for (i = 0; i + 16 <= n; i += 16)
		m = _mm512_max_ps(_mm512_loadu_ps(x + i), m); /* a NaN x keeps m, as '>' does */
	mxs = _mm512_reduce_max_ps(m);
	for (; i < n; i++)
		if (x[i] > mxs)
			mxs = x[i];
	mx = _mm512_set1_ps(mxs);
	for (i = 0; i + 16 <= n; i += 16)
		_mm512_storeu_ps(x + i,
				 expf16_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + i), mx), tab));
	for (; i < n; i++)
		x[i] = expf(x[i] - mxs);
}

__attribute__((target("avx512f"))) static void div_row_avx512(float *x, uint32_t n, float sum)
{
	__m512 sm = _mm512_set1_ps(sum);
	uint32_t i;

	for (i = 0; i + 16 <= n; i += 16)
		_mm512_storeu_ps(x + i, _mm512_div_ps(_mm512_loadu_ps(x + i), sm));
	for (; i < n; i++)
		x[i] /= sum;
}

/*
 * bn_softmax's bits for @rows rows of @n: the largest value, x = expf(x -
 * max) summed in index order (one chain of adds per row, as the scalar
 * loop), then x / sum. The chains of up to 4 rows go side by side: one
 * alone waits on each add's latency, and that was most of the softmax once
 * expf() was vectorised.
 */
static inline __attribute__((always_inline)) void softmax_rows4(float *x, const int R, uint32_t n)
{
	float sum[4] = { 0 };
	uint32_t i;
	int r;

	for (r = 0; r < R; r++)
		exp_row_avx512(x + (size_t)r * n, n);
	for (i = 0; i < n; i++)
		for (r = 0; r < R; r++)
			sum[r] += x[(size_t)r * n + i];
	for (r = 0; r < R; r++)
		div_row_avx512(x + (size_t)r * n, n, sum[r]);
}

static void softmax_rows_avx512(float *x, uint32_t rows, uint32_t n)
{
	for (; rows >= 4; rows -= 4, x += (size_t)4 * n)
		softmax_rows4(x, 4, n);
	if (rows == 3)
		softmax_rows4(x, 3, n);
	else if (rows == 2)
		softmax_rows4(x, 2, n);
	else if (rows == 1)
		softmax_rows4(x, 1, n);
}

void bn_softmax(float *x, uint32_t n)
{
	float mx = -INFINITY, sum = 0;
	uint32_t i;

	if (bn_simd() >= BN_SIMD_AVX512) {
		softmax_rows_avx512(x, 1, n);
		return;
	}
	for (i = 0; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (i = 0; i < n; i++) {
		x[i] = expf(x[i] - mx);
		sum += x[i];
	}
	for (i = 0; i < n; i++)
		x[i] /= sum;
}

void bn_attend(const float *q, uint32_t heads, const float *k, const float *v, size_t stride,
	       uint32_t n, uint32_t d, float *scores, float *out)
{
	float scale = 1.0f / sqrtf((float)d);
	bool simd = d % 16 == 0 && bn_simd() >= BN_SIMD_AVX512;
	uint32_t j;

	if (simd)
		scores_avx512(q, heads, k, stride, n, d, scale, scores);
	else
		scores_scalar(q, heads, k, stride, n, d, scale, scores);
	if (simd)
		softmax_rows_avx512(scores, heads, n);
	else
		for (j = 0; j < heads; j++)
			bn_softmax(scores + (size_t)j * n, n);
	if (simd)
		weigh_avx512(scores, heads, v, stride, n, d, out);
	else
		weigh_scalar(scores, heads, v, stride, n, d, out);
}
