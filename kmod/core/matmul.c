// SPDX-License-Identifier: GPL-2.0
/*
 * Integer matmul entry point: argument checks, ISA dispatch and the scalar
 * reference kernel, which is written for obviousness, not speed: it reads
 * each weight back from the execution layout and multiplies by t itself,
 * so it does not share the code-offset trick with the SIMD paths.
 */
#include "bnc_internal.h"

u32 bnc_isa_supported(void)
{
	u32 isa = 1u << BNC_ISA_SCALAR;

	if (bnc_has_avx2())
		isa |= 1u << BNC_ISA_AVX2;
	if (bnc_has_avx512_vnni())
		isa |= 1u << BNC_ISA_AVX512_VNNI;
	return isa;
}

enum bnc_isa bnc_isa_best(void)
{
	u32 isa = bnc_isa_supported();

	if (isa & (1u << BNC_ISA_AVX512_VNNI))
		return BNC_ISA_AVX512_VNNI;
	if (isa & (1u << BNC_ISA_AVX2))
		return BNC_ISA_AVX2;
	return BNC_ISA_SCALAR;
}

const char *bnc_isa_name(enum bnc_isa isa)
{
	switch (isa) {
	case BNC_ISA_SCALAR:
		return "scalar";
	case BNC_ISA_AVX2:
		return "avx2";
	case BNC_ISA_AVX512_VNNI:
		return "avx512vnni";
	default:
		return "unknown";
	}
}

bnc_kernel_fn bnc_kernel_for(enum bnc_isa isa, u32 layout)
{
	int t5 = layout == BNC_LAYOUT_T5;

	/* LUT3 has no multiply kernel: the reference (AVX-512 uses tables) */
	if (layout == BNC_LAYOUT_LUT3)
		return bnc_kernel_scalar;
	switch (isa) {
	case BNC_ISA_SCALAR:
		return bnc_kernel_scalar;
	case BNC_ISA_AVX2:
		return t5 ? bnc_kernel_t5_avx2 : bnc_kernel_avx2;
	case BNC_ISA_AVX512_VNNI:
		return t5 ? bnc_kernel_t5_avx512 : bnc_kernel_avx512;
	default:
		return NULL;
	}
}

int bnc_matmul_check(enum bnc_isa isa, const struct bnc_matrix *w,
		     const struct bnc_act *x, u32 row_begin, u32 row_end,
		     u32 tok_begin, u32 tok_end, const void *out, size_t out_stride)
{
	if ((unsigned int)isa >= BNC_ISA_COUNT || !(bnc_isa_supported() & (1u << isa)))
		return -EINVAL;
	if (!w || !x || !out || !w->data || !x->q)
		return -EINVAL;
	if ((unsigned long)w->data % BNC_BUF_ALIGN || (unsigned long)out % sizeof(s32))
		return -EINVAL;
	if (!bnc_layout_size(w->layout, w->rows, w->cols))
		return -EINVAL;
	if (x->k != w->cols || x->n < 1)
		return -EINVAL;
	if (row_begin >= row_end || row_end > w->rows || row_begin % BNC_BLOCK_ROWS)
		return -EINVAL;
	if (row_end % BNC_BLOCK_ROWS && row_end != w->rows)
		return -EINVAL;
	if (tok_begin >= tok_end || tok_end > x->n)
		return -EINVAL;
	/* every output written must stay inside its token's row of @out */
	if (out_stride < w->rows)
		return -EINVAL;
	return 0;
}

void bnc_kernel_scalar(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		       u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	u32 cols = w->cols, n, m, k;

	(void)sum;
	for (n = 0; n < ntok; n++) {
		const s8 *qn = q + (size_t)n * cols;

		for (m = row_begin; m < row_end; m++) {
			s32 acc = 0;

			for (k = 0; k < cols; k++) {
				int t = bnc_exec_code(w, m, k) - 1;

				acc += t * qn[k];
			}
			out[n * out_stride + (m - row_begin)] = acc;
		}
	}
}

/*
 * Runs @fn over the tokens, giving it the token sums: the caller's, or
 * computed here a bounded batch at a time.
 */
void bnc_run_kernel(bnc_kernel_fn fn, const struct bnc_matrix *w,
		    const struct bnc_act *x, u32 row_begin, u32 row_end,
		    u32 tok_begin, u32 tok_end, s32 *out, size_t out_stride)
{
	s32 sums[BNC_SUM_BATCH];
	u32 n, i, cnt;

	if (x->sum) {
		fn(w, x->q + (size_t)tok_begin * x->k, x->sum + tok_begin,
		   tok_end - tok_begin, row_begin, row_end, out, out_stride);
		return;
	}
	for (n = tok_begin; n < tok_end; n += cnt) {
		const s8 *q = x->q + (size_t)n * x->k;

		cnt = tok_end - n < BNC_SUM_BATCH ? tok_end - n : BNC_SUM_BATCH;
		for (i = 0; i < cnt; i++)
			sums[i] = bnc_token_sum(q + (size_t)i * x->k, x->k);
		fn(w, q, sums, cnt, row_begin, row_end,
		   out + (size_t)(n - tok_begin) * out_stride, out_stride);
	}
}

int bnc_matmul_i32(enum bnc_isa isa, const struct bnc_matrix *w,
		   const struct bnc_act *x, u32 row_begin, u32 row_end,
		   u32 tok_begin, u32 tok_end, s32 *out, size_t out_stride)
{
	int ret = bnc_matmul_check(isa, w, x, row_begin, row_end, tok_begin, tok_end,
				   out, out_stride);

	if (ret)
		return ret;
	if (bnc_lut3_uses_tables(isa, w))
		return bnc_lut3_i32(w, x, row_begin, row_end, tok_begin, tok_end,
				    out + (size_t)tok_begin * out_stride + row_begin, out_stride);
	bnc_run_kernel(bnc_kernel_for(isa, w->layout), w, x, row_begin, row_end, tok_begin, tok_end,
		       out + (size_t)tok_begin * out_stride + row_begin, out_stride);
	return 0;
}
