// SPDX-License-Identifier: GPL-2.0
/*
 * Quantizers and half conversions. Float code: the kernel build compiles
 * this file with SSE float enabled and calls it under kernel_fpu_begin().
 * Rounding uses the 1.5 * 2^23 trick, exact round-half-even (what rintf()
 * does in the default mode) for |v| < 2^22, without libm.
 */
#include "bnc_quant.h"
#include "bnc_internal.h"

#define BNC_ROUND_MAGIC		12582912.0f	/* 1.5 * 2^23 */

static u32 bnc_bits_of(float f)
{
	u32 b;

	memcpy(&b, &f, sizeof(b));
	return b;
}

static float bnc_float_of(u32 b)
{
	float f;

	memcpy(&f, &b, sizeof(f));
	return f;
}

static int bnc_finite(float f)
{
	return (bnc_bits_of(f) & 0x7f800000) != 0x7f800000;
}

static float bnc_fabs(float f)
{
	return bnc_float_of(bnc_bits_of(f) & 0x7fffffff);
}

/* Round half to even; @v already clamped well inside +-2^22. */
static float bnc_round_even(float v)
{
	return (v + BNC_ROUND_MAGIC) - BNC_ROUND_MAGIC;
}

/*
 * SSE2-sized generic vectors for the activation quantizer, the one float
 * pass of every decode step. Absolute values of finite floats order like
 * their bit patterns, so the absmax is an integer max; rounding adds the
 * magic constant and reads the integer from the low mantissa bits. Both
 * give exactly what the scalar loops below give.
 */
#define BNC_QV			4

typedef s32 bnc_v4i __attribute__((vector_size(16)));
typedef s8 bnc_v4b __attribute__((vector_size(4)));

static bnc_v4i bnc_v4_select(bnc_v4i mask, bnc_v4i a, bnc_v4i b)
{
	return (a & mask) | (b & ~mask);
}

static u32 bnc_absmax_bits(const float *x, u32 k, u32 *done)
{
	bnc_v4i m0 = { 0 }, m1 = { 0 }, v0, v1;
	u32 best = 0, i, j;

	for (i = 0; i + 2 * BNC_QV <= k; i += 2 * BNC_QV) {
		memcpy(&v0, x + i, sizeof(v0));
		memcpy(&v1, x + i + BNC_QV, sizeof(v1));
		v0 &= 0x7fffffff;
		v1 &= 0x7fffffff;
		v0 &= v0 < 0x7f800000;	/* non-finite -> 0 */
		v1 &= v1 < 0x7f800000;
		m0 = bnc_v4_select(m0 > v0, m0, v0);
		m1 = bnc_v4_select(m1 > v1, m1, v1);
	}
	m0 = bnc_v4_select(m0 > m1, m0, m1);
	for (j = 0; j < BNC_QV; j++)
		if ((u32)m0[j] > best)
			best = m0[j];
	*done = i;
	return best;
}

static bnc_v4i bnc_quant_v4(const float *x, float s, s8 *q)
{
	float __attribute__((vector_size(16))) v;
	bnc_v4i b, r;
	bnc_v4b out;

	memcpy(&v, x, sizeof(v));
	memcpy(&b, &v, sizeof(b));
	v *= s;
	memcpy(&r, &v, sizeof(r));
	r &= (b & 0x7fffffff) < 0x7f800000;	/* non-finite -> +0.0f */
	memcpy(&v, &r, sizeof(v));
	v += BNC_ROUND_MAGIC;
	memcpy(&r, &v, sizeof(r));
	r -= (s32)0x4b400000;			/* bits of BNC_ROUND_MAGIC */
	r = bnc_v4_select(r > 127, (bnc_v4i){ 127, 127, 127, 127 }, r);
	r = bnc_v4_select(r < -128, (bnc_v4i){ -128, -128, -128, -128 }, r);
	out = __builtin_convertvector(r, bnc_v4b);
	memcpy(q, &out, sizeof(out));
	return r;
}

