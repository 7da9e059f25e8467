// SPDX-License-Identifier: GPL-2.0
/*
 * LUT3 tables (bitnet_core.h) and the LUT3 entry of the matmuls: argument
 * checks, the scalar table build (the definition the SIMD one is tested
 * against) and dispatch to the AVX-512 kernel.
 */
#include "bnc_internal.h"

u32 bnc_lut3_triples(u32 cols)
{
	return 3 * bnc_lut3_chunks(cols);
}

size_t bnc_lut3_table_bytes(u32 n, u32 cols)
{
	if (n < 1 || bnc_check_shape(1, cols))
		return 0;
	return (size_t)bnc_lut3_triples(cols) * n * BNC_LUT3_LANES * sizeof(s16);
}

/* Token @t's table of triple @g by the definition; columns past K are 0. */
static void bnc_lut3_table_scalar(const struct bnc_act *x, u32 g, u32 t, s16 *tab)
{
	s32 v[3];
	u32 d, p;

	for (d = 0; d < 3; d++)
		v[d] = 3 * g + d < x->k ? x->q[(size_t)t * x->k + 3 * g + d] : 0;
	for (p = 0; p < BNC_LUT3_LANES; p++)
		tab[p] = p < 27 ? (p % 3 - 1) * v[0] + (p / 3 % 3 - 1) * v[1] +
					  ((s32)p / 9 - 1) * v[2] : 0;
}

int bnc_lut3_build(enum bnc_isa isa, const struct bnc_act *x, u32 g_begin, u32 g_end, s16 *lut)
{
	u32 g, t;

	if (!x || !x->q || !lut || (unsigned long)lut % BNC_BUF_ALIGN ||
	    !bnc_lut3_table_bytes(x->n, x->k) || g_begin > g_end ||
	    g_end > bnc_lut3_triples(x->k))
		return -EINVAL;
	if (isa == BNC_ISA_AVX512_VNNI && (bnc_isa_supported() & (1u << isa))) {
		bnc_lut3_build_avx512(x, g_begin, g_end, lut);
		return 0;
	}
	for (g = g_begin; g < g_end; g++)
		for (t = 0; t < x->n; t++)
			bnc_lut3_table_scalar(x, g, t,
					      lut + ((size_t)g * x->n + t) * BNC_LUT3_LANES);
	return 0;
}

int bnc_lut3_uses_tables(enum bnc_isa isa, const struct bnc_matrix *w)
{
	return w->layout == BNC_LAYOUT_LUT3 && isa == BNC_ISA_AVX512_VNNI;
}

int bnc_lut3_i32(const struct bnc_matrix *w, const struct bnc_act *x, u32 row_begin,
		 u32 row_end, u32 tok_begin, u32 tok_end, s32 *out, size_t out_stride)
{
	if (!x->lut || (unsigned long)x->lut % BNC_BUF_ALIGN)
		return -EINVAL;
	bnc_kernel_lut3_avx512(w, x->lut + (size_t)tok_begin * BNC_LUT3_LANES, x->n,
			       tok_end - tok_begin, row_begin, row_end, out, out_stride);
	return 0;
}
