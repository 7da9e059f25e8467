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
 */
#include <immintrin.h>
#include <math.h>
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
	for (j = 0; j < heads; j++)
		bn_softmax(scores + (size_t)j * n, n);
	if (simd)
		weigh_avx512(scores, heads, v, stride, n, d, out);
	else
		weigh_scalar(scores, heads, v, stride, n, d, out);
}
