// SPDX-License-Identifier: GPL-2.0
/*
 * bn_attend against attention computed in double precision: softmax(q.K /
 * sqrt(d)) V for each query head of a group, over many shapes (head counts
 * that do and do not fill a vector pass, head sizes on the SIMD path
 * (multiples of 16 floats) and off it, one to hundreds of positions, a
 * cache row wider than the group).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
	tap_plan(tap_n);
	return tap_exit();
}
