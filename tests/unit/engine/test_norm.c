// SPDX-License-Identifier: GPL-2.0
/*
 * RMS norm of several rows side by side: every row gets the bits
 * bn_rmsnorm() gives it alone, whatever the row count and width, so a
 * session's output does not depend on the batch it runs in. And the
 * residual add or the gate done in the norm's pass gives the bits of both
 * apart, and RoPE the bits of its two products and a sum per value (no
 * multiply-add).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/kernels/ops.h"
#include "tests/tap.h"

static uint32_t rnd_state = 4242;

static float rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (float)(int32_t)(rnd_state >> 8 & 0xffff) / 4096.0f - 8.0f;
}

/* bn_rope against the rotation written out, both pair layouts. */
static bool rope_same(void)
{
	static const uint32_t dims[] = { 2, 16, 64, 128, 96 };
	float z[128], got[128], want[128], cs[64], sn[64];
	uint32_t k, i, neox;
	bool same = true;

	for (k = 0; k < sizeof(dims) / sizeof(dims[0]); k++) {
		uint32_t half = dims[k] / 2;

		for (neox = 0; neox < 2; neox++) {
			for (i = 0; i < dims[k]; i++)
				z[i] = rnd();
			for (i = 0; i < half; i++) {
				cs[i] = rnd() / 8;
				sn[i] = rnd() / 8;
			}
			memcpy(got, z, sizeof(z));
			bn_rope(got, dims[k], cs, sn, (int)neox);
			for (i = 0; i < half; i++) {
				uint32_t ia = neox ? i : 2 * i, ib = neox ? i + half : 2 * i + 1;
				float ac = z[ia] * cs[i], bs = z[ib] * sn[i];
				float as = z[ia] * sn[i], bc = z[ib] * cs[i];

				want[ia] = ac - bs;
				want[ib] = as + bc;
			}
			same &= !memcmp(got, want, dims[k] * sizeof(float));
		}
	}
	return same;
}

/*
 * bn_add_rmsnorm_rows and bn_relu_sqr_rmsnorm_rows against their two steps
 * apart: the same norm and the same updated input, bit for bit.
 */
static bool fused_same(void)
{
	const uint32_t rows = 7, n = 6912 + 3;
	size_t all = (size_t)rows * n;
	float *x = malloc(all * sizeof(float)), *y = malloc(all * sizeof(float));
	float *p = malloc(all * sizeof(float)), *w = malloc(n * sizeof(float));
	float *got = malloc(all * sizeof(float)), *want = malloc(all * sizeof(float));
	uint32_t r, op, k;
	size_t i;
	bool same = true;

	for (i = 0; i < n; i++)
		w[i] = rnd();
	for (op = 0; op < 2; op++) {
		for (r = 1; r <= rows; r++) {
			for (k = 1; k <= n; k += 2307) {
				for (i = 0; i < all; i++) {
					x[i] = y[i] = rnd();
					p[i] = rnd();
				}
				if (op) {
					bn_relu_sqr_rmsnorm_rows(x, p, w, r, k, 1e-6f, got);
					bn_relu_sqr_mul(y, p, (size_t)r * k);
				} else {
					bn_add_rmsnorm_rows(x, p, w, r, k, 1e-6f, got);
					bn_add_f32(y, p, (size_t)r * k);
				}
				bn_rmsnorm_rows(y, w, r, k, 1e-6f, want);
				same &= !memcmp(got, want, (size_t)r * k * sizeof(float)) &&
					!memcmp(x, y, (size_t)r * k * sizeof(float));
			}
		}
	}
	free(x);
	free(y);
	free(p);
	free(w);
	free(got);
	free(want);
	return same;
}

int main(void)
{
	static const uint32_t widths[] = { 1, 5, 64, 2560, 6912 + 3 };
	const uint32_t max_rows = 11, max_w = 6912 + 3;
	float *x = malloc((size_t)max_rows * max_w * sizeof(float));
	float *w = malloc(max_w * sizeof(float));
	float *got = malloc((size_t)max_rows * max_w * sizeof(float));
	float *want = malloc(max_w * sizeof(float));
	bool same = true;
	uint32_t i, k, rows, r;

	if (!x || !w || !got || !want)
		return 1;
	for (i = 0; i < max_rows * max_w; i++)
		x[i] = rnd();
	for (i = 0; i < max_w; i++)
		w[i] = rnd();
	for (k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
		uint32_t n = widths[k];

		for (rows = 1; rows <= max_rows; rows++) {
			bn_rmsnorm_rows(x, w, rows, n, 1e-6f, got);
			for (r = 0; r < rows; r++) {
				bn_rmsnorm(x + (size_t)r * n, w, n, 1e-6f, want);
				same &= !memcmp(got + (size_t)r * n, want, n * sizeof(float));
			}
		}
	}
	tap_ok(same, "bn_rmsnorm_rows: 1..%u rows of 5 widths, each row the bits of bn_rmsnorm",
	       max_rows);
	tap_ok(fused_same(),
	       "add or squared-ReLU gate fused into the norm: the bits of both apart");
	tap_ok(rope_same(), "bn_rope: each value two products and a sum, both layouts");
	tap_plan(tap_n);
	free(x);
	free(w);
	free(got);
	free(want);
	return tap_exit();
}
