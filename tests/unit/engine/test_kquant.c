// SPDX-License-Identifier: GPL-2.0
/*
 * Row dequantization of Q8_0, Q4_K, Q5_K and Q6_K against known answers:
 * blocks whose bytes are set by hand from the format definitions
 * (ggml-common.h) and the floats those definitions give, worked out in the
 * comments. Then the reference quantizers: random rows survive a round
 * trip within half a quantization step, and bn_ftensor reads block rows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/ops.h"
#include "daemon/engine/kernels/quant_k.h"
#include "tests/tap.h"

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

struct want {
	uint32_t i;
	float v;
};

/* Every listed element equals its value exactly (all are small dyadics). */
static bool check(uint32_t type, const uint8_t *block, const struct want *w, size_t n)
{
	float y[BN_QK_K];
	bool good = true;
	size_t k;

	bn_qblock_row(type, block, bn_qblock_elems(type), y);
	for (k = 0; k < n; k++) {
		if (y[w[k].i] != w[k].v || bn_qblock_at(type, block, w[k].i) != w[k].v) {
			printf("# %s element %u: %g, expected %g\n", gguf_type_name(type), w[k].i,
			       y[w[k].i], w[k].v);
			good = false;
		}
	}
	return good;
}

static void known_q8_0(void)
{
	uint8_t b[34] = { 0 };
	const struct want w[] = { { 0, 1.5f }, { 1, -64.0f }, { 31, 63.5f }, { 5, 0 } };

	put16(b, 0x3800); /* d = 0.5 */
	b[2] = 3;	  /* 0.5 * 3 */
	b[3] = 0x80;	  /* int8 -128 */
	b[33] = 127;
	tap_ok(bn_qblock_bytes(GGUF_T_Q8_0) == 34 && check(GGUF_T_Q8_0, b, w, 4),
	       "Q8_0: d * q with int8 q");
}

static void known_q6_k(void)
{
	uint8_t b[210] = { 0 };
	int8_t *sc = (int8_t *)(b + 192);
	/*
	 * d = 1. Half 0: element 0 has low bits ql[0] & 15 = 1 and high bits
	 * qh[0] & 3 = 3: q = 49, (49 - 32) * sc[0] = 17 * 2. Element 32:
	 * ql[32] & 15 = 15, (qh[0] >> 2) & 3 = 2: q = 47, 15 * sc[2] = 105.
	 * Element 64: ql[0] >> 4 = 2, (qh[0] >> 4) & 3 = 1: q = 18, -14 * -3.
	 * Element 96: ql[32] >> 4 = 0, qh[0] >> 6 = 0: -32 * sc[6] = -32.
	 * Element 1: all zero bits: -32 * sc[0]. Half 1, element 128: ql[64]
	 * = 10, qh[32] & 3 = 2: q = 42, 10 * sc[8] = 50. Element 255: ql[127]
	 * high nibble 15 and qh[63] bits 6-7 = 3: q = 63, 31 * sc[15] = -31.
	 */
	const struct want w[] = { { 0, 34 },  { 32, 105 }, { 64, 42 },	{ 96, -32 },
				  { 1, -64 }, { 128, 50 }, { 255, -31 } };

	put16(b + 208, 0x3C00);
	sc[0] = 2;
	sc[2] = 7;
	sc[4] = -3;
	sc[6] = 1;
	sc[8] = 5;
	sc[15] = -1;
	b[0] = 0x21;
	b[32] = 0x0F;
	b[128] = 0x1B;
	b[64] = 0x0A;
	b[128 + 32] = 0x02;
	b[127] = 0xF0;
	b[128 + 63] = 0xC0;
	tap_ok(bn_qblock_bytes(GGUF_T_Q6_K) == 210 && check(GGUF_T_Q6_K, b, w, 7),
	       "Q6_K: d * sc * (q - 32), 4 + 2 bits split over ql and qh");
}

/*
 * Q4_K and Q5_K share these scales: d = 1, dmin = 0.5; sub-block 0 has
 * scale s[0] & 63 = 5 and min s[4] & 63 = 2; sub-block 1 scale 4, min 1;
 * sub-block 4 scale (s[8] & 15) | (s[0] >> 6) << 4 = 3 | 16 = 19 and min
 * (s[8] >> 4) | (s[4] >> 6) << 4 = 7 | 32 = 39.
 */
static void k_scales(uint8_t *b)
{
	put16(b, 0x3C00);
	put16(b + 2, 0x3800);
	b[4 + 0] = 0x45;
	b[4 + 4] = 0x82;
	b[4 + 1] = 0x04;
	b[4 + 5] = 0x01;
	b[4 + 8] = 0x73;
}

