// SPDX-License-Identifier: GPL-2.0
/*
 * The int8 output head: every row range, input count and width gives the
 * bits of the definition, (float)(dot(xq, q) - 128 * sum) * scale / sigma,
 * whatever the row streams the VNNI path interleaves, however it groups the
 * inputs into passes over column blocks and reduces their sums in pairs;
 * and a batch gives each input the bits it gets alone (the 1-token path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/kernels/ops.h"
#include "tests/tap.h"

enum {
	ROWS = 333, /* not a multiple of the 8 streams */
	NX = 17	    /* more than one call's 16 inputs, every pass count */
};

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

/*
 * One width: 7 row ranges x 1..NX inputs against the definition; each input
 * alone against its lane of the full batch. Returns the failures.
 */
static int check_width(uint32_t cols, bool *alone)
{
	static const uint32_t ranges[][2] = { { 0, 1 },	  { 0, 7 },    { 3, 11 },  { 0, 64 },
					      { 5, 200 }, { 17, 301 }, { 0, ROWS } };
	struct bn_q8rows h = { .rows = ROWS, .cols = cols };
	float sigma[NX], *out, *one, *ref;
	uint32_t i, r, n, k;
	int bad = 0;
	uint8_t *xq;

	h.q = malloc((size_t)ROWS * cols);
	h.scale = malloc(ROWS * sizeof(float));
	h.sum = malloc(ROWS * sizeof(int32_t));
	xq = malloc((size_t)NX * cols);
	out = malloc((size_t)NX * ROWS * sizeof(float));
	one = malloc(ROWS * sizeof(float));
	ref = malloc((size_t)NX * ROWS * sizeof(float));
	if (!h.q || !h.scale || !h.sum || !xq || !out || !one || !ref)
		exit(1);
	for (r = 0; r < ROWS; r++) {
		h.sum[r] = 0;
		for (i = 0; i < cols; i++) {
			h.q[(size_t)r * cols + i] = (int8_t)(rnd() % 255 - 127);
			h.sum[r] += h.q[(size_t)r * cols + i];
		}
		h.scale[r] = (float)(rnd() % 1000 + 1) / 4096.0f;
	}
	for (i = 0; i < NX * cols; i++)
		xq[i] = (uint8_t)(rnd() % 255 + 1);
	for (i = 0; i < NX; i++)
		sigma[i] = (float)(rnd() % 4096 + 1) / 32.0f;
	for (i = 0; i < NX; i++)
		for (r = 0; r < ROWS; r++)
			ref[i * ROWS + r] = reference(&h, r, xq + (size_t)i * cols, sigma[i]);
	for (k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		uint32_t r0 = ranges[k][0], r1 = ranges[k][1];

		for (n = 1; n <= NX; n++) {
			for (i = 0; i < NX * ROWS; i++)
				out[i] = -1.0f;
			bn_q8rows_matmul_q8(&h, r0, r1, xq, sigma, n, out, ROWS);
			for (i = 0; i < NX; i++)
				for (r = 0; r < ROWS; r++) {
					bool in = i < n && r >= r0 && r < r1;

					bad += out[i * ROWS + r] !=
					       (in ? ref[i * ROWS + r] : -1.0f);
				}
		}
		/* out holds the batch of NX: each input alone, its bits */
		for (i = 0; i < NX; i++) {
			bn_q8rows_matmul_q8(&h, r0, r1, xq + (size_t)i * cols, sigma + i, 1, one,
					    ROWS);
			*alone &= !memcmp(one + r0, out + i * ROWS + r0, (r1 - r0) * sizeof(float));
		}
	}
	free(h.q);
	free(h.scale);
	free(h.sum);
	free(xq);
	free(out);
	free(one);
	free(ref);
	return bad;
}

int main(void)
{
	/*
	 * The model's width (whole 640-column blocks), one with a tail of 48
	 * columns past them, one whose last block is partial, one narrower
	 * than a vector (no SIMD columns at all).
	 */
	static const uint32_t widths[] = { 2560, 2608, 1000, 40 };
	bool alone = true;
	uint32_t k;
	int bad;

	if (!bn_q8rows_have_vnni()) {
		printf("1..0 # SKIP no AVX-512 VNNI on this CPU (the float head is tested by "
		       "test-model)\n");
		return 0;
	}
	for (k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
		bad = check_width(widths[k], &alone);
		tap_ok(!bad,
		       "VNNI head, %u columns: 7 row ranges x 1..%d inputs bit-exact, nothing "
		       "outside the range (%d wrong)",
		       widths[k], NX, bad);
	}
	tap_ok(alone, "VNNI head: each of %d inputs alone gets the bits of its batch", NX);
	tap_plan(tap_n);
	return tap_exit();
}
