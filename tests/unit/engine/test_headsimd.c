// SPDX-License-Identifier: GPL-2.0
/*
 * The heads that take the int8 input: the 4-bit grouped one (--head q4)
 * and a file's Q6_K rows as stored. For every row range (the VNNI paths
 * stream rows an equal part of the range apart, then the leftovers), the
 * VNNI and the scalar paths agree, and both equal the definition: the dot
 * product of the dequantized rows with the dequantized input,
 * (xq - 128) / sigma, computed in double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/head_q4.h"
#include "daemon/engine/kernels/head_q6k.h"
#include "daemon/engine/kernels/quant_k.h"
#include "tests/tap.h"

static uint32_t rnd_state = 99;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* The logit by definition; @mag gets the sum of its terms' magnitudes. */
static double definition(const struct bn_q4rows *h, uint32_t r, const uint8_t *xq, float sigma,
			 double *mag)
{
	const uint8_t *w = h->q + (size_t)r * h->cols / 2;
	double acc = 0, term;
	uint32_t i;

	*mag = 0;
	for (i = 0; i < h->cols; i++) {
		uint32_t g = i / BN_Q4_GROUP, j = i % BN_Q4_GROUP, half = BN_Q4_GROUP / 2;
		uint8_t byte = w[g * half + j % half];
		int u = j < half ? byte & 0xF : byte >> 4;

		term = (double)h->scale[(size_t)r * h->cols / BN_Q4_GROUP + g] * (u - 8) *
		       ((int)xq[i] - 128) / sigma;
		acc += term;
		*mag += fabs(term);
	}
	return acc;
}

static const uint32_t ranges[][2] = { { 0, 1 },	  { 0, 7 },    { 3, 11 }, { 0, 64 },
				      { 5, 200 }, { 17, 301 }, { 0, 333 } };
enum {
	ROWS = 333,
	COLS = 2560,
	NX = 3
};
static const float sigma[NX] = { 0.5f, 3.0f, 117.25f };

/* The Q6_K head on random rows quantized by the reference quantizer. */
static void q6k_tests(const float *w, const uint8_t *xq, bool vnni)
{
	uint32_t rb = COLS / BN_QK_K * bn_qblock_bytes(GGUF_T_Q6_K), k, n, r, i;
	uint8_t *q = malloc((size_t)ROWS * rb);
	float *a = malloc(sizeof(float) * NX * ROWS), *b = malloc(sizeof(float) * NX * ROWS);
	float row[COLS];
	struct bn_ftensor t = { q, GGUF_T_Q6_K, ROWS, COLS, rb };
	bool exact = true, same = true, alone = true;
	double worst = 0;

	if (!q || !a || !b || bn_qblock_quantize(GGUF_T_Q6_K, w, ROWS * COLS, q))
		exit(1);
	for (k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		uint32_t r0 = ranges[k][0], r1 = ranges[k][1];

		bn_q6k_matmul_q8(&t, r0, r1, xq, sigma, NX, a, ROWS, BN_SIMD_SCALAR);
		bn_q6k_matmul_q8(&t, r0, r1, xq, sigma, NX, b, ROWS,
				 vnni ? BN_SIMD_AVX512_VNNI : BN_SIMD_SCALAR);
		for (r = r0; r < r1; r++) {
			bn_ftensor_row(&t, r, row);
			for (n = 0; n < NX; n++) {
				double d = 0, mag = 0, term;

				for (i = 0; i < COLS; i++) {
					term = (double)row[i] * ((int)xq[n * COLS + i] - 128) /
					       sigma[n];
					d += term;
					mag += fabs(term);
				}
				/* exact integer sums, then 10 float block terms: 1e-6 */
				worst = fmax(worst, fabs(b[n * ROWS + r] - d) / mag);
				exact = exact && fabs(a[n * ROWS + r] - d) <= 1e-6 * mag &&
					fabs(b[n * ROWS + r] - d) <= 1e-6 * mag;
				same = same &&
				       fabs(a[n * ROWS + r] - b[n * ROWS + r]) <= 1e-6 * mag;
			}
		}
	}
	/* a batched step (all NX inputs at once) and each input alone: same bits */
	for (k = 0; k < sizeof(ranges) / sizeof(ranges[0]) && vnni; k++) {
		uint32_t r0 = ranges[k][0], r1 = ranges[k][1];

		bn_q6k_matmul_q8(&t, r0, r1, xq, sigma, NX, b, ROWS, BN_SIMD_AVX512_VNNI);
		for (n = 0; n < NX; n++) {
			bn_q6k_matmul_q8(&t, r0, r1, xq + n * COLS, sigma + n, 1, a, ROWS,
					 BN_SIMD_AVX512_VNNI);
			alone = alone &&
				!memcmp(a + r0, b + n * ROWS + r0, (r1 - r0) * sizeof(float));
		}
	}
	printf("# Q6_K: worst relative difference from the definition: %.3g\n", worst);
	tap_ok(exact, "Q6_K rows: scalar and SIMD equal the definition on every row range");
	tap_ok(same, vnni ? "Q6_K rows: AVX-512 VNNI agrees with the scalar path" :
			    "# SKIP no AVX-512 VNNI: only the scalar path ran");
	if (vnni)
		tap_ok(alone, "Q6_K rows: a batch of %d inputs gives each the bits it gets alone",
		       NX);
	else
		tap_skip("no AVX-512 VNNI", "Q6_K rows: batched and alone give the same bits");
	free(q);
	free(a);
	free(b);
}

