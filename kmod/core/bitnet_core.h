/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnet compute core: packed ternary formats and ternary x int8 matmul.
 *
 * The same source builds into bitnet.ko and, unchanged, into the userspace
 * static library libbitnet-core.a. bnc_compat.h hides the differences.
 *
 * Conventions
 *  - W is M x K (rows x cols), K a multiple of BNC_K_ALIGN; every weight is
 *    t in {-1, 0, +1} with one fp32 scale per tensor (w_scale).
 *  - Activations: N tokens of K int8 each, token-major (q[n * K + k]), with
 *    per-token sigma = 127 / max(max|x|, 1e-5) (so x ~= q / sigma) and
 *    sum[n] = sum_k q[n * K + k].
 *  - Outputs are token-major with a caller-given stride in elements:
 *    out[n * out_stride + m].
 *  - Integer results are exact and bit-identical on every ISA path.
 *  - Functions return 0 or a negative errno (-EINVAL for bad shapes,
 *    sizes, NULL or misaligned buffers).
 *  - Float math (quantizers, the f32 epilogue) lives in files the kernel
 *    build compiles with FPU flags; callers in the kernel wrap every call of
 *    bnc_matmul_*() in kernel_fpu_begin()/kernel_fpu_end(), and keep each
 *    section bounded (a tile).
 */
#ifndef BITNET_CORE_H
#define BITNET_CORE_H

#include "bnc_compat.h"

#define BNC_K_ALIGN		128	/* K must be a multiple of this */
#define BNC_BUF_ALIGN		64	/* execution layout buffers */
#define BNC_MAX_ROWS		(1u << 24)
#define BNC_MAX_COLS		(1u << 18)	/* keeps every sum exact in s32 */

/* Formats: the values of uapi's enum bitnet_format (bnc_uapi.h checks). */
#define BNC_FMT_I2_S		1
#define BNC_FMT_TQ2_0		2
#define BNC_FMT_TQ1_0		3
#define BNC_FMT_EXEC		4

enum bnc_isa {
	BNC_ISA_SCALAR		= 0,
	BNC_ISA_AVX2		= 1,
	BNC_ISA_AVX512_VNNI	= 2,
	BNC_ISA_COUNT
};

/* Validate a shape: rows >= 1, cols a non-zero multiple of BNC_K_ALIGN. */
int bnc_check_shape(u32 rows, u32 cols);

/* Bytes of a packed tensor in @fmt (I2_S: n/4 + 32); 0 if invalid. */
size_t bnc_packed_size(unsigned int fmt, u32 rows, u32 cols);

/* ---- execution layout ---- */

/*
 * A weight matrix in the core's execution layout. @data is caller-owned
 * memory of bnc_exec_size() bytes, BNC_BUF_ALIGN-aligned.
 */
struct bnc_matrix {
	u32 rows;
	u32 cols;
	u32 scale_bits;		/* fp32 bits of w_scale */
	u32 layout;		/* internal layout id, set by bnc_repack() */
	u8 *data;
};

/*
 * Execution layouts (internal descriptions in bnc_internal.h and
 * exec_t5.c): R16 holds 2 bits per weight and runs every batch size
 * fastest of the multiply layouts; T5 holds 5 weights per byte (1.6 bits),
 * for decode, where streaming the weights from DRAM is the cost. T5 needs
 * cols <= BNC_T5_MAX_COLS (its kernels' exact-arithmetic bound).
 */
#define BNC_LAYOUT_R16		1
#define BNC_LAYOUT_T5		2
#define BNC_T5_MAX_COLS		(1u << 15)
/*
 * LUT3 holds 9 weights in 16 bits (1.78 bits a weight) as three 5-bit
 * indices of 3-weight patterns; its AVX-512 kernel looks partial sums up
 * in per-token tables (bnc_lut3_build()) instead of multiplying: past
 * VNNI's int8 ceiling for batches. Userspace only (bitnet.ko runs R16).
 */
#define BNC_LAYOUT_LUT3		3

/* Bytes of a matrix in @layout (tail included); 0 if invalid. */
size_t bnc_layout_size(u32 layout, u32 rows, u32 cols);
/* bnc_layout_size(BNC_LAYOUT_R16, ...). */
size_t bnc_exec_size(u32 rows, u32 cols);

/*
 * Rows are handed to the kernels in tiles whose boundaries are multiples of
 * this (the last tile may end at @rows).
 */
u32 bnc_row_tile_align(void);

