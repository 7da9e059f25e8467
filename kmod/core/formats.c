// SPDX-License-Identifier: GPL-2.0
/*
 * The packed ternary formats as files hold them, one block at a time:
 *  - I2_S (bitnet.cpp): 128 weights per 32-byte block; byte j holds weights
 *    j, 32 + j, 64 + j, 96 + j in bits 7:6, 5:4, 3:2, 1:0; code = t + 1; one
 *    fp32 scale at byte n/4 inside a 32-byte tail.
 *  - TQ2_0 (llama.cpp): 256 weights per 66-byte block: two 32-byte halves,
 *    byte m of half g holds weight 128g + 32l + m in bits 2l+1:2l (code
 *    t + 1), then an fp16 scale.
 *  - TQ1_0 (llama.cpp): 256 weights per 54-byte block: 48 bytes of 5 trits
 *    and 4 bytes of 4 trits, each byte ceil(v * 256 / 243) of the base-3
 *    number v (first trit most significant), then an fp16 scale.
 * Codes are c = t + 1 in {0, 1, 2}; a 2-bit code 3 is rejected.
 */
#include "bnc_formats.h"

static const u8 bnc_pow3[6] = { 1, 3, 9, 27, 81, 243 };

static void bnc_put_le16(u8 *p, u16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static u16 bnc_get_le16(const u8 *p)
{
	return p[0] | (u16)p[1] << 8;
}

u32 bnc_get_le32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

void bnc_put_le32(u8 *p, u32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

const struct bnc_block_fmt *bnc_block_fmt(unsigned int fmt)
{
	static const struct bnc_block_fmt fmts[] = {
		{ BNC_FMT_I2_S, 128, 32 },
		{ BNC_FMT_TQ2_0, 256, 66 },
		{ BNC_FMT_TQ1_0, 256, 54 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fmts); i++)
		if (fmts[i].fmt == fmt)
			return &fmts[i];
	return NULL;
}

u8 bnc_tq1_trit(u8 b, unsigned int n)
{
	u8 q = (u8)(b * bnc_pow3[n]);

	return ((u16)q * 3) >> 8;
}

u8 bnc_tq1_of(u32 v)
{
	return (v * 256 + 242) / 243;
}

/* TQ1_0: the byte for @ntrits codes (base 3, first most significant). */
static u8 bnc_tq1_byte(const u8 *c, unsigned int ntrits, unsigned int stride)
{
	u32 v = 0;
	unsigned int n;

	for (n = 0; n < 5; n++)
		v = v * 3 + (n < ntrits ? c[n * stride] : 0);
	return bnc_tq1_of(v);
}

/* Any 2-bit field equal to 3 (not a ternary code) in @n bytes? */
static int bnc_check_2bit(const u8 *p, unsigned int n)
{
	unsigned int i;
	u64 x, bad = 0;

	for (i = 0; i < n; i += 8) {
		memcpy(&x, p + i, sizeof(x));
		bad |= x & (x >> 1) & 0x5555555555555555ull;
	}
	return bad ? -EINVAL : 0;
}

/* 32 codes: bits @shift+1:@shift of 32 bytes, 4 bytes per step. */
static void bnc_codes_at(const u8 *p, unsigned int shift, u8 *c)
{
	unsigned int m;
	u32 x;

	for (m = 0; m < 32; m += 4) {
		memcpy(&x, p + m, sizeof(x));
		x = (x >> shift) & 0x03030303u;
		memcpy(c + m, &x, sizeof(x));
	}
}

int bnc_block_read(unsigned int fmt, const u8 *p, u8 *c, u32 *scale_bits)
{
	unsigned int g, l, m;

	switch (fmt) {
	case BNC_FMT_I2_S:
		for (l = 0; l < 4; l++)
			bnc_codes_at(p, 6 - 2 * l, c + 32 * l);
		return bnc_check_2bit(p, 32);
	case BNC_FMT_TQ2_0:
		for (g = 0; g < 2; g++)
			for (l = 0; l < 4; l++)
				bnc_codes_at(p + 32 * g, 2 * l, c + 128 * g + 32 * l);
		*scale_bits = bnc_fp16_bits_to_fp32_bits(bnc_get_le16(p + 64));
		return bnc_check_2bit(p, 64);
	case BNC_FMT_TQ1_0:
		for (l = 0; l < 5; l++)
			for (m = 0; m < 32; m++)
				c[32 * l + m] = bnc_tq1_trit(p[m], l);
		for (l = 0; l < 5; l++)
			for (m = 0; m < 16; m++)
				c[160 + 16 * l + m] = bnc_tq1_trit(p[32 + m], l);
		for (l = 0; l < 4; l++)
			for (m = 0; m < 4; m++)
				c[240 + 4 * l + m] = bnc_tq1_trit(p[48 + m], l);
		*scale_bits = bnc_fp16_bits_to_fp32_bits(bnc_get_le16(p + 52));
		return 0;
	}
	return -EINVAL;
}

void bnc_block_write(unsigned int fmt, u8 *p, const u8 *c, u32 scale_bits)
{
	unsigned int g, l, m;

	switch (fmt) {
	case BNC_FMT_I2_S:
		for (m = 0; m < 32; m++) {
			p[m] = 0;
			for (l = 0; l < 4; l++)
				p[m] |= c[32 * l + m] << (6 - 2 * l);
		}
		break;
	case BNC_FMT_TQ2_0:
		for (g = 0; g < 2; g++)
			for (m = 0; m < 32; m++) {
				p[32 * g + m] = 0;
				for (l = 0; l < 4; l++)
					p[32 * g + m] |= c[128 * g + 32 * l + m] << (2 * l);
			}
		bnc_put_le16(p + 64, bnc_fp32_bits_to_fp16_bits(scale_bits));
		break;
	case BNC_FMT_TQ1_0:
		for (m = 0; m < 32; m++)
			p[m] = bnc_tq1_byte(c + m, 5, 32);
		for (m = 0; m < 16; m++)
			p[32 + m] = bnc_tq1_byte(c + 160 + m, 5, 16);
		for (m = 0; m < 4; m++)
			p[48 + m] = bnc_tq1_byte(c + 240 + m, 4, 4);
		bnc_put_le16(p + 52, bnc_fp32_bits_to_fp16_bits(scale_bits));
		break;
	}
}
