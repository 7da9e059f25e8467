// SPDX-License-Identifier: GPL-2.0
/*
 * The 4-bit grouped output head. Rows are quantized at load (absmax per
 * group of 64, so a large value costs precision only in its own group);
 * the input is the int8 head's per-token quantization, so a group's dot
 * product is exact in integers and only the per-group scaling is float.
 */
#include <errno.h>
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#include "daemon/engine/kernels/head_q4.h"

int bn_q4rows_alloc(struct bn_q4rows *h, uint32_t rows, uint32_t cols)
{
	size_t n = (size_t)rows * cols;

	if (!cols || cols % BN_Q4_GROUP)
		return -EINVAL;
	h->rows = rows;
	h->cols = cols;
	h->q = malloc(n / 2);
	h->scale = malloc(n / BN_Q4_GROUP * sizeof(float));
	if (!h->q || !h->scale) {
		bn_q4rows_free(h);
		return -ENOMEM;
	}
	return 0;
}

void bn_q4rows_free(struct bn_q4rows *h)
{
	free(h->q);
	free(h->scale);
	h->q = NULL;
	h->scale = NULL;
}

static void q4_row(struct bn_q4rows *h, uint32_t r, const float *x)
{
	uint32_t groups = h->cols / BN_Q4_GROUP, g, j;
	uint8_t *q = h->q + (size_t)r * h->cols / 2;
	float *sc = h->scale + (size_t)r * groups;

	for (g = 0; g < groups; g++, x += BN_Q4_GROUP, q += BN_Q4_GROUP / 2) {
		float amax = 0, inv;
		int lo, hi;

		for (j = 0; j < BN_Q4_GROUP; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		/* +-7 steps: symmetric, so the scale alone says what 0 is */
		sc[g] = amax / 7.0f;
		inv = amax > 0 ? 7.0f / amax : 0;
		for (j = 0; j < BN_Q4_GROUP / 2; j++) {
			lo = (int)rintf(x[j] * inv);
			hi = (int)rintf(x[j + BN_Q4_GROUP / 2] * inv);
			q[j] = (uint8_t)((lo + 8) | (hi + 8) << 4);
		}
	}
}

int bn_q4rows_fill(struct bn_q4rows *h, const struct bn_ftensor *t, uint32_t r0, uint32_t r1)
{
	float *row = malloc(t->cols * sizeof(float));
	uint32_t r;

	if (!row)
		return -ENOMEM;
	for (r = r0; r < r1; r++) {
		bn_ftensor_row(t, r, row);
		q4_row(h, r, row);
	}
	free(row);
	return 0;
}

/*
 * Rows read from DRAM at once: one core streams faster from several
 * places than from one, and each load of the input serves all of them.
 */
#define Q4_STREAMS 4
#define Q4_PREFETCH 2048 /* bytes ahead in each row stream */

/*
 * dot(u - 8, x) = dot(u, x) - 8 * sum(x) for the nibbles u and the signed
 * input x: the second term depends on the input only, so it is computed
 * once per vector and group (@bias) and the group sums stay exact integers.
 */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
dotn_q4_vnni(const struct bn_q4rows *h, const uint8_t *xq, const int32_t *bias, const uint32_t *row,
	     uint32_t ns, float *res)
{
	const uint32_t groups = h->cols / BN_Q4_GROUP;
	const __m512i low4 = _mm512_set1_epi8(0x0F), flip = _mm512_set1_epi8((char)0x80);
	const uint8_t *w[Q4_STREAMS];
	const float *sc[Q4_STREAMS];
	__m512 acc[Q4_STREAMS];
	uint32_t g, s;

	for (s = 0; s < ns; s++) {
		w[s] = h->q + (size_t)row[s] * h->cols / 2;
		sc[s] = h->scale + (size_t)row[s] * groups;
		acc[s] = _mm512_setzero_ps();
	}
	for (g = 0; g < groups; g++) {
		/* xq - 128 as int8 */
		const __m512i xv =
			_mm512_xor_si512(_mm512_loadu_si512(xq + (size_t)g * BN_Q4_GROUP), flip);
		const __m512i b0 = _mm512_castsi128_si512(_mm_cvtsi32_si128(bias[g]));

		for (s = 0; s < ns; s++) {
			const uint8_t *p = w[s] + (size_t)g * BN_Q4_GROUP / 2;
			__m256i v = _mm256_loadu_si256((const __m256i *)p);
			/* low nibbles are elements 0..31, high ones 32..63 */
			__m512i u = _mm512_inserti64x4(_mm512_castsi256_si512(v),
						       _mm256_srli_epi16(v, 4), 1);
			__m512i d;

			__builtin_prefetch(p + Q4_PREFETCH, 0, 3);
			d = _mm512_dpbusd_epi32(b0, _mm512_and_si512(u, low4), xv);
			acc[s] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_set1_ps(sc[s][g]),
						 acc[s]);
		}
	}
	for (s = 0; s < ns; s++)
		res[s] = _mm512_reduce_add_ps(acc[s]);
}

