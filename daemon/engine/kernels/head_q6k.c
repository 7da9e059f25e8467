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

#include "daemon/engine/kernels/head_q6k.h"
#include "daemon/engine/kernels/quant_k.h"
#include "kmod/core/bnc_quant.h"

#define SUB 16				       /* elements per int8 scale */
#define Q6K_BYTES 210			       /* bytes per super-block */
#define Q6K_SCALES (BN_QK_K / 2 + BN_QK_K / 4) /* offset of the 16 scales */
#define Q6K_D (Q6K_SCALES + BN_QK_K / SUB)     /* offset of the f16 d */
#define Q6K_STREAMS 4			       /* rows read at once, spread over the range */
#define Q6K_INPUTS 8			       /* inputs of a batched step per pass over a row */

/* -sum(x) of each sub-block of one input vector, x = xq - 128 (|sum| <= 2048). */
static void sub_sums(const uint8_t *xq, uint32_t cols, int16_t *nsum)
{
	uint32_t j, e;

	for (j = 0; j < cols / SUB; j++, xq += SUB) {
		int32_t sum = 0;

		for (e = 0; e < SUB; e++)
			sum += xq[e] - 128;
		nsum[j] = (int16_t)-sum;
	}
}

static float d_of(const uint8_t *b)
{
	uint16_t h;

	memcpy(&h, b + Q6K_D, 2);
	return bnc_fp16_to_fp32(h);
}

/* The reference: one super-block's sum_j sc_j * (dot_j(q, x) - 32 * sum_j(x)). */
static int32_t block_scalar(const uint8_t *b, const uint8_t *xq, const int16_t *nsum)
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
		acc += sc[j] * (dot[j] + 32 * nsum[j]);
	return acc;
}

static float row_scalar(const uint8_t *row, uint32_t cols, const uint8_t *xq, const int16_t *nsum)
{
	float acc = 0;
	uint32_t i;

	for (i = 0; i < cols; i += BN_QK_K, row += Q6K_BYTES)
		acc += d_of(row) * (float)block_scalar(row, xq + i, nsum + i / SUB);
	return acc;
}

#define Q6K_TARGET "avx512f,avx512bw,avx512vnni,f16c"

/* int16 lane j of 64-element group c takes the scale of sub-block 4c + j / 8 */
#define PICK8(v) v, v, v, v, v, v, v, v
#define PICK(c)                                                                            \
	{                                                                                  \
		PICK8(4 * (c)), PICK8(4 * (c) + 1), PICK8(4 * (c) + 2), PICK8(4 * (c) + 3) \
	}
static const int16_t scale_pick[4][32] = { PICK(0), PICK(1), PICK(2), PICK(3) };

/*
 * A super-block's 256 quants as four vectors of 64 unsigned bytes (0..63)
 * in element order: per half, the first 64 elements take ql's low nibbles
 * and qh bits 0-1 / 2-3, the next 64 the high nibbles and bits 4-5 / 6-7.
 */
__attribute__((target(Q6K_TARGET))) static void unpack(const uint8_t *b, __m512i *q)
{
	const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3);
	int h;

	for (h = 0; h < 2; h++) {
		__m512i ql = _mm512_loadu_si512(b + 64 * h);
		__m256i qh = _mm256_loadu_si256((const __m256i *)(b + BN_QK_K / 2 + 32 * h));
		__m512i hi01 =
			_mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
		__m512i hi23 = _mm512_srli_epi16(hi01, 4);

		q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low4),
					   _mm512_slli_epi16(_mm512_and_si512(hi01, low2), 4));
		q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
					       _mm512_slli_epi16(_mm512_and_si512(hi23, low2), 4));
	}
}

/* The block's 16 int8 scales as int16, then each repeated per group lane. */
__attribute__((target(Q6K_TARGET))) static __m256i scales16(const uint8_t *b)
{
	return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + Q6K_SCALES)));
}

/*
 * One super-block against one input, as 16 int32 lanes. maddubs sums
 * element pairs to int16 (|q x| <= 63 * 128 * 2 fits) and dpwssd multiplies
 * each pair sum by its sub-block's scale while summing to int32, so the
 * scales cost no separate multiply; @nsum holds -sum(x) per sub-block,
 * which times 32 * scale is the bias of the q - 32 offset.
 */
__attribute__((target(Q6K_TARGET))) static __m512i
block_dot(const __m512i *q, __m256i sc16, const __m512i *sc, const __m512i *x, __m256i nsum)
{
	__m512i acc = _mm512_zextsi256_si512(_mm256_madd_epi16(_mm256_slli_epi16(sc16, 5), nsum));
	int c;

	for (c = 0; c < 4; c++)
		acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(q[c], x[c]), sc[c]);
	return acc;
}

__attribute__((target(Q6K_TARGET))) static void group_scales(__m256i sc16, __m512i *sc)
{
	const __m512i all = _mm512_zextsi256_si512(sc16);
	int c;

	for (c = 0; c < 4; c++)
		sc[c] = _mm512_permutexvar_epi16(_mm512_loadu_si512(scale_pick[c]), all);
}

__attribute__((target(Q6K_TARGET))) static void load_x(const uint8_t *xq, __m512i *x)
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);
	int c;

	for (c = 0; c < 4; c++)
		x[c] = _mm512_xor_si512(_mm512_loadu_si512(xq + 64 * c), flip);
}

