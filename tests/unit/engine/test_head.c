// SPDX-License-Identifier: GPL-2.0
/*
 * The int8 output head: every row range and input count gives the bits of
 * the definition, (float)(dot(xq, q) - 128 * sum) * scale / sigma, whatever
 * the row streams the VNNI path interleaves and however it pairs the inputs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "daemon/engine/kernels/ops.h"
#include "tests/tap.h"

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static float reference(const struct bn_q8rows *h, uint32_t r, const uint8_t *xq, float sigma)
{
	int32_t acc = 0;
	uint32_t i;

	for (i = 0; i < h->cols; i++)
		acc += xq[i] * h->q[(size_t)r * h->cols + i];
	return (float)(acc - 128 * h->sum[r]) * h->scale[r] / sigma;
}

int main(void)
{
	static const uint32_t ranges[][2] = { { 0, 1 },	  { 0, 7 },    { 3, 11 }, { 0, 64 },
					      { 5, 200 }, { 17, 301 }, { 0, 333 } };
	struct bn_q8rows h = { .rows = 333, .cols = 2560 + 48 };
	uint32_t n_x = 17, i, r, n, k;
	uint8_t *xq;
	float sigma[17], *out;
	bool same = true;

	if (!bn_q8rows_have_vnni()) {
		printf("1..0 # SKIP no AVX-512 VNNI on this CPU (the float head is tested by "
		       "test-model)\n");
		return 0;
	}
	h.q = malloc((size_t)h.rows * h.cols);
	h.scale = malloc(h.rows * sizeof(float));
	h.sum = malloc(h.rows * sizeof(int32_t));
	xq = malloc((size_t)n_x * h.cols);
	out = malloc((size_t)n_x * h.rows * sizeof(float));
	if (!h.q || !h.scale || !h.sum || !xq || !out)
		return 1;
	for (r = 0; r < h.rows; r++) {
		h.sum[r] = 0;
		for (i = 0; i < h.cols; i++) {
			h.q[(size_t)r * h.cols + i] = (int8_t)(rnd() % 255 - 127);
			h.sum[r] += h.q[(size_t)r * h.cols + i];
		}
		h.scale[r] = (float)(rnd() % 1000 + 1) / 4096.0f;
	}
	for (i = 0; i < n_x * h.cols; i++)
		xq[i] = (uint8_t)(rnd() % 255 + 1);
	for (i = 0; i < n_x; i++)
		sigma[i] = (float)(rnd() % 4096 + 1) / 32.0f;
	for (k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		for (n = 1; n <= n_x; n++) {
			for (i = 0; i < n_x * h.rows; i++)
				out[i] = -1.0f;
			bn_q8rows_matmul_q8(&h, ranges[k][0], ranges[k][1], xq, sigma, n, out,
					    h.rows);
			for (i = 0; i < n; i++)
				for (r = 0; r < h.rows; r++) {
					bool in = r >= ranges[k][0] && r < ranges[k][1];
					float want = in ? reference(&h, r, xq + (size_t)i * h.cols,
								    sigma[i]) :
							  -1.0f;

					same &= out[(size_t)i * h.rows + r] == want;
				}
		}
	}
	tap_ok(same,
	       "VNNI head: 7 row ranges x 1..17 inputs (in threes, pairs and singles), bit-exact, nothing outside "
	       "the range");
	tap_plan(tap_n);
	free(h.q);
	free(h.scale);
	free(h.sum);
	free(xq);
	free(out);
	return tap_exit();
}
