// SPDX-License-Identifier: GPL-2.0
/*
 * The T5 execution layout (described in bnc_internal.h): where each code
 * goes, filling a buffer, and checking a stored one. A T5 byte is filled
 * as the base-3 number v itself (trits added in any order as the packed
 * formats deliver them), then bnc_t5_finish() turns every v into its TQ1_0
 * byte in place.
 */
#include "bnc_formats.h"

static const u8 bnc_t5_weight[BNC_T5_PLANES] = { 81, 27, 9, 3, 1 };

/*
 * Byte offset of (m, k); *plane is its trit (T5 chunk) or, in the R16
 * remainder chunk, BNC_T5_PLANES + its 2-bit field.
 */
static size_t bnc_t5_offset(u32 cols, u32 m, u32 k, unsigned int *plane)
{
	u32 full = cols / BNC_T5_COLS * BNC_T5_COLS, w;
	size_t off = (size_t)(m / BNC_BLOCK_ROWS) * bnc_t5_block_bytes(cols) +
		     (m % BNC_BLOCK_ROWS) * 4;

	if (k < full) {
		w = k % BNC_T5_COLS;
		*plane = w / 4;
		return off + (size_t)(k / BNC_T5_COLS) * BNC_CHUNK_BYTES + w % 4;
	}
	w = k - full;
	*plane = BNC_T5_PLANES + w / 4;
	return off + (size_t)(full / BNC_T5_COLS) * BNC_CHUNK_BYTES + w % 4;
}

/*
 * Columns [@from, @to) of a T5 chunk (multiples of 4: @k is a multiple of
 * 16, chunks of 20) as the little-endian u32 of a row's 4 bytes: 4 codes
 * times their trit's weight at once (a byte's trits sum to at most 242:
 * no carry between bytes).
 */
static u32 bnc_t5_word(const u8 *c, u32 from, u32 to)
{
	u32 x = 0, w, d;

	for (w = from; w < to; w += 4) {
		memcpy(&d, c + w - from, sizeof(d));
		x += d * bnc_t5_weight[w / 4];
	}
	return x;
}

static void bnc_t5_add32(u8 *p, u32 x)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	v += x;
	memcpy(p, &v, sizeof(v));
}

/*
 * The 16 columns span at most two T5 chunks, or end in the remainder
 * chunk: each chunk's part summed in a register first (per-byte
 * read-modify-writes made the T5 repack 6x slower than R16's).
 */
void bnc_t5_put16(u8 *data, u32 cols, u32 m, u32 k, const u8 *c)
{
	u32 full = cols / BNC_T5_COLS * BNC_T5_COLS, w = k % BNC_T5_COLS, i = 0, n, e;
	unsigned int p;
	u8 *row = data + bnc_t5_offset(cols, m, 0, &p) + k / BNC_T5_COLS * BNC_CHUNK_BYTES;

	n = full > k ? full - k : 0;
	n = n < BNC_CHUNK_COLS ? n : BNC_CHUNK_COLS;
	while (i < n) {
		e = w + (n - i) < BNC_T5_COLS ? w + (n - i) : BNC_T5_COLS;
		bnc_t5_add32(row, bnc_t5_word(c + i, w, e));
		i += e - w;
		w = 0;
		row += BNC_CHUNK_BYTES;
	}
	/* the remainder chunk: R16 fields */
	for (; i < BNC_CHUNK_COLS; i++) {
		w = k + i - full;
		row[w % 4] |= c[i] << (2 * (w / 4));
	}
}

u8 bnc_t5_get(const u8 *data, u32 cols, u32 m, u32 k)
{
	unsigned int p;
	size_t off = bnc_t5_offset(cols, m, k, &p);

	if (p < BNC_T5_PLANES)
		return bnc_tq1_trit(data[off], p);
	return (data[off] >> (2 * (p - BNC_T5_PLANES))) & 3;
}

/* All zero (nothing added yet), then pad rows all codes 1 (zero weights). */
void bnc_t5_begin(u8 *data, u32 rows, u32 cols)
{
	static const u8 ones[BNC_CHUNK_COLS] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
	};
	u32 m, k;

	memset(data, 0, bnc_layout_code_bytes(BNC_LAYOUT_T5, rows, cols));
	for (m = rows; m < bnc_row_blocks(rows) * BNC_BLOCK_ROWS; m++)
		for (k = 0; k < cols; k += BNC_CHUNK_COLS)
			bnc_t5_put16(data, cols, m, k, ones);
}

void bnc_t5_finish(u8 *data, u32 rows, u32 cols)
{
	size_t bb = bnc_t5_block_bytes(cols), n = cols / BNC_T5_COLS * BNC_CHUNK_BYTES;
	u32 b;
	size_t i;

	for (b = 0; b < bnc_row_blocks(rows); b++)
		for (i = 0; i < n; i++)
			data[b * bb + i] = bnc_tq1_of(data[b * bb + i]);
}

/* Is @q the TQ1_0 byte of the trits it decodes to? */
static int bnc_t5_canonical(u8 q)
{
	u32 v = 0;
	unsigned int p;

	for (p = 0; p < BNC_T5_PLANES; p++)
		v = v * 3 + bnc_tq1_trit(q, p);
	return bnc_tq1_of(v) == q;
}

/*
 * Every T5 byte canonical; in the remainder chunk no 2-bit code 3 and the
 * fields past K % 20 columns zero.
 */
int bnc_t5_check_codes(const u8 *data, u32 rows, u32 cols)
{
	size_t bb = bnc_t5_block_bytes(cols), n = cols / BNC_T5_COLS * BNC_CHUNK_BYTES;
	u8 unused = (u8)(0xff << (2 * (cols % BNC_T5_COLS / 4)));
	u32 b;
	size_t i;

	for (b = 0; b < bnc_row_blocks(rows); b++) {
		const u8 *p = data + b * bb;

		for (i = 0; i < n; i++)
			if (!bnc_t5_canonical(p[i]))
				return -EINVAL;
		for (i = n; i < bb; i++)
			if ((p[i] & unused) || (p[i] & (p[i] >> 1) & 0x55))
				return -EINVAL;
	}
	return 0;
}
