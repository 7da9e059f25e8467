// SPDX-License-Identifier: GPL-2.0
/*
 * fp16 <-> fp32 on bit patterns, integer arithmetic only, so the kernel
 * build can read TQ2_0/TQ1_0 scales without touching float state.
 */
#include "bnc_internal.h"

u32 bnc_fp16_bits_to_fp32_bits(u16 h)
{
	u32 sign = (u32)(h & 0x8000) << 16;
	u32 exp = (h >> 10) & 0x1f;
	u32 mant = h & 0x3ff;

	if (exp == 0x1f)		/* Inf, NaN (payload kept) */
		return sign | 0x7f800000 | (mant << 13);
	if (exp == 0) {
		if (!mant)
			return sign;
		/* subnormal: normalise into an fp32 normal */
		exp = 127 - 15 + 1;
		while (!(mant & 0x400)) {
			mant <<= 1;
			exp--;
		}
		return sign | (exp << 23) | ((mant & 0x3ff) << 13);
	}
	return sign | ((exp + 127 - 15) << 23) | (mant << 13);
}

/* Round to nearest, ties to even: the IEEE default, as F16C's vcvtps2ph. */
static u32 bnc_round_shift(u32 v, unsigned int shift)
{
	u32 r = v >> shift;
	u32 rem = v & ((1u << shift) - 1);
	u32 half = 1u << (shift - 1);

	if (rem > half || (rem == half && (r & 1)))
		r++;
	return r;
}

u16 bnc_fp32_bits_to_fp16_bits(u32 f)
{
	u32 sign = (f >> 16) & 0x8000;
	int exp = (f >> 23) & 0xff;
	u32 mant = f & 0x7fffff;
	int e;

	if (exp == 0xff)		/* Inf stays Inf, NaN stays a quiet NaN */
		return sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0);
	if (exp == 0)			/* fp32 zero or subnormal: below fp16 */
		return sign;
	e = exp - 127 + 15;
	if (e >= 0x1f)
		return sign | 0x7c00;
	if (e <= 0) {
		unsigned int shift = 14 - e;

		if (shift > 24)
			return sign;
		return sign | bnc_round_shift(mant | 0x800000, shift);
	}
	/* a carry out of the mantissa correctly bumps the exponent (to Inf) */
	return sign | bnc_round_shift(((u32)e << 23) | mant, 13);
}
