// SPDX-License-Identifier: GPL-2.0
/*
 * The fused float epilogue: out = (float)acc * (w_scale / sigma[n]), one
 * IEEE operation at a time, so every ISA path and both builds give the same
 * bits. The factor is formed once per token: one multiply per output, and
 * the same expression as the reference BitLinear (acc * (s / sigma)). The kernel build compiles this file with SSE float
 * enabled; callers hold kernel_fpu_begin().
 */
#include "bnc_internal.h"

/*
 * The integer tile the epilogue converts at a time (1 KiB of stack): 16
 * tokens of 16 rows, or for fewer tokens as many rows as fit, so decode
 * makes few kernel calls.
 */
#define BNC_EPI_BUF	(BNC_TOK_BLOCK * BNC_BLOCK_ROWS)

static float bnc_f32_of_bits(u32 bits)
{
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* sigma must be positive and finite (NaN fails >, Inf - Inf is NaN). */
static int bnc_check_sigma(const float *sigma, u32 tok_begin, u32 tok_end)
{
	u32 n;

	if (!sigma)
		return -EINVAL;
	for (n = tok_begin; n < tok_end; n++)
		if (!(sigma[n] > 0.0f && sigma[n] - sigma[n] == 0.0f))
			return -EINVAL;
	return 0;
}

/*
 * out[r] = (float)acc[r] * (ws / sg), four at a time with GCC vectors (SSE2
 * in both builds, no header needed; IEEE per lane, as the scalar tail).
 */
static void bnc_epilogue_row(const s32 *acc, u32 rows, float ws, float sg, float *out)
{
	float f __attribute__((vector_size(16))) = { 0 };
	s32 a __attribute__((vector_size(16))) = { 0 };
	const float factor = ws / sg;
	u32 r;

	for (r = 0; r + 4 <= rows; r += 4) {
		memcpy(&a, acc + r, sizeof(a));
		f = __builtin_convertvector(a, __typeof__(f)) * factor;
		memcpy(out + r, &f, sizeof(f));
	}
	for (; r < rows; r++)
		out[r] = (float)acc[r] * factor;
}

static void bnc_epilogue_tile(const struct bnc_matrix *w, const struct bnc_act *x,
			      bnc_kernel_fn fn, u32 row_begin, u32 row_end,
			      u32 tok_begin, u32 tok_end, float *out, size_t out_stride)
{
	const float ws = bnc_f32_of_bits(w->scale_bits);
	u32 toks = tok_end - tok_begin < BNC_TOK_BLOCK ? tok_end - tok_begin : BNC_TOK_BLOCK;
	u32 chunk = BNC_EPI_BUF / toks / BNC_BLOCK_ROWS * BNC_BLOCK_ROWS;
	s32 acc[BNC_EPI_BUF];
	u32 m, n, t, rows, cnt;

	for (m = row_begin; m < row_end; m += rows) {
		rows = row_end - m < chunk ? row_end - m : chunk;
		for (n = tok_begin; n < tok_end; n += cnt) {
			cnt = tok_end - n < toks ? tok_end - n : toks;
			bnc_run_kernel(fn, w, x, m, m + rows, n, n + cnt, acc, rows);
			for (t = 0; t < cnt; t++)
				bnc_epilogue_row(acc + t * rows, rows, ws, x->sigma[n + t],
						 out + (size_t)(n + t) * out_stride + m);
		}
	}
}

/*
 * The LUT3 kernel writes the whole tile's sums into @out itself (its
 * K-outer walk wants every row of the tile at once, more than a stack
 * buffer), converted there in place: each float replaces its own sum.
 */
static int bnc_lut3_f32(const struct bnc_matrix *w, const struct bnc_act *x, u32 row_begin,
			u32 row_end, u32 tok_begin, u32 tok_end, float *out, size_t out_stride)
{
	const float ws = bnc_f32_of_bits(w->scale_bits);
	s32 *acc = (s32 *)(out + (size_t)tok_begin * out_stride + row_begin);
	u32 n;
	int ret;

	ret = bnc_lut3_i32(w, x, row_begin, row_end, tok_begin, tok_end, acc, out_stride);
	if (ret)
		return ret;
	for (n = tok_begin; n < tok_end; n++)
		bnc_epilogue_row(acc + (size_t)(n - tok_begin) * out_stride, row_end - row_begin, ws,
				 x->sigma[n], out + (size_t)n * out_stride + row_begin);
	return 0;
}

int bnc_matmul_f32(enum bnc_isa isa, const struct bnc_matrix *w,
		   const struct bnc_act *x, u32 row_begin, u32 row_end,
		   u32 tok_begin, u32 tok_end, float *out, size_t out_stride)
{
	s32 sums[BNC_SUM_BATCH];
	struct bnc_act xs;
	u32 n, i, cnt;
	int ret;

	ret = bnc_matmul_check(isa, w, x, row_begin, row_end, tok_begin, tok_end, out,
			       out_stride);
	if (ret)
		return ret;
	ret = bnc_check_sigma(x->sigma, tok_begin, tok_end);
	if (ret)
		return ret;
	if (bnc_lut3_uses_tables(isa, w))
		return bnc_lut3_f32(w, x, row_begin, row_end, tok_begin, tok_end, out, out_stride);
	if (x->sum) {
		bnc_epilogue_tile(w, x, bnc_kernel_for(isa, w->layout), row_begin, row_end,
				  tok_begin, tok_end, out, out_stride);
		return 0;
	}
	/* sums once per token, not once per row tile: a batch at a time */
	for (n = tok_begin; n < tok_end; n += cnt) {
		cnt = tok_end - n < BNC_SUM_BATCH ? tok_end - n : BNC_SUM_BATCH;
		xs.n = cnt;
		xs.k = x->k;
		xs.q = x->q + (size_t)n * x->k;
		xs.sigma = x->sigma + n;
		xs.sum = sums;
		for (i = 0; i < cnt; i++)
			sums[i] = bnc_token_sum(xs.q + (size_t)i * x->k, x->k);
		bnc_epilogue_tile(w, &xs, bnc_kernel_for(isa, w->layout), row_begin, row_end, 0, cnt,
				  out + (size_t)n * out_stride, out_stride);
	}
	return 0;
}
