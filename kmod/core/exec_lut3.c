// SPDX-License-Identifier: GPL-2.0
/*
 * The LUT3 execution layout (described in bnc_internal.h): where each code
 * goes, filling a buffer, and checking a stored one. A buffer starts with
 * every word the pattern of nine zero weights; each column's code then adds
 * (c - 1) * 3^d into its 5-bit field, so pads stay zero weights and the
 * order the packed formats deliver columns in does not matter.
 */
#include "bnc_formats.h"

/* The word of nine zero weights: 13 in each field. */
#define BNC_LUT3_ZERO9	(BNC_LUT3_ZERO3 | BNC_LUT3_ZERO3 << 5 | BNC_LUT3_ZERO3 << 10)

/* What code c - 1 of column 9j + w adds to its word: 3^(w % 3) << 5(w / 3). */
static const u16 bnc_lut3_weight[BNC_LUT3_COLS] = { 1, 3, 9, 32, 96, 288, 1024, 3072, 9216 };

static size_t bnc_lut3_offset(u32 cols, u32 m, u32 k)
{
	return (size_t)(m / BNC_LUT3_ROWS) * bnc_lut3_block_bytes(cols) +
	       (size_t)(k / BNC_LUT3_COLS) * BNC_CHUNK_BYTES + (m % BNC_LUT3_ROWS) * 2;
}

static u16 bnc_get_le16(const u8 *p)
{
	return p[0] | (u16)p[1] << 8;
}

static void bnc_put_le16(u8 *p, u16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

/* The 16 columns span at most 3 words: each word's sum made in a register. */
void bnc_lut3_put16(u8 *data, u32 cols, u32 m, u32 k, const u8 *c)
{
	u8 *row = data + bnc_lut3_offset(cols, m, 0);
	u32 i = 0, end, j;
	u8 *p;
	s32 add;

	while (i < BNC_CHUNK_COLS) {
		j = (k + i) / BNC_LUT3_COLS;
		end = (j + 1) * BNC_LUT3_COLS - k;
		end = end < BNC_CHUNK_COLS ? end : BNC_CHUNK_COLS;
		for (add = 0; i < end; i++)
			add += ((s32)c[i] - 1) * bnc_lut3_weight[(k + i) % BNC_LUT3_COLS];
		p = row + (size_t)j * BNC_CHUNK_BYTES;
		bnc_put_le16(p, (u16)(bnc_get_le16(p) + add));
	}
}

static u8 bnc_lut3_digit(u16 word, u32 w)
{
	static const u8 pow3[3] = { 1, 3, 9 };

	return ((word >> (5 * (w / 3))) & 31) / pow3[w % 3] % 3;
}

u8 bnc_lut3_get(const u8 *data, u32 cols, u32 m, u32 k)
{
	return bnc_lut3_digit(bnc_get_le16(data + bnc_lut3_offset(cols, m, k)),
			      k % BNC_LUT3_COLS);
}

void bnc_lut3_begin(u8 *data, u32 rows, u32 cols)
{
	size_t i, n = bnc_layout_code_bytes(BNC_LAYOUT_LUT3, rows, cols);

	for (i = 0; i < n; i += 2)
		bnc_put_le16(data + i, BNC_LUT3_ZERO9);
}

/*
 * Every field at most 26 and bit 15 clear; the columns past K (the last
 * chunk's) and the pad rows zero weights.
 */
int bnc_lut3_check_codes(const u8 *data, u32 rows, u32 cols)
{
	u32 nch = bnc_lut3_chunks(cols), b, j, r, w;
	size_t bb = bnc_lut3_block_bytes(cols);
	u16 x;

	for (b = 0; b < bnc_lut3_blocks(rows); b++) {
		for (j = 0; j < nch; j++) {
			for (r = 0; r < BNC_LUT3_ROWS; r++) {
				x = bnc_get_le16(data + b * bb + (size_t)j * BNC_CHUNK_BYTES + 2 * r);
				if ((x & 0x8000) || (x & 31) > 26 || ((x >> 5) & 31) > 26 ||
				    ((x >> 10) & 31) > 26)
					return -EINVAL;
				if (b * BNC_LUT3_ROWS + r >= rows && x != BNC_LUT3_ZERO9)
					return -EINVAL;
				for (w = 0; j == nch - 1 && w < BNC_LUT3_COLS; w++)
					if (j * BNC_LUT3_COLS + w >= cols && bnc_lut3_digit(x, w) != 1)
						return -EINVAL;
			}
		}
	}
	return 0;
}
