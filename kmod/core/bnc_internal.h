/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the compute core shared by its files: the execution layout
 * and the per-ISA kernel entry points. Not part of the API.
 *
 * Execution layout "R16" (layout id 1): rows are grouped in blocks of 16
 * (the last block padded with zero weights). A block is K/16 chunks of 64
 * bytes; chunk j covers columns 16j..16j+15 of the block's 16 rows. In a
 * chunk, byte 4r + i holds in bits 2s+1:2s the code c = t + 1 (0, 1, 2) of
 * row r, column 16j + 4s + i. So (chunk >> 2s) & 3 is a vector of 16 dwords,
 * one per row, each 4 unsigned codes for 4 consecutive columns: exactly the
 * operand of vpdpbusd against a broadcast dword of 4 activations, and
 * sum_k c * q - sum_k q = sum_k t * q (the code-offset trick). A row costs
 * K/4 bytes, like I2_S. The 64-byte tail after the codes records what the
 * buffer holds, so it can be stored and loaded as BNC_FMT_EXEC.
 */
#ifndef BNC_INTERNAL_H
#define BNC_INTERNAL_H

#include "bitnet_core.h"

/*
 * Execution layout "T5" (layout id 2, exec_t5.c): row blocks of 16 as in
 * R16, each K/20 chunks of 64 bytes, then for the last K % 20 columns (if
 * any) one R16 chunk whose planes past them are zero. In T5 chunk j, byte
 * 4r + i holds row r's codes of columns 20j + 4p + i, p = 0..4, as TQ1_0
 * packs 5 trits: q = ceil(v * 256 / 243), v = sum_p c_p * 3^(4 - p); plane
 * p is c_p = ((q * 3^p mod 256) * 3) >> 8, 16 dwords of 4 codes: the
 * vpdpbusd operand against the dword of activations 20j + 4p. 1.6 bits a
 * weight: 20% less to stream than R16.
 */
#define BNC_T5_COLS		20
#define BNC_T5_PLANES		5

/*
 * Execution layout "LUT3" (layout id 3, exec_lut3.c): row blocks of 32,
 * each ceil(K / 9) chunks of 64 bytes; chunk j holds 32 little-endian u16
 * words, word r for row r of the block: in bits 5s+4:5s (s = 0..2) the
 * pattern index p = c0 + 3 c1 + 9 c2 of that row's codes c_d = t + 1 of
 * columns 9j + 3s + d; bit 15 zero; columns past K and pad rows zero
 * weights (c = 1). vpermw of a word vector (it reads the low 5 bits of each
 * index) gives 32 rows' sums over 3 columns from a token's table of triple
 * 3j + s (bitnet_core.h): 96 multiply-adds in one instruction.
 */
#define BNC_LUT3_ROWS		32
#define BNC_LUT3_COLS		9	/* per word and chunk */
#define BNC_LUT3_LANES		32	/* s16 per table */
#define BNC_LUT3_ZERO3		13	/* the pattern of 3 zero weights */

#define BNC_BLOCK_ROWS		16
#define BNC_CHUNK_COLS		16
#define BNC_CHUNK_BYTES		64
#define BNC_EXEC_TAIL		64
#define BNC_EXEC_MAGIC		0x58434e42u	/* "BNCX" little-endian */
#define BNC_TOK_BLOCK		16	/* max tokens one kernel pass holds */
#define BNC_SUM_BATCH		64	/* token sums computed per batch */