int main(void)
{
	float *w = malloc(sizeof(float) * ROWS * COLS), *out = malloc(sizeof(float) * NX * ROWS);
	float *ref = malloc(sizeof(float) * NX * ROWS);
	uint8_t *xq = malloc(NX * COLS);
	struct bn_ftensor t = { w, GGUF_T_F32, ROWS, COLS, COLS * sizeof(float) };
	struct bn_q4rows h = { 0 };
	bool vnni = bn_simd() >= BN_SIMD_AVX512_VNNI, same = true, exact = true, near = true;
	double worst = 0, wq = 0;
	uint32_t i, k, r, n;

	printf("1..7\n");
	if (!w || !out || !ref || !xq || bn_q4rows_alloc(&h, ROWS, COLS))
		return 1;
	for (i = 0; i < ROWS * COLS; i++)
		w[i] = ((float)(rnd() % 20001) - 10000.0f) * 1e-5f * (i % 61 == 0 ? 9 : 1);
	for (i = 0; i < NX * COLS; i++)
		xq[i] = (uint8_t)(rnd() % 255 + 1);
	tap_ok(bn_q4rows_fill(&h, &t, 0, ROWS) == 0, "rows quantized");
	for (r = 0; r < ROWS; r++) {
		/* quantization error of a weight: at most half a step of its group */
		for (i = 0; i < COLS; i++) {
			uint8_t b = h.q[((size_t)r * COLS + i) / BN_Q4_GROUP * 32 + i % 32];
			int u = i % BN_Q4_GROUP < 32 ? b & 0xF : b >> 4;
			float s = h.scale[((size_t)r * COLS + i) / BN_Q4_GROUP];

			wq = fmax(wq, fabs(s * (u - 8) - w[(size_t)r * COLS + i]) / s);
		}
	}
	tap_ok(wq <= 0.5 + 1e-4, "every weight within half a step of its group's scale");
	for (k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		uint32_t r0 = ranges[k][0], r1 = ranges[k][1];

		bn_q4rows_matmul_q8(&h, r0, r1, xq, sigma, NX, ref, ROWS, BN_SIMD_SCALAR);
		bn_q4rows_matmul_q8(&h, r0, r1, xq, sigma, NX, out, ROWS,
				    vnni ? BN_SIMD_AVX512_VNNI : BN_SIMD_SCALAR);
		for (n = 0; n < NX; n++) {
			for (r = r0; r < r1; r++) {
				double mag, d = definition(&h, r, xq + n * COLS, sigma[n], &mag);
				float a = ref[n * ROWS + r], b = out[n * ROWS + r];

				/*
				 * Exact integer group sums, then 40 float products
				 * and sums (and 16 lanes on VNNI): float rounding
				 * of the terms' magnitudes, 2^-24 each, 1e-6 is
				 * ~17 ulp of headroom.
				 */
				worst = fmax(worst, fabs(a - d) / mag);
				worst = fmax(worst, fabs(b - d) / mag);
				exact = exact && fabs(a - d) <= 1e-6 * mag;
				near = near && fabs(b - d) <= 1e-6 * mag;
				same = same && fabs(a - b) <= 1e-6 * mag;
			}
		}
	}
	printf("# worst relative difference from the definition: %.3g\n", worst);
	tap_ok(exact && near, "scalar and SIMD equal the definition on every row range");
	tap_ok(same, vnni ? "AVX-512 VNNI agrees with the scalar path" :
			    "# SKIP no AVX-512 VNNI: only the scalar path ran");
	q6k_tests(w, xq, vnni);
	bn_q4rows_free(&h);
	free(w);
	free(out);
	free(ref);
	free(xq);
	return tap_exit();
}
