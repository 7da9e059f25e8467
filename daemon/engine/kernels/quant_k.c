// SPDX-License-Identifier: GPL-2.0
/*
 * Dequantization of ggml's Q8_0, Q4_K, Q5_K and Q6_K blocks, written from
 * the format definitions (ggml-common.h): one block of floats at a time.
 *
 *   Q8_0  34 bytes / 32:  f16 d, int8 q[32];             x = d * q
 *   Q4_K 144 bytes / 256: f16 d, f16 dmin, 12 bytes of 6-bit scales and
 *                         mins for 8 sub-blocks of 32, 4-bit q[256];
 *                         x = d * sc * q - dmin * m
 *   Q5_K 176 bytes / 256: as Q4_K plus a fifth bit per element (qh[32])
 *   Q6_K 210 bytes / 256: ql[128] low 4 bits, qh[64] high 2 bits,
 *                         int8 scales[16] per 16 elements, f16 d;
 *                         x = d * sc * (q - 32)
 */
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/quant_k.h"
#include "kmod/core/bnc_quant.h"

bool bn_qblock_type_ok(uint32_t type)
{
	return bn_qblock_elems(type) != 0;
}

uint32_t bn_qblock_elems(uint32_t type)
{
	switch (type) {
	case GGUF_T_Q8_0:
		return BN_QK8_0;
	case GGUF_T_Q4_K:
	case GGUF_T_Q5_K:
	case GGUF_T_Q6_K:
		return BN_QK_K;
	default:
		return 0;
	}
}

uint32_t bn_qblock_bytes(uint32_t type)
{
	switch (type) {
	case GGUF_T_Q8_0:
		return 2 + BN_QK8_0;
	case GGUF_T_Q4_K:
		return 4 + 12 + BN_QK_K / 2;
	case GGUF_T_Q5_K:
		return 4 + 12 + BN_QK_K / 8 + BN_QK_K / 2;
	case GGUF_T_Q6_K:
		return BN_QK_K / 2 + BN_QK_K / 4 + BN_QK_K / 16 + 2;
	default:
		return 0;
	}
}

static float f16_at(const uint8_t *p)
{
	uint16_t h;

	memcpy(&h, p, 2);
	return bnc_fp16_to_fp32(h);
}

static void q8_0_block(const uint8_t *b, float *y)
{
	float d = f16_at(b);
	const int8_t *q = (const int8_t *)(b + 2);
	int i;

	for (i = 0; i < BN_QK8_0; i++)
		y[i] = d * q[i];
}

/*
 * Scale and min of sub-block @j (0..7) from the 12 packed bytes: the first
 * four keep 6 bits each in bytes 0-3 (scales) and 4-7 (mins); the last four
 * keep their low 4 bits in bytes 8-11 and their top 2 bits in the spare top
 * bits of bytes 0-7.
 */
static void k4_scale_min(const uint8_t *s, int j, uint8_t *sc, uint8_t *mn)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*mn = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
		*mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
	}
}

/*
 * Q4_K and Q5_K share the layout of scales; 64 elements at a time take 32
 * bytes of qs, the low nibbles for the first 32 and the high for the next,
 * and (Q5_K) bits 2k and 2k+1 of qh for the fifth bit.
 */
static void k45_block(const uint8_t *b, bool five, float *y)
{
	float d = f16_at(b), dmin = f16_at(b + 2);
	const uint8_t *scales = b + 4, *qh = b + 16;
	const uint8_t *qs = five ? b + 16 + BN_QK_K / 8 : b + 16;
	int g, l;

	for (g = 0; g < 4; g++) {
		uint8_t sc0, m0, sc1, m1;
		float d0, d1, n0, n1;

		k4_scale_min(scales, 2 * g, &sc0, &m0);
		k4_scale_min(scales, 2 * g + 1, &sc1, &m1);
		d0 = d * sc0;
		n0 = dmin * m0;
		d1 = d * sc1;
		n1 = dmin * m1;
		for (l = 0; l < 32; l++) {
			int lo = qs[32 * g + l] & 0xF, hi = qs[32 * g + l] >> 4;

			if (five) {
				lo |= ((qh[l] >> (2 * g)) & 1) << 4;
				hi |= ((qh[l] >> (2 * g + 1)) & 1) << 4;
			}
			y[64 * g + l] = d0 * lo - n0;
			y[64 * g + 32 + l] = d1 * hi - n1;
		}
	}
}

/*
 * Q6_K: each half of 128 elements takes 64 bytes of ql and 32 of qh.
 * Element 32 * k + l of the half (k = 0..3) has its low 4 bits in
 * ql[l + 32 * (k & 1)] (high nibble when k >= 2) and its top 2 bits in
 * qh[l] at bit 2k.
 */
static void q6_k_block(const uint8_t *b, float *y)
{
	const uint8_t *ql = b, *qh = b + BN_QK_K / 2;
	const int8_t *sc = (const int8_t *)(b + BN_QK_K / 2 + BN_QK_K / 4);
	float d = f16_at(b + BN_QK_K / 2 + BN_QK_K / 4 + BN_QK_K / 16);
	int h, k, l;

	for (h = 0; h < 2; h++) {
		for (k = 0; k < 4; k++) {
			for (l = 0; l < 32; l++) {
				int lo = ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1)) & 0xF;
				int hi = qh[32 * h + l] >> (2 * k) & 3;
				int e = 32 * k + l;

				y[128 * h + e] = d * sc[8 * h + e / 16] * ((lo | hi << 4) - 32);
			}
		}
	}
}

static void one_block(uint32_t type, const uint8_t *b, float *y)
{
	switch (type) {
	case GGUF_T_Q8_0:
		q8_0_block(b, y);
		break;
	case GGUF_T_Q4_K:
		k45_block(b, false, y);
		break;
	case GGUF_T_Q5_K:
		k45_block(b, true, y);
		break;
	case GGUF_T_Q6_K:
		q6_k_block(b, y);
		break;
	}
}

void bn_qblock_row(uint32_t type, const void *row, uint32_t cols, float *out)
{
	uint32_t per = bn_qblock_elems(type), bytes = bn_qblock_bytes(type), i;

	for (i = 0; per && i + per <= cols; i += per)
		one_block(type, (const uint8_t *)row + (size_t)i / per * bytes, out + i);
}

float bn_qblock_at(uint32_t type, const void *row, uint32_t i)
{
	uint32_t per = bn_qblock_elems(type);
	float y[BN_QK_K];

	if (!per)
		return 0;
	one_block(type, (const uint8_t *)row + (size_t)(i / per) * bn_qblock_bytes(type), y);
	return y[i % per];
}
