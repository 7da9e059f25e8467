// SPDX-License-Identifier: GPL-2.0
/*
 * Q6_K rows (quant_k.c has the layout) times int8 inputs. With the quants
 * taken unsigned (q in 0..63) and the input signed (x = xq - 128),
 * dot(q - 32, x) = dot(q, x) - 32 * sum(x): the second term is the input's
 * alone, computed once per token and sub-block, so every sum stays exact
 * and only the super-block's f16 scale is applied in float.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/head_q6k.h"
#include "daemon/engine/quant_k.h"
#include "kmod/core/bnc_quant.h"

#define SUB 16				       /* elements per int8 scale */
#define Q6K_BYTES 210			       /* bytes per super-block */
#define Q6K_SCALES (BN_QK_K / 2 + BN_QK_K / 4) /* offset of the 16 scales */
#define Q6K_D (Q6K_SCALES + BN_QK_K / SUB)     /* offset of the f16 d */
#define Q6K_STREAMS 4			       /* rows read at once, spread over the range */

/* -32 * sum(x) of each sub-block of one input vector, x = xq - 128. */
static void sub_bias(const uint8_t *xq, uint32_t cols, int32_t *bias)
{
	uint32_t j, e;

	for (j = 0; j < cols / SUB; j++, xq += SUB) {
		int32_t sum = 0;

		for (e = 0; e < SUB; e++)
			sum += xq[e] - 128;
		bias[j] = -32 * sum;
	}
}

static float d_of(const uint8_t *b)
{
	uint16_t h;

	memcpy(&h, b + Q6K_D, 2);
	return bnc_fp16_to_fp32(h);
}

/* The reference: one super-block's sum_j sc_j * (dot_j(q, x) + bias_j). */
static int32_t block_scalar(const uint8_t *b, const uint8_t *xq, const int32_t *bias)
{
	const int8_t *sc = (const int8_t *)(b + Q6K_SCALES);
	int32_t dot[BN_QK_K / SUB] = { 0 }, acc = 0;
	int h, k, l, j;

	for (h = 0; h < 2; h++) {
		for (k = 0; k < 4; k++) {
			for (l = 0; l < 32; l++) {
				int lo = b[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1)) & 0xF;
				int hi = b[BN_QK_K / 2 + 32 * h + l] >> (2 * k) & 3;
				int e = 128 * h + 32 * k + l;

				dot[e / SUB] += (lo | hi << 4) * (xq[e] - 128);
			}
		}
	}
	for (j = 0; j < BN_QK_K / SUB; j++)
		acc += sc[j] * (dot[j] + bias[j]);
	return acc;
}

static float row_scalar(const uint8_t *row, uint32_t cols, const uint8_t *xq, const int32_t *bias)
{
	float acc = 0;
	uint32_t i;

	for (i = 0; i < cols; i += BN_QK_K, row += Q6K_BYTES)
		acc += d_of(row) * (float)block_scalar(row, xq + i, bias + i / SUB);
	return acc;
}

/*
 * Bias of 4 sub-blocks in lanes 0, 4, 8, 12 (the lanes dpbusd sums the
 * sub-blocks' first 4 elements into), zero elsewhere.
 */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static __m512i bias4(const int32_t *b)
{
	return _mm512_maskz_expandloadu_epi32(0x1111, b);
}

/* Each of 4 int8 scales widened to int32 and repeated in 4 lanes. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static __m512i scales4(const int8_t *sc)
{
	int32_t four;

	memcpy(&four, sc, 4);
	return _mm512_cvtepi8_epi32(
		_mm_shuffle_epi8(_mm_cvtsi32_si128(four),
				 _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3)));
}

/*
 * One super-block against the input, as 16 int32 lanes: per half, the
 * first 64 elements take ql's low nibbles and qh bits 0-1 / 2-3, the next
 * 64 the high nibbles and bits 4-5 / 6-7.
 */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static __m512i