/* Unaligned load of 4 activations (a constant-size memcpy is one mov). */
static __always_inline s32 bnc_load4(const s8 *p)
{
	s32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline u32 bnc_row_blocks(u32 rows)
{
	return (rows + BNC_BLOCK_ROWS - 1) / BNC_BLOCK_ROWS;
}

/* Bytes of one row block in the execution layout. */
static inline size_t bnc_block_bytes(u32 cols)
{
	return (size_t)cols * BNC_BLOCK_ROWS / 4;
}

static inline size_t bnc_exec_code_bytes(u32 rows, u32 cols)
{
	return (size_t)bnc_row_blocks(rows) * bnc_block_bytes(cols);
}

/* Bytes of one row block in T5: whole chunks and the R16 remainder chunk. */
static inline size_t bnc_t5_block_bytes(u32 cols)
{
	return (size_t)(cols + BNC_T5_COLS - 1) / BNC_T5_COLS * BNC_CHUNK_BYTES;
}

static inline u32 bnc_lut3_chunks(u32 cols)
{
	return (cols + BNC_LUT3_COLS - 1) / BNC_LUT3_COLS;
}

static inline u32 bnc_lut3_blocks(u32 rows)
{
	return (rows + BNC_LUT3_ROWS - 1) / BNC_LUT3_ROWS;
}

static inline size_t bnc_lut3_block_bytes(u32 cols)
{
	return (size_t)bnc_lut3_chunks(cols) * BNC_CHUNK_BYTES;
}

static inline size_t bnc_layout_block_bytes(u32 layout, u32 cols)
{
	if (layout == BNC_LAYOUT_LUT3)
		return bnc_lut3_block_bytes(cols);
	return layout == BNC_LAYOUT_T5 ? bnc_t5_block_bytes(cols) : bnc_block_bytes(cols);
}

static inline size_t bnc_layout_code_bytes(u32 layout, u32 rows, u32 cols)
{
	u32 blocks = layout == BNC_LAYOUT_LUT3 ? bnc_lut3_blocks(rows) : bnc_row_blocks(rows);

	return (size_t)blocks * bnc_layout_block_bytes(layout, cols);
}

/* Byte offset and shift of the code of (m, k) in the R16 layout. */
static inline size_t bnc_exec_offset(u32 cols, u32 m, u32 k, unsigned int *shift)
{
	*shift = 2 * ((k % BNC_CHUNK_COLS) / 4);
	return (size_t)(m / BNC_BLOCK_ROWS) * bnc_block_bytes(cols) +
	       (size_t)(k / BNC_CHUNK_COLS) * BNC_CHUNK_BYTES +
	       (m % BNC_BLOCK_ROWS) * 4 + k % 4;
}

static inline s32 bnc_token_sum(const s8 *q, u32 k)
{
	s32 s = 0;
	u32 i;

	for (i = 0; i < k; i++)
		s += q[i];
	return s;
}

/*
 * A kernel computes rows [row_begin, row_end) (row_begin a multiple of
 * BNC_BLOCK_ROWS) for @ntok tokens starting at @q (token stride w->cols)
 * with their sums, into out[n * out_stride + (m - row_begin)]. Arguments
 * are already validated. Loops run row blocks outside and tokens inside,
 * so a block's weights are decoded from memory once per call.
 */
typedef void (*bnc_kernel_fn)(const struct bnc_matrix *w, const s8 *q, const s32 *sum,
			      u32 ntok, u32 row_begin, u32 row_end, s32 *out,
			      size_t out_stride);

void bnc_kernel_scalar(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		       u32 row_begin, u32 row_end, s32 *out, size_t out_stride);
void bnc_kernel_avx2(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		     u32 row_begin, u32 row_end, s32 *out, size_t out_stride);
void bnc_kernel_avx512(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		       u32 row_begin, u32 row_end, s32 *out, size_t out_stride);
void bnc_kernel_t5_avx2(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
			u32 row_begin, u32 row_end, s32 *out, size_t out_stride);
void bnc_kernel_t5_avx512(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
			  u32 row_begin, u32 row_end, s32 *out, size_t out_stride);

/* bnc_quant_act() on AVX-512 (quant_avx512.c); arguments already checked. */
void bnc_quant_act_avx512(const float *x, u32 k, s8 *q, float *sigma, s32 *sum);

/* The code (0..2) of weight (m, k) in @w's layout, from its definition. */
u8 bnc_exec_code(const struct bnc_matrix *w, u32 m, u32 k);

/* T5 (exec_t5.c); exec.c calls them for layout BNC_LAYOUT_T5. */
void bnc_t5_put16(u8 *data, u32 cols, u32 m, u32 k, const u8 *c);
u8 bnc_t5_get(const u8 *data, u32 cols, u32 m, u32 k);
void bnc_t5_begin(u8 *data, u32 rows, u32 cols);
void bnc_t5_finish(u8 *data, u32 rows, u32 cols);
int bnc_t5_check_codes(const u8 *data, u32 rows, u32 cols);

/* LUT3 (exec_lut3.c), the same for layout BNC_LAYOUT_LUT3. */
void bnc_lut3_put16(u8 *data, u32 cols, u32 m, u32 k, const u8 *c);
u8 bnc_lut3_get(const u8 *data, u32 cols, u32 m, u32 k);
void bnc_lut3_begin(u8 *data, u32 rows, u32 cols);
int bnc_lut3_check_codes(const u8 *data, u32 rows, u32 cols);

/*
 * The LUT3 kernel (matmul_lut3_avx512.c): rows [row_begin, row_end) (a
 * multiple of BNC_BLOCK_ROWS; may start mid-block) for @ntok tokens whose
 * tables start at @lut, @ntab tokens between one triple's tables and the
 * next's, into out[n * out_stride + (m - row_begin)].
 */
void bnc_kernel_lut3_avx512(const struct bnc_matrix *w, const s16 *lut, u32 ntab, u32 ntok,
			    u32 row_begin, u32 row_end, s32 *out, size_t out_stride);
void bnc_lut3_build_avx512(const struct bnc_act *x, u32 g_begin, u32 g_end, s16 *lut);
/*
 * Does (@isa, @w) run the LUT kernel? Then bnc_lut3_i32() computes the tile
 * (validated by bnc_matmul_check()) into out[(n - tok_begin) * out_stride +
 * (m - row_begin)].
 */
int bnc_lut3_uses_tables(enum bnc_isa isa, const struct bnc_matrix *w);
int bnc_lut3_i32(const struct bnc_matrix *w, const struct bnc_act *x, u32 row_begin,
		 u32 row_end, u32 tok_begin, u32 tok_end, s32 *out, size_t out_stride);

/* Checks shared by bnc_matmul_i32() and bnc_matmul_f32(). */
int bnc_matmul_check(enum bnc_isa isa, const struct bnc_matrix *w,
		     const struct bnc_act *x, u32 row_begin, u32 row_end,
		     u32 tok_begin, u32 tok_end, const void *out, size_t out_stride);
bnc_kernel_fn bnc_kernel_for(enum bnc_isa isa, u32 layout);
/*
 * @fn over rows [row_begin, row_end) and tokens [tok_begin, tok_end) of @x
 * into out[(n - tok_begin) * out_stride + (m - row_begin)], with x->sum or
 * sums computed on the way.
 */
void bnc_run_kernel(bnc_kernel_fn fn, const struct bnc_matrix *w,
		    const struct bnc_act *x, u32 row_begin, u32 row_end,
		    u32 tok_begin, u32 tok_end, s32 *out, size_t out_stride);

/* fp16 / bf16 <-> fp32 on bit patterns (integer only: kernel-safe). */
u32 bnc_fp16_bits_to_fp32_bits(u16 h);
u16 bnc_fp32_bits_to_fp16_bits(u32 f);

#endif /* BNC_INTERNAL_H */
