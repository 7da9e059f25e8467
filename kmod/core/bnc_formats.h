/* SPDX-License-Identifier: GPL-2.0 */
/* Block codecs of the packed file formats (formats.c); internal. */
#ifndef BNC_FORMATS_H
#define BNC_FORMATS_H

#include "bnc_internal.h"

#define BNC_MAX_BLOCK_WEIGHTS	256

struct bnc_block_fmt {
	unsigned int fmt;
	u32 weights;		/* per block */
	u32 bytes;		/* per block */
};

/* The block geometry of a packed format; NULL for others (EXEC). */
const struct bnc_block_fmt *bnc_block_fmt(unsigned int fmt);

/*
 * One block at @p to codes c = t + 1 in the block's weight order, and the
 * block's scale for formats that carry one per block (I2_S leaves
 * @scale_bits alone). -EINVAL for a code that is not ternary.
 */
int bnc_block_read(unsigned int fmt, const u8 *p, u8 *c, u32 *scale_bits);
/* Codes (each 0..2) and scale to one block at @p. */
void bnc_block_write(unsigned int fmt, u8 *p, const u8 *c, u32 scale_bits);

/* TQ1_0's 5-trit byte: trit @n (0 = most significant) of byte @b. */
u8 bnc_tq1_trit(u8 b, unsigned int n);
/* The byte of base-3 number @v < 243: ceil(v * 256 / 243). */
u8 bnc_tq1_of(u32 v);

u32 bnc_get_le32(const u8 *p);
void bnc_put_le32(u8 *p, u32 v);

#endif /* BNC_FORMATS_H */