block_vnni(const uint8_t *b, const __m512i *x, const int32_t *bias)
{
	const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3);
	const int8_t *sc = (const int8_t *)(b + Q6K_SCALES);
	__m512i acc = _mm512_setzero_si512();
	int h;

	for (h = 0; h < 2; h++) {
		__m512i ql = _mm512_loadu_si512(b + 64 * h);
		__m256i qh = _mm256_loadu_si256((const __m256i *)(b + BN_QK_K / 2 + 32 * h));
		__m512i hi01 =
			_mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
		__m512i hi23 = _mm512_srli_epi16(hi01, 4);
		__m512i qa = _mm512_or_si512(_mm512_and_si512(ql, low4),
					     _mm512_slli_epi16(_mm512_and_si512(hi01, low2), 4));
		__m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
					     _mm512_slli_epi16(_mm512_and_si512(hi23, low2), 4));
		__m512i da = _mm512_dpbusd_epi32(bias4(bias + 8 * h), qa, x[2 * h]);
		__m512i db = _mm512_dpbusd_epi32(bias4(bias + 8 * h + 4), qb, x[2 * h + 1]);

		acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(da, scales4(sc + 8 * h)));
		acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(db, scales4(sc + 8 * h + 4)));
	}
	return acc;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
rows_vnni(const struct bn_ftensor *t, const uint8_t *xq, const int32_t *bias, const uint32_t *row,
	  uint32_t ns, float *res)
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);
	__m512 acc[Q6K_STREAMS];
	uint32_t i, s;

	for (s = 0; s < ns; s++)
		acc[s] = _mm512_setzero_ps();
	for (i = 0; i < t->cols; i += BN_QK_K) {
		__m512i x[4];
		int c;

		for (c = 0; c < 4; c++)
			x[c] = _mm512_xor_si512(_mm512_loadu_si512(xq + i + 64 * c), flip);
		for (s = 0; s < ns; s++) {
			const uint8_t *b = (const uint8_t *)t->data +
					   (size_t)row[s] * t->row_bytes +
					   (size_t)i / BN_QK_K * Q6K_BYTES;
			__m512i d;

			__builtin_prefetch(b + 2048, 0, 3);
			__builtin_prefetch(b + 2048 + 64, 0, 3);
			__builtin_prefetch(b + 2048 + 128, 0, 3);
			d = block_vnni(b, x, bias + i / SUB);
			acc[s] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_set1_ps(d_of(b)),
						 acc[s]);
		}
	}
	for (s = 0; s < ns; s++)
		res[s] = _mm512_reduce_add_ps(acc[s]);
}

void bn_q6k_matmul_q8(const struct bn_ftensor *t, uint32_t r0, uint32_t r1, const uint8_t *xq,
		      const float *sigma, uint32_t n_x, float *out, size_t out_stride,
		      enum bn_simd simd)
{
	uint32_t part = (r1 - r0) / Q6K_STREAMS, steps = part + (r1 - r0) % Q6K_STREAMS;
	uint32_t subs = t->cols / SUB, i, n, s, ns, row[Q6K_STREAMS];
	int32_t *bias = malloc((size_t)n_x * subs * sizeof(int32_t));
	float dot[Q6K_STREAMS];

	if (!bias)
		abort(); /* a few KiB next to a head of hundreds of MB */
	for (n = 0; n < n_x; n++)
		sub_bias(xq + (size_t)n * t->cols, t->cols, bias + (size_t)n * subs);
	for (i = 0; i < steps; i++) {
		/* streams an equal part of the range apart; then the rows left over */
		ns = i < part ? Q6K_STREAMS : 1;
		for (s = 0; s < ns; s++)
			row[s] = i < part ? r0 + s * part + i : r0 + Q6K_STREAMS * part + i - part;
		for (n = 0; n < n_x; n++) {
			const uint8_t *x = xq + (size_t)n * t->cols;
			const int32_t *b = bias + (size_t)n * subs;

			if (simd >= BN_SIMD_AVX512_VNNI)
				rows_vnni(t, x, b, row, ns, dot);
			else
				for (s = 0; s < ns; s++)
					dot[s] = row_scalar((const uint8_t *)t->data +
								    (size_t)row[s] * t->row_bytes,
							    t->cols, x, b);
			for (s = 0; s < ns; s++)
				out[n * out_stride + row[s]] = dot[s] / sigma[n];
		}
	}
	free(bias);
}
