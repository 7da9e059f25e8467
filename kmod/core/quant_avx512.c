// SPDX-License-Identifier: GPL-2.0
/*
 * The activation quantizer 16 values at a time (bnc_quant_act() calls it
 * where the CPU has AVX-512): the same steps as its generic path in
 * quant.c, so the same bits. Absolute values of finite floats order like
 * their bit patterns, so the absmax is an integer max of the finite lanes;
 * x * sigma is rounded by adding 1.5 * 2^23 and reading the integer from
 * the low mantissa bits, then clamped; non-finite values give 0. Float
 * code: the kernel build runs it inside kernel_fpu_begin().
 */
#include "bnc_internal.h"
#include "bnc_quant.h"
#include <immintrin.h>

static __mmask16 bnc_live(u32 k, u32 i)
{
	return k - i >= 16 ? 0xffff : (__mmask16)((1u << (k - i)) - 1);
}

void bnc_quant_act_avx512(const float *x, u32 k, s8 *q, float *sigma, s32 *sum)
{
	const __m512i abs = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
	__m512i m = _mm512_setzero_si512(), tot = _mm512_setzero_si512(), b, r;
	__m512 s;
	float amax, sg;
	u32 i, bits;

	for (i = 0; i < k; i += 16) {
		b = _mm512_and_si512(_mm512_maskz_loadu_epi32(bnc_live(k, i), x + i), abs);
		m = _mm512_mask_max_epu32(m, _mm512_cmplt_epu32_mask(b, inf), m, b);
	}
	bits = (u32)_mm512_reduce_max_epu32(m);
	memcpy(&amax, &bits, sizeof(amax));
	sg = 127.0f / (amax > BNC_ACT_EPS ? amax : BNC_ACT_EPS);
	s = _mm512_set1_ps(sg);
	for (i = 0; i < k; i += 16) {
		b = _mm512_maskz_loadu_epi32(bnc_live(k, i), x + i);
		r = _mm512_castps_si512(_mm512_mul_ps(_mm512_castsi512_ps(b), s));
		r = _mm512_maskz_mov_epi32(_mm512_cmplt_epu32_mask(_mm512_and_si512(b, abs), inf),
					   r);
		r = _mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(r),
						      _mm512_set1_ps(12582912.0f)));
		r = _mm512_sub_epi32(r, _mm512_set1_epi32(0x4b400000));
		r = _mm512_min_epi32(_mm512_max_epi32(r, _mm512_set1_epi32(-128)),
				     _mm512_set1_epi32(127));
		_mm512_mask_cvtepi32_storeu_epi8(q + i, bnc_live(k, i), r);
		tot = _mm512_add_epi32(tot, r);
	}
	*sigma = sg;
	if (sum)
		*sum = _mm512_reduce_add_epi32(tot);
}
