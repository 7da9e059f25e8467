// SPDX-License-Identifier: GPL-2.0
/*
 * Reference quantizers for Q8_0, Q4_K, Q5_K and Q6_K: plain absmax (or
 * min/max) scales, written to the byte layouts quant_k.c decodes, so
 * bitnet-mkmodel can write the embeddings llama-quantize produces and the
 * tests can build blocks from floats.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/quant_k.h"
#include "kmod/core/bnc_quant.h"

static void put_f16(uint8_t *p, float v)
{
	uint16_t h = bnc_fp32_to_fp16(v);

	memcpy(p, &h, 2);
}

/* The value an f16 field will really hold, so quants use the stored scale. */
static float as_f16(float v)
{
	return bnc_fp16_to_fp32(bnc_fp32_to_fp16(v));
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void q8_0_quantize(const float *x, uint8_t *b)
{
	float amax = 0, d;
	int i;

	for (i = 0; i < BN_QK8_0; i++)
		amax = fmaxf(amax, fabsf(x[i]));
	d = as_f16(amax / 127.0f);
	put_f16(b, d);
	for (i = 0; i < BN_QK8_0; i++)
		b[2 + i] = (uint8_t)(int8_t)(d > 0 ? clampi((int)rintf(x[i] / d), -127, 127) : 0);
}

/* Inverse of quant_k.c's k4_scale_min(): 8 six-bit scales and mins. */
static void k4_pack_scales(const uint8_t *sc, const uint8_t *mn, uint8_t *s)
{
	int j;

	for (j = 0; j < 4; j++) {
		s[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
		s[j + 4] = (uint8_t)(mn[j] | (mn[j + 4] >> 4) << 6);
		s[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | (mn[j + 4] & 0xF) << 4);
	}
}

/* Q4_K (levels 15) or Q5_K (levels 31): x ~= d * sc * q - dmin * m. */
static void k45_quantize(const float *x, bool five, uint8_t *b)
{
	int levels = five ? 31 : 15, j, l;
	float scale[8], neg_min[8], max_scale = 0, max_min = 0, d, dmin;
	uint8_t sc[8], mn[8];
	uint8_t *qh = b + 16, *qs = five ? b + 16 + BN_QK_K / 8 : b + 16;

	for (j = 0; j < 8; j++) {
		float lo = 0, hi = 0; /* mins are stored as non-negative offsets */

		for (l = 0; l < 32; l++) {
			lo = fminf(lo, x[32 * j + l]);
			hi = fmaxf(hi, x[32 * j + l]);
		}
		scale[j] = (hi - lo) / levels;
		neg_min[j] = -lo;
		max_scale = fmaxf(max_scale, scale[j]);
		max_min = fmaxf(max_min, neg_min[j]);
	}
	d = as_f16(max_scale / 63.0f);
	dmin = as_f16(max_min / 63.0f);
	for (j = 0; j < 8; j++) {
		sc[j] = (uint8_t)(d > 0 ? clampi((int)rintf(scale[j] / d), 0, 63) : 0);
		mn[j] = (uint8_t)(dmin > 0 ? clampi((int)rintf(neg_min[j] / dmin), 0, 63) : 0);
	}
	put_f16(b, d);
	put_f16(b + 2, dmin);
	k4_pack_scales(sc, mn, b + 4);
	if (five)
		memset(qh, 0, BN_QK_K / 8);
	memset(qs, 0, BN_QK_K / 2);
	for (j = 0; j < 8; j++) {
		float step = d * sc[j], off = dmin * mn[j];

		for (l = 0; l < 32; l++) {
			int q = step > 0 ? clampi((int)rintf((x[32 * j + l] + off) / step), 0,
						  levels) :
					   0;
			/* sub-blocks 2g and 2g+1 share qs[32g..]: low, then high nibble */
			qs[32 * (j / 2) + l] |= (uint8_t)((q & 0xF) << (4 * (j & 1)));
			if (five)
				qh[l] |= (uint8_t)((q >> 4) << j);
		}
	}
}

/* Q6_K: x ~= d * sc * (q - 32), an int8 scale per 16 elements. */
static void q6_k_quantize(const float *x, uint8_t *b)
{
	uint8_t *ql = b, *qh = b + BN_QK_K / 2;
	int8_t *sc = (int8_t *)(b + BN_QK_K / 2 + BN_QK_K / 4);
	float sub[16], max_sub = 0, d;
	int j, e;

	for (j = 0; j < 16; j++) {
		float amax = 0;

		for (e = 0; e < 16; e++)
			amax = fmaxf(amax, fabsf(x[16 * j + e]));
		sub[j] = amax / 31.0f;
		max_sub = fmaxf(max_sub, sub[j]);
	}
	d = as_f16(max_sub / 127.0f);
	put_f16(b + BN_QK_K / 2 + BN_QK_K / 4 + BN_QK_K / 16, d);
	for (j = 0; j < 16; j++)
		sc[j] = (int8_t)(d > 0 ? clampi((int)rintf(sub[j] / d), 0, 127) : 0);
	memset(ql, 0, BN_QK_K / 2 + BN_QK_K / 4);
	for (e = 0; e < BN_QK_K; e++) {
		float step = d * sc[e / 16];
		int q = step > 0 ? clampi((int)rintf(x[e] / step), -32, 31) + 32 : 32;
		int h = e / 128, k = e % 128 / 32, l = e % 32;

		ql[64 * h + l + 32 * (k & 1)] |= (uint8_t)((q & 0xF) << (4 * (k >> 1)));
		qh[32 * h + l] |= (uint8_t)((q >> 4) << (2 * k));
	}
}

int bn_qblock_quantize(uint32_t type, const float *x, uint32_t n, void *out)
{
	uint32_t per = bn_qblock_elems(type), bytes = bn_qblock_bytes(type), i;
	uint8_t *b = out;

	if (!per || n % per)
		return -EINVAL;
	for (i = 0; i < n; i += per, b += bytes, x += per) {
		if (type == GGUF_T_Q8_0)
			q8_0_quantize(x, b);
		else if (type == GGUF_T_Q6_K)
			q6_k_quantize(x, b);
		else
			k45_quantize(x, type == GGUF_T_Q5_K, b);
	}
	return 0;
}
