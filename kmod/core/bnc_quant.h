/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Quantizers and half-precision conversions of the compute core (quant.c).
 *
 * Non-finite inputs have a defined result: NaN and +-Inf count as 0. They
 * do not enter max|x| or mean|W|, and they quantize to 0.
 */
#ifndef BNC_QUANT_H
#define BNC_QUANT_H

#include "bnc_compat.h"

#define BNC_ACT_EPS		1e-5f	/* floor of max|x| */

/*
 * Per-token absmax int8, bit-exact with bitnet.cpp and Hugging Face:
 * sigma = 127 / max(max|x|, 1e-5), q = round_half_even(x * sigma) clamped
 * to [-128, 127], sum = sum(q). @sum may be NULL. -EINVAL on NULL or k 0.
 */
int bnc_quant_act(const float *x, u32 k, s8 *q, float *sigma, s32 *sum);
/*
 * Its path without AVX-512 (4 values at a time), which the AVX-512 one
 * (quant_avx512.c) is tested against: the same bits.
 */
int bnc_quant_act_generic(const float *x, u32 k, s8 *q, float *sigma, s32 *sum);

/* The same for @n tokens of @k values each (token-major). */
int bnc_quant_act_rows(const float *x, u32 n, u32 k, s8 *q, float *sigma, s32 *sum);

/*
 * Absmean ternarization: gamma = mean|W| (accumulated in double), t =
 * RoundClip(W / (gamma + eps), -1, 1) with round half to even, *scale =
 * gamma. gamma + eps == 0 gives all t = 0. -EINVAL on NULL, n 0 or an
 * eps that is negative or not finite.
 */
int bnc_ternarize(const float *w, size_t n, float eps, s8 *t, float *scale);

/* IEEE binary16 and bfloat16 (round to nearest even when narrowing). */
float bnc_fp16_to_fp32(u16 h);
u16 bnc_fp32_to_fp16(float f);
float bnc_bf16_to_fp32(u16 b);
void bnc_fp16_to_fp32_row(const u16 *src, float *dst, size_t n);
void bnc_bf16_to_fp32_row(const u16 *src, float *dst, size_t n);

#endif /* BNC_QUANT_H */
