// SPDX-License-Identifier: GPL-2.0
/*
 * RMS norm of several rows side by side: every row gets the bits
 * bn_rmsnorm() gives it alone, whatever the row count and width, so a
 * session's output does not depend on the batch it runs in.
 */
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
	tap_plan(tap_n);
	free(x);
	free(w);
	free(got);
	free(want);
	return tap_exit();
}