static void known_q4_k(void)
{
	uint8_t b[144] = { 0 };
	/*
	 * qs[0] = 0x9C: element 0 (sub-block 0) = 12: 5 * 12 - 0.5 * 2 = 59;
	 * element 32 (sub-block 1, high nibble) = 9: 4 * 9 - 0.5 = 35.5.
	 * qs[64] = 0x0B: element 128 (sub-block 4) = 11: 19 * 11 - 19.5.
	 * Element 160 (sub-block 5, scale and min 0) = 0.
	 */
	const struct want w[] = { { 0, 59 }, { 32, 35.5f }, { 128, 189.5f }, { 160, 0 }, { 1, -1 } };

	k_scales(b);
	b[16] = 0x9C;
	b[16 + 64] = 0x0B;
	tap_ok(bn_qblock_bytes(GGUF_T_Q4_K) == 144 && check(GGUF_T_Q4_K, b, w, 5),
	       "Q4_K: d * sc * q - dmin * m with 6-bit packed scales and mins");
}

static void known_q5_k(void)
{
	uint8_t b[176] = { 0 };
	/*
	 * As Q4_K, plus the fifth bit: qh[0] bit 0 (sub-block 0) and bit 4
	 * (sub-block 4) set: element 0 = 28: 5 * 28 - 1 = 139; element 32 has
	 * no bit 1: 35.5; element 128 = 27: 19 * 27 - 19.5 = 493.5. qh[1] bit
	 * 1: element 33 = 16: 4 * 16 - 0.5.
	 */
	const struct want w[] = { { 0, 139 }, { 32, 35.5f }, { 128, 493.5f }, { 33, 63.5f } };

	k_scales(b);
	b[16] = 0x11;
	b[17] = 0x02;
	b[48] = 0x9C;
	b[48 + 64] = 0x0B;
	tap_ok(bn_qblock_bytes(GGUF_T_Q5_K) == 176 && check(GGUF_T_Q5_K, b, w, 4),
	       "Q5_K: Q4_K plus a fifth bit per element in qh");
}

static uint32_t rnd_state = 7;

static float rndf(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (float)(rnd_state >> 8) / (float)(1 << 24) - 0.5f;
}

/*
 * Worst error allowed per element: half a step of the sub-block, where a
 * step is the largest magnitude over the levels, plus the 6- or 8-bit
 * rounding of the sub-block's scale against the f16 super scale (at most
 * half a super step on each of the up to 31 levels).
 */
static void round_trip(uint32_t type, float levels, float scale_bits)
{
	enum {
		COLS = 1024,
		ROWS = 3
	};
	uint32_t bytes = COLS / bn_qblock_elems(type) * bn_qblock_bytes(type), i;
	float *x = malloc(ROWS * COLS * sizeof(float)), y[COLS], worst = 0, amax = 0;
	uint8_t *q = malloc((size_t)ROWS * bytes);
	struct bn_ftensor t = { q, type, ROWS, COLS, bytes };
	char what[128];
	bool good;

	if (!x || !q)
		exit(1);
	for (i = 0; i < ROWS * COLS; i++) {
		x[i] = rndf() * (i % 97 == 0 ? 8.0f : 1.0f);
		amax = fmaxf(amax, fabsf(x[i]));
	}
	good = !bn_qblock_quantize(type, x, ROWS * COLS, q);
	bn_ftensor_row(&t, 2, y);
	for (i = 0; i < COLS; i++)
		worst = fmaxf(worst, fabsf(y[i] - x[2 * COLS + i]));
	/* a whole tensor's absmax bounds every sub-block's step from above */
	good = good && worst <= amax / levels * (0.5f + levels / scale_bits) && worst > 0;
	snprintf(what, sizeof(what), "%s: quantize and dequantize a row (max error %.4f of %.2f)",
		 gguf_type_name(type), worst, amax);
	tap_ok(good && bn_ftensor_rows_type_ok(type) && !bn_ftensor_type_ok(type), what);
	free(x);
	free(q);
}

int main(void)
{
	printf("1..8\n");
	known_q8_0();
	known_q6_k();
	known_q4_k();
	known_q5_k();
	round_trip(GGUF_T_Q8_0, 127, 1e9f);
	round_trip(GGUF_T_Q6_K, 31, 127);
	round_trip(GGUF_T_Q5_K, 31, 63);
	round_trip(GGUF_T_Q4_K, 15, 63);
	return tap_exit();
}