/*
 * Lossless repack of a whole packed tensor (@src_bytes == bnc_packed_size)
 * into @dst (rows, cols and data set by the caller). TQ2_0/TQ1_0 tensors
 * must have one scale for all blocks that hold a non-zero weight
 * (-EINVAL otherwise: not a per-tensor ternary weight).
 */
int bnc_repack(struct bnc_matrix *dst, unsigned int fmt, const void *src,
	       size_t src_bytes);
/*
 * Same into @layout (@dst->data of bnc_layout_size() bytes). A BNC_FMT_EXEC
 * source must be a stored buffer of that layout (@src_bytes its
 * bnc_layout_size()); bnc_repack() is this with BNC_LAYOUT_R16.
 */
int bnc_repack_layout(struct bnc_matrix *dst, u32 layout, unsigned int fmt,
		      const void *src, size_t src_bytes);

/* Writers of the packed formats, from codes t[m * K + k] in {-1, 0, 1}. */
int bnc_pack(unsigned int fmt, const s8 *t, u32 rows, u32 cols,
	     u32 scale_bits, void *dst, size_t dst_bytes);
/*
 * Reader: packed tensor back to codes and scale (tests, tools). For
 * BNC_FMT_EXEC, @src_bytes says which layout (each has its own size).
 */
int bnc_unpack(unsigned int fmt, const void *src, size_t src_bytes, u32 rows,
	       u32 cols, s8 *t, u32 *scale_bits);

/* ---- activations ---- */

struct bnc_act {
	u32 n;			/* tokens */
	u32 k;			/* == weight cols */
	const s8 *q;		/* n * k */
	const s32 *sum;		/* n; NULL: the core computes it */
	const float *sigma;	/* n; needed by the f32 epilogue only */
	/*
	 * LUT3 tables of these n tokens (bnc_lut3_build()); the AVX-512
	 * kernel of a LUT3 matrix needs them, every other path ignores them.
	 */
	const s16 *lut;
};

/*
 * LUT3 tables: for each column triple g (columns 3g..3g+2, past K zero) and
 * token t, the 27 sums sum_d (digit_d(p) - 1) * q[t][3g + d] of the weight
 * patterns p = sum_d 3^d * digit_d(p) as 32 s16 (lanes 27..31 zero) at
 * lut[(g * n + t) * 32]. Built once per matmul, shared by all its tiles.
 */
u32 bnc_lut3_triples(u32 cols);
/* Bytes of the tables of @n tokens of @cols (a multiple of 64); 0 if invalid. */
size_t bnc_lut3_table_bytes(u32 n, u32 cols);
/*
 * Triples [g_begin, g_end) of the tables of all x->n tokens into @lut
 * (BNC_BUF_ALIGN-aligned, bnc_lut3_table_bytes()); ranges may be built
 * concurrently. AVX-512 builds with SIMD, other ISAs with scalar code.
 */
int bnc_lut3_build(enum bnc_isa isa, const struct bnc_act *x, u32 g_begin, u32 g_end, s16 *lut);

/* ---- kernels ---- */

/* The ISA paths this CPU can run (bit i set: enum bnc_isa i). */
u32 bnc_isa_supported(void);
/* Best supported path; what bnc_matmul_*() use unless told otherwise. */
enum bnc_isa bnc_isa_best(void);
const char *bnc_isa_name(enum bnc_isa isa);

/*
 * One tile: rows [row_begin, row_end) of W for tokens [tok_begin, tok_end)
 * of @x, into out[n * out_stride + m] (absolute n and m). Tiles of one
 * matmul may run concurrently on different threads.
 */
int bnc_matmul_i32(enum bnc_isa isa, const struct bnc_matrix *w,
		   const struct bnc_act *x, u32 row_begin, u32 row_end,
		   u32 tok_begin, u32 tok_end, s32 *out, size_t out_stride);

/*
 * A LUT3 matrix runs the LUT kernel on AVX-512 (x->lut required, -EINVAL
 * without) and the scalar reference kernel on the other ISAs (slow: for
 * tests; the backend keeps R16 where AVX-512 is missing).
 */

/* Same, fused epilogue: out = (float)acc * (w_scale / sigma[n]). */
int bnc_matmul_f32(enum bnc_isa isa, const struct bnc_matrix *w,
		   const struct bnc_act *x, u32 row_begin, u32 row_end,
		   u32 tok_begin, u32 tok_end, float *out, size_t out_stride);

#endif /* BITNET_CORE_H */
