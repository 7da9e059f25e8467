/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The walk over a tile that the AVX-512 kernels of both layouts share. For
 * 1 to 7 tokens a layout gives the function that computes S neighbouring
 * row blocks for T tokens into res[s * T + t] (several DRAM streams, each
 * activation broadcast used by every stream); this walks the rows S blocks
 * at a time (4 for 1 and 2 tokens, 2 for 3, 1 for 4 to 7: S * T
 * accumulator pairs stay in registers) and stores the sums less the token
 * sums.
 * All of it is __always_inline, so the block function, S and T are
 * constants where its loops are compiled.
 */
#ifndef BNC_MATMUL_AVX512_WALK_H
#define BNC_MATMUL_AVX512_WALK_H

#include "bnc_internal.h"
#include <immintrin.h>

#define BNC_SMALL_ACC		8	/* streams x tokens */

typedef void (*bnc_blocks_fn)(const u8 *wb, size_t block_bytes, const s8 *q, u32 cols, const int S,
			      const int T, __m512i *res);

static __always_inline void bnc_walk_rows(bnc_blocks_fn blocks, size_t bb,
					  const struct bnc_matrix *w, const s8 *q, const s32 *sum,
					  const int T, u32 row_begin, u32 row_end, s32 *out,
					  size_t out_stride)
{
	const int S = T <= 2 ? 4 : T == 3 ? 2 : 1;
	__m512i res[BNC_SMALL_ACC];
	u32 m, left, valid, r;
	int s, t, n;

	for (m = row_begin; m < row_end; m += n * BNC_BLOCK_ROWS) {
		const u8 *wb = w->data + (size_t)(m / BNC_BLOCK_ROWS) * bb;

		left = bnc_row_blocks(row_end - m);
		n = left < (u32)S ? (int)left : S;
		if (n == S)
			blocks(wb, bb, q, w->cols, S, T, res);
		else if (S > 3 && n == 3)
			blocks(wb, bb, q, w->cols, 3, T, res);
		else if (S > 2 && n == 2)
			blocks(wb, bb, q, w->cols, 2, T, res);
		else
			blocks(wb, bb, q, w->cols, 1, T, res);
		for (s = 0; s < n; s++) {
			r = m + s * BNC_BLOCK_ROWS;
			valid = row_end - r < BNC_BLOCK_ROWS ? row_end - r : BNC_BLOCK_ROWS;
			for (t = 0; t < T; t++)
				_mm512_mask_storeu_epi32(
					out + t * out_stride + (r - row_begin),
					(__mmask16)((1u << valid) - 1),
					_mm512_sub_epi32(res[s * T + t],
							 _mm512_set1_epi32(sum[t])));
		}
	}
}

/*
 * Fewer than 8 tokens: all of them in one pass over the tile, so the
 * weights are read once (groups of 4, 2 and 1, each a pass, read them up to
 * three times: 3, 5, 6 and 7 tokens took 5-15% longer on R16, 15-30% on T5).
 */
static __always_inline void bnc_walk_small(bnc_blocks_fn blocks, size_t bb,
					   const struct bnc_matrix *w, const s8 *q, const s32 *sum,
					   u32 ntok, u32 row_begin, u32 row_end, s32 *out,
					   size_t out_stride)
{
	/* a case each, so T is a constant where bnc_walk_rows() is compiled */
	switch (ntok) {
	case 1:
		bnc_walk_rows(blocks, bb, w, q, sum, 1, row_begin, row_end, out, out_stride);
		break;
	case 2:
		bnc_walk_rows(blocks, bb, w, q, sum, 2, row_begin, row_end, out, out_stride);
		break;
	case 3:
		bnc_walk_rows(blocks, bb, w, q, sum, 3, row_begin, row_end, out, out_stride);
		break;
	case 4:
		bnc_walk_rows(blocks, bb, w, q, sum, 4, row_begin, row_end, out, out_stride);
		break;
	case 5:
		bnc_walk_rows(blocks, bb, w, q, sum, 5, row_begin, row_end, out, out_stride);
		break;
	case 6:
		bnc_walk_rows(blocks, bb, w, q, sum, 6, row_begin, row_end, out, out_stride);
		break;
	default:
		bnc_walk_rows(blocks, bb, w, q, sum, 7, row_begin, row_end, out, out_stride);
	}
}

typedef void (*bnc_gemm_fn)(const u8 *wb, const s8 *q, u32 cols, const s32 *sum, const int T,
			    s32 *out, size_t out_stride, __mmask16 mask);

/*
 * A whole kernel call: 16 and then 8 tokens at a time through @gemm, one
 * row block after another (each block's weights decoded once for them all),
 * and the last ntok % 8 tokens through the small walk.
 */
static __always_inline void bnc_walk_kernel(bnc_gemm_fn gemm, bnc_blocks_fn blocks, size_t bb,
					    const struct bnc_matrix *w, const s8 *q,
					    const s32 *sum, u32 ntok, u32 row_begin, u32 row_end,
					    s32 *out, size_t out_stride)
{
	const u32 cols = w->cols;
	u32 m, n, big = ntok / 8 * 8;

	for (m = row_begin; big && m < row_end; m += BNC_BLOCK_ROWS) {
		const u8 *wb = w->data + (size_t)(m / BNC_BLOCK_ROWS) * bb;
		u32 valid = row_end - m < BNC_BLOCK_ROWS ? row_end - m : BNC_BLOCK_ROWS;
		__mmask16 mask = (__mmask16)((1u << valid) - 1);
		s32 *o = out + (m - row_begin);

		for (n = 0; n + 16 <= big; n += 16)
			gemm(wb, q + (size_t)n * cols, cols, sum + n, 16, o + n * out_stride,
			     out_stride, mask);
		if (n < big)
			gemm(wb, q + (size_t)n * cols, cols, sum + n, 8, o + n * out_stride,
			     out_stride, mask);
	}
	if (big < ntok)
		bnc_walk_small(blocks, bb, w, q + (size_t)big * cols, sum + big, ntok - big,
			       row_begin, row_end, out + big * out_stride, out_stride);
}

#endif /* BNC_MATMUL_AVX512_WALK_H */
