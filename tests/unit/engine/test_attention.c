// SPDX-License-Identifier: GPL-2.0
/*
 * bn_attend against attention computed in double precision: softmax(q.K /
 * sqrt(d)) V for each query head of a group, over many shapes (head counts
 * that do and do not fill a vector pass, head sizes on the SIMD path
 * (multiples of 16 floats) and off it, one to hundreds of positions, a
 * cache row wider than the group). On AVX-512, the exact bits too: each
 * score a chain of multiply-adds per vector lane summed as
 * _mm512_reduce_add_ps() does, a softmax of expf() summed in order, the
 * values weighed in position order, written out below in scalar C; and
 * bn_expf16() against expf().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/kernels/ops.h"
#include "tests/tap.h"

static uint32_t rnd_state = 777;

static float rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (float)((rnd_state >> 8) % 20001) / 10000.0f - 1.0f;
}

/* Max abs error over the heads x d outputs (each of order 1). */
static double check(uint32_t heads, uint32_t d, uint32_t n)
{
	size_t stride = (size_t)d * 3 + 16;
	float *q = malloc((size_t)heads * d * sizeof(float));
	float *k = malloc(n * stride * sizeof(float)), *v = malloc(n * stride * sizeof(float));
	float *sc = malloc((size_t)heads * n * sizeof(float));
	float *out = malloc((size_t)heads * d * sizeof(float));
	double *p = malloc(n * sizeof(double)), err = 0;
	uint32_t j, u, i;

	for (i = 0; i < heads * d; i++)
		q[i] = 2 * rnd();
	for (i = 0; i < n * stride; i++) {
		k[i] = rnd();
		v[i] = rnd();
	}
	bn_attend(q, heads, k, v, stride, n, d, sc, out);
	for (j = 0; j < heads; j++) {
		double mx = -INFINITY, sum = 0;

		for (u = 0; u < n; u++) {
			double s = 0;

			for (i = 0; i < d; i++)
				s += (double)q[j * d + i] * k[u * stride + i];
			p[u] = s / sqrt(d);
			mx = p[u] > mx ? p[u] : mx;
		}
		for (u = 0; u < n; u++)
			sum += p[u] = exp(p[u] - mx);
		for (i = 0; i < d; i++) {
			double o = 0;

			for (u = 0; u < n; u++)
				o += p[u] / sum * v[u * stride + i];
			if (fabs(o - out[j * d + i]) > err)
				err = fabs(o - out[j * d + i]);
		}
	}
	free(q);
	free(k);
	free(v);
	free(sc);
	free(out);
	free(p);
	return err;
}

/* One score as the AVX-512 path sums it: 16 lanes, then halves, quarters, pairs. */
static float score_avx512_order(const float *q, const float *k, uint32_t d, float scale)
{
	float l[16] = { 0 }, t3[8], t6[4];
	uint32_t c, j;

	for (c = 0; c < d; c += 16)
		for (j = 0; j < 16; j++)
			l[j] = fmaf(q[c + j], k[c + j], l[j]);
	for (j = 0; j < 8; j++)
		t3[j] = l[j + 8] + l[j];
	for (j = 0; j < 4; j++)
		t6[j] = t3[j + 4] + t3[j];
	return ((t6[0] + t6[2]) + (t6[1] + t6[3])) * scale;
}

/* Whether bn_attend gives the bits of the order above (d a multiple of 16). */
static bool exact(uint32_t heads, uint32_t d, uint32_t n)
{
	size_t stride = (size_t)d + 16;
	float *q = malloc((size_t)heads * d * sizeof(float));
	float *k = malloc(n * stride * sizeof(float)), *v = malloc(n * stride * sizeof(float));
	float *sc = malloc((size_t)heads * n * sizeof(float)), *p = malloc(n * sizeof(float));
	float *out = malloc((size_t)heads * d * sizeof(float));
	float *want = calloc((size_t)heads * d, sizeof(float));
	uint32_t j, u, i;
	bool same;

	for (i = 0; i < heads * d; i++)
		q[i] = 4 * rnd();
	for (i = 0; i < n * stride; i++) {
		k[i] = rnd();
		v[i] = rnd();
	}
	bn_attend(q, heads, k, v, stride, n, d, sc, out);
	for (j = 0; j < heads; j++) {
		float mx = -INFINITY, sum = 0;

		for (u = 0; u < n; u++) {
			p[u] = score_avx512_order(q + j * d, k + u * stride, d,
						  1.0f / sqrtf((float)d));
			mx = p[u] > mx ? p[u] : mx;
		}
		for (u = 0; u < n; u++) {
			p[u] = expf(p[u] - mx);
			sum += p[u];
		}
		for (u = 0; u < n; u++) {
			p[u] /= sum;
			for (i = 0; i < d; i++)
				want[j * d + i] += p[u] * v[u * stride + i];
		}
	}
	same = !memcmp(out, want, (size_t)heads * d * sizeof(float));
	free(q);
	free(k);
	free(v);
	free(sc);
	free(p);
	free(out);
	free(want);
	return same;
}

/* bn_expf16 on every 4099th float and the edges of expf's fast path. */
static bool expf_same(void)
{
	static const float edge[] = { 0.0f,    -0.0f,  INFINITY, -INFINITY, NAN,     85.4f,
				      -85.5f,  -88.0f, 88.72f,	 88.73f,    -103.0f, -103.5f,
				      -104.0f, 1e-30f, -200.0f,	 0x1p-149f };
	float x[16], y[16];
	uint64_t b;
	uint32_t i, u;
	bool same = true;

	bn_expf16(edge, y);
	for (i = 0; i < 16; i++) {
		float e = expf(edge[i]);

		same &= !memcmp(&e, &y[i], sizeof(e));
	}
	for (b = 0; b < (1ull << 32); b += 16 * 4099) {
		for (i = 0; i < 16; i++) {
			u = (uint32_t)(b + i * 4099);
			memcpy(&x[i], &u, sizeof(u));
		}
		bn_expf16(x, y);
		for (i = 0; i < 16; i++) {
			float e = expf(x[i]);

			same &= !memcmp(&e, &y[i], sizeof(e));
		}
	}
	return same;
}

int main(void)
{
	static const uint32_t shapes[][3] = {
		{ 1, 128, 1 },	{ 4, 128, 300 }, { 2, 128, 17 }, { 5, 64, 33 }, { 3, 48, 9 },
		{ 8, 256, 65 }, { 4, 80, 40 },	 { 1, 16, 500 }, { 6, 32, 2 },	{ 2, 40, 11 },
	};
	char what[96];
	uint32_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		double err = check(shapes[i][0], shapes[i][1], shapes[i][2]);

		snprintf(what, sizeof(what), "%u heads, head size %u, %u positions", shapes[i][0],
			 shapes[i][1], shapes[i][2]);
		tap_ok(err < 1e-5, "%s (max abs error %.2g)", what, err);
	}
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		snprintf(what, sizeof(what), "%u heads, head size %u, %u positions: exact bits",
			 shapes[i][0], shapes[i][1], shapes[i][2]);
		if (bn_simd() < BN_SIMD_AVX512 || shapes[i][1] % 16)
			tap_skip(bn_simd() < BN_SIMD_AVX512 ? "no AVX-512" : "scalar path", "%s",
				 what);
		else
			tap_ok(exact(shapes[i][0], shapes[i][1], shapes[i][2]), "%s", what);
	}
	tap_ok(expf_same(), "bn_expf16 gives expf's bits (1M floats and the edges)");
	tap_plan(tap_n);
	return tap_exit();
}