/* acc += the block's lanes times its f16 scale: the same steps on every path. */
__attribute__((target(Q6K_TARGET))) static __m512 add_block(__m512 acc, __m512i dot,
							    const uint8_t *b)
{
	uint16_t d;

	memcpy(&d, b + Q6K_D, 2);
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(_cvtsh_ss(d)), acc);
}

static const uint8_t *block_at(const struct bn_ftensor *t, uint32_t row, uint32_t i)
{
	return (const uint8_t *)t->data + (size_t)row * t->row_bytes +
	       (size_t)i / BN_QK_K * Q6K_BYTES;
}

/* @ns rows against one input: each load of the input serves all of them. */
__attribute__((target(Q6K_TARGET))) static void rows_vnni(const struct bn_ftensor *t,
							  const uint8_t *xq, const int16_t *nsum,
							  const uint32_t *row, uint32_t ns,
							  float *res)
{
	__m512 acc[Q6K_STREAMS];
	uint32_t i, s;

	for (s = 0; s < ns; s++)
		acc[s] = _mm512_setzero_ps();
	for (i = 0; i < t->cols; i += BN_QK_K) {
		__m256i bsum = _mm256_loadu_si256((const __m256i *)(nsum + i / SUB));
		__m512i x[4], q[4], sc[4];

		load_x(xq + i, x);
		for (s = 0; s < ns; s++) {
			const uint8_t *b = block_at(t, row[s], i);
			__m256i sc16 = scales16(b);

			__builtin_prefetch(b + 2048, 0, 3);
			__builtin_prefetch(b + 2048 + 64, 0, 3);
			__builtin_prefetch(b + 2048 + 128, 0, 3);
			unpack(b, q);
			group_scales(sc16, sc);
			acc[s] = add_block(acc[s], block_dot(q, sc16, sc, x, bsum), b);
		}
	}
	for (s = 0; s < ns; s++)
		res[s] = _mm512_reduce_add_ps(acc[s]);
}

/*
 * One row against @nx <= Q6K_INPUTS inputs (a batched step): each block
 * is unpacked once for all of them, and every input's sum takes the same
 * steps as in rows_vnni(), so batching changes no bits.
 */
__attribute__((target(Q6K_TARGET))) static void inputs_vnni(const struct bn_ftensor *t,
							    const uint8_t *xq, const int16_t *nsum,
							    uint32_t row, uint32_t nx, float *res)
{
	uint32_t subs = t->cols / SUB, i, n;
	__m512 acc[Q6K_INPUTS];

	for (n = 0; n < nx; n++)
		acc[n] = _mm512_setzero_ps();
	for (i = 0; i < t->cols; i += BN_QK_K) {
		const uint8_t *b = block_at(t, row, i);
		__m256i sc16 = scales16(b);
		__m512i q[4], sc[4];

		__builtin_prefetch(b + 2048, 0, 3);
		__builtin_prefetch(b + 2048 + 64, 0, 3);
		__builtin_prefetch(b + 2048 + 128, 0, 3);
		unpack(b, q);
		group_scales(sc16, sc);
		for (n = 0; n < nx; n++) {
			const int16_t *ns = nsum + (size_t)n * subs + i / SUB;
			__m512i x[4];

			load_x(xq + (size_t)n * t->cols + i, x);
			acc[n] = add_block(acc[n],
					   block_dot(q, sc16, sc, x,
						     _mm256_loadu_si256((const __m256i *)ns)),
					   b);
		}
	}
	for (n = 0; n < nx; n++)
		res[n] = _mm512_reduce_add_ps(acc[n]);
}

void bn_q6k_matmul_q8(const struct bn_ftensor *t, uint32_t r0, uint32_t r1, const uint8_t *xq,
		      const float *sigma, uint32_t n_x, float *out, size_t out_stride,
		      enum bn_simd simd)
{
	uint32_t part = (r1 - r0) / Q6K_STREAMS, steps = part + (r1 - r0) % Q6K_STREAMS;
	uint32_t subs = t->cols / SUB, i, n, s, ns, row[Q6K_STREAMS];
	int16_t *nsum = malloc((size_t)n_x * subs * sizeof(int16_t));
	float dot[Q6K_STREAMS];

	if (!nsum)
		abort(); /* a few KiB next to a head of hundreds of MB */
	for (n = 0; n < n_x; n++)
		sub_sums(xq + (size_t)n * t->cols, t->cols, nsum + (size_t)n * subs);
	if (n_x > 1 && simd >= BN_SIMD_AVX512_VNNI) {
		/* a batched step: its inputs in groups against each row in turn */
		for (i = r0; i < r1; i++) {
			for (n = 0; n < n_x; n += Q6K_INPUTS) {
				uint32_t k = n_x - n < Q6K_INPUTS ? n_x - n : Q6K_INPUTS, j;
				float res[Q6K_INPUTS];

				inputs_vnni(t, xq + (size_t)n * t->cols, nsum + (size_t)n * subs, i,
					    k, res);
				for (j = 0; j < k; j++)
					out[(n + j) * out_stride + i] = res[j] / sigma[n + j];
			}
		}
		free(nsum);
		return;
	}
	for (i = 0; i < steps; i++) {
		/* streams an equal part of the range apart; then the rows left over */
		ns = i < part ? Q6K_STREAMS : 1;
		for (s = 0; s < ns; s++)
			row[s] = i < part ? r0 + s * part + i : r0 + Q6K_STREAMS * part + i - part;
		for (n = 0; n < n_x; n++) {
			const uint8_t *x = xq + (size_t)n * t->cols;
			const int16_t *b = nsum + (size_t)n * subs;

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
	free(nsum);
}