/* Quantizes whole groups of 4 from the start of @x; returns how many. */
static u32 bnc_quant_vec(const float *x, u32 k, float s, s8 *q, s32 *total)
{
	bnc_v4i acc = { 0 };
	u32 i;

	for (i = 0; i + BNC_QV <= k; i += BNC_QV)
		acc += bnc_quant_v4(x + i, s, q + i);
	*total = acc[0] + acc[1] + acc[2] + acc[3];
	return i;
}

int bnc_quant_act(const float *x, u32 k, s8 *q, float *sigma, s32 *sum)
{
	if (!x || !q || !sigma || !k)
		return -EINVAL;
	if (bnc_isa_supported() & (1u << BNC_ISA_AVX512_VNNI)) {
		bnc_quant_act_avx512(x, k, q, sigma, sum);
		return 0;
	}
	return bnc_quant_act_generic(x, k, q, sigma, sum);
}

int bnc_quant_act_generic(const float *x, u32 k, s8 *q, float *sigma, s32 *sum)
{
	float amax, s;
	s32 total = 0;
	u32 i;

	if (!x || !q || !sigma || !k)
		return -EINVAL;
	amax = bnc_float_of(bnc_absmax_bits(x, k, &i));
	for (; i < k; i++) {
		float a = bnc_fabs(x[i]);

		if (bnc_finite(a) && a > amax)
			amax = a;
	}
	s = 127.0f / (amax > BNC_ACT_EPS ? amax : BNC_ACT_EPS);
	for (i = bnc_quant_vec(x, k, s, q, &total); i < k; i++) {
		float v = bnc_finite(x[i]) ? x[i] * s : 0.0f;

		if (v > 127.0f)
			v = 127.0f;
		if (v < -128.0f)
			v = -128.0f;
		q[i] = (s8)bnc_round_even(v);
		total += q[i];
	}
	*sigma = s;
	if (sum)
		*sum = total;
	return 0;
}

int bnc_quant_act_rows(const float *x, u32 n, u32 k, s8 *q, float *sigma, s32 *sum)
{
	u32 i;
	int ret;

	if (!x || !q || !sigma || !n || !k)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		ret = bnc_quant_act(x + (size_t)i * k, k, q + (size_t)i * k, sigma + i,
				    sum ? sum + i : NULL);
		if (ret)
			return ret;
	}
	return 0;
}

int bnc_ternarize(const float *w, size_t n, float eps, s8 *t, float *scale)
{
	double total = 0.0;
	float gamma, d;
	size_t i;

	if (!w || !t || !scale || !n || !bnc_finite(eps) || eps < 0.0f)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (bnc_finite(w[i]))
			total += bnc_fabs(w[i]);
	gamma = (float)(total / (double)n);
	d = gamma + eps;
	for (i = 0; i < n; i++) {
		float v = (d != 0.0f && bnc_finite(w[i])) ? w[i] / d : 0.0f;

		if (v > 1.0f)
			v = 1.0f;
		if (v < -1.0f)
			v = -1.0f;
		t[i] = (s8)bnc_round_even(v);
	}
	*scale = gamma;
	return 0;
}

float bnc_fp16_to_fp32(u16 h)
{
	return bnc_float_of(bnc_fp16_bits_to_fp32_bits(h));
}

u16 bnc_fp32_to_fp16(float f)
{
	return bnc_fp32_bits_to_fp16_bits(bnc_bits_of(f));
}

float bnc_bf16_to_fp32(u16 b)
{
	return bnc_float_of((u32)b << 16);
}

void bnc_fp16_to_fp32_row(const u16 *src, float *dst, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = bnc_fp16_to_fp32(src[i]);
}

void bnc_bf16_to_fp32_row(const u16 *src, float *dst, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = bnc_bf16_to_fp32(src[i]);
}