/* The reference: the same integer group sums, scaled and added in order. */
static float dot_q4_scalar(const struct bn_q4rows *h, const uint8_t *xq, const int32_t *bias,
			   uint32_t r)
{
	const uint32_t groups = h->cols / BN_Q4_GROUP, half = BN_Q4_GROUP / 2;
	const uint8_t *w = h->q + (size_t)r * h->cols / 2;
	const float *sc = h->scale + (size_t)r * groups;
	float acc = 0;
	uint32_t g, j;

	for (g = 0; g < groups; g++, xq += BN_Q4_GROUP, w += half) {
		int32_t d = bias[g];

		for (j = 0; j < half; j++)
			d += (w[j] & 0xF) * (xq[j] - 128) + (w[j] >> 4) * (xq[j + half] - 128);
		acc += sc[g] * (float)d;
	}
	return acc;
}

/* -8 * sum(x) of each group of one input vector. */
static void group_bias(const uint8_t *xq, uint32_t groups, int32_t *bias)
{
	uint32_t g, j;

	for (g = 0; g < groups; g++, xq += BN_Q4_GROUP) {
		int32_t sum = 0;

		for (j = 0; j < BN_Q4_GROUP; j++)
			sum += xq[j] - 128;
		bias[g] = -8 * sum;
	}
}

void bn_q4rows_matmul_q8(const struct bn_q4rows *h, uint32_t r0, uint32_t r1, const uint8_t *xq,
			 const float *sigma, uint32_t n_x, float *out, size_t out_stride,
			 enum bn_simd simd)
{
	uint32_t part = (r1 - r0) / Q4_STREAMS, i, n, s, ns, row[Q4_STREAMS];
	uint32_t steps = part + (r1 - r0) % Q4_STREAMS, groups = h->cols / BN_Q4_GROUP;
	int32_t bias_buf[64], *bias = bias_buf;
	float dot[Q4_STREAMS];

	if ((size_t)n_x * groups > sizeof(bias_buf) / sizeof(bias_buf[0])) {
		bias = malloc((size_t)n_x * groups * sizeof(int32_t));
		if (!bias)
			abort(); /* a few KiB for a head of gigabytes */
	}
	for (n = 0; n < n_x; n++)
		group_bias(xq + (size_t)n * h->cols, groups, bias + (size_t)n * groups);
	for (i = 0; i < steps; i++) {
		/* streams an equal part of the range apart; then the rows left over */
		ns = i < part ? Q4_STREAMS : 1;
		for (s = 0; s < ns; s++)
			row[s] = i < part ? r0 + s * part + i : r0 + Q4_STREAMS * part + i - part;
		for (n = 0; n < n_x; n++) {
			const uint8_t *x = xq + (size_t)n * h->cols;
			const int32_t *b = bias + (size_t)n * groups;

			if (simd >= BN_SIMD_AVX512_VNNI)
				dotn_q4_vnni(h, x, b, row, ns, dot);
			else
				for (s = 0; s < ns; s++)
					dot[s] = dot_q4_scalar(h, x, b, row[s]);
			for (s = 0; s < ns; s++)
				out[n * out_stride + row[s]] = dot[s] / sigma[n];
		}
	}
	if (bias != bias_buf)
		free(bias);
}
