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

/* Scores of heads j..j+H-1: each K row loaded once for all of them. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
scores_pass(uint32_t j, const int H, const float *q, const float *k, size_t stride, uint32_t n,
	    uint32_t d, float scale, float *sc)
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
			sc[(j + h) * n + u] = _mm512_reduce_add_ps(acc[h]) * scale;
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

__attribute__((target("avx512f"))) static void scores_avx512(const float *q, uint32_t heads,
							     const float *k, size_t stride,
							     uint32_t n, uint32_t d, float scale,
							     float *sc)
{
	ATT_FOR_HEADS(heads, scores_pass, q, k, stride, n, d, scale, sc);
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
