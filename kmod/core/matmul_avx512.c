// SPDX-License-Identifier: GPL-2.0
/*
 * AVX-512 VNNI kernel. One 64-byte chunk of the R16 layout holds 16 rows x
 * 16 columns; (chunk >> 2s) & 3 gives 16 dwords of unsigned codes, and
 * vpdpbusd against 4 broadcast activation bytes adds c * q for 4 columns
 * into each row's int32 lane: no int16 step, so no saturation anywhere.
 * Integer SIMD only; the kernel build runs it inside kernel_fpu_begin().
 */
#include "bnc_internal.h"
#include <immintrin.h>

/*
 * Decode streams weights from DRAM: prefetching both cache lines of each
 * step this far ahead measured ~20% faster than prefetching every other
 * line 2 KiB ahead (which was ~10% faster than the hardware prefetcher
 * alone), at 1 and 2 threads on the 2B-4T shapes.
 */
#define BNC_GEMV_PREFETCH	4096

static __always_inline __m512i bnc_bcast(const s8 *p)
{
	return _mm512_set1_epi32(bnc_load4(p));
}

static __always_inline __m512i bnc_codes(__m512i v, int s)
{
	return _mm512_and_si512(_mm512_srli_epi16(v, 2 * s), _mm512_set1_epi8(3));
}

/*
 * Decode: one token, memory-bound, so the fewest instructions per byte:
 * the codes of shift s are masked in place (c << 2s, at most 128, still a
 * valid unsigned byte) without shifting, each shift gets its own
 * accumulators, and the sums are shifted back once at the end: exact, as
 * accumulator s only holds multiples of 4^s. Magnitudes stay below
 * 64 * 256 * K / 4 <= 2^30 for K <= BNC_MAX_COLS.
 */
static __m512i bnc_gemv_block(const u8 *wb, const s8 *q, u32 cols)
{
	const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c);
	const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8((char)0xc0);
	__m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
	__m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
	u32 j;

	for (j = 0; j < cols / BNC_CHUNK_COLS; j += 2) {
		const __m512i v = _mm512_load_si512(wb + (size_t)j * BNC_CHUNK_BYTES);
		const __m512i u = _mm512_load_si512(wb + (size_t)(j + 1) * BNC_CHUNK_BYTES);
		const s8 *qj = q + j * BNC_CHUNK_COLS;
		const u8 *pf = wb + (size_t)j * BNC_CHUNK_BYTES + BNC_GEMV_PREFETCH;

		/* past the block's end too: the next block follows in memory */
		__builtin_prefetch(pf, 0, 3);
		__builtin_prefetch(pf + BNC_CHUNK_BYTES, 0, 3);
		a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(v, m0), bnc_bcast(qj));
		a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(v, m1), bnc_bcast(qj + 4));
		a2 = _mm512_dpbusd_epi32(a2, _mm512_and_si512(v, m2), bnc_bcast(qj + 8));
		a3 = _mm512_dpbusd_epi32(a3, _mm512_and_si512(v, m3), bnc_bcast(qj + 12));
		b0 = _mm512_dpbusd_epi32(b0, _mm512_and_si512(u, m0), bnc_bcast(qj + 16));
		b1 = _mm512_dpbusd_epi32(b1, _mm512_and_si512(u, m1), bnc_bcast(qj + 20));
		b2 = _mm512_dpbusd_epi32(b2, _mm512_and_si512(u, m2), bnc_bcast(qj + 24));
		b3 = _mm512_dpbusd_epi32(b3, _mm512_and_si512(u, m3), bnc_bcast(qj + 28));
	}
	a0 = _mm512_add_epi32(a0, b0);
	a1 = _mm512_srai_epi32(_mm512_add_epi32(a1, b1), 2);
	a2 = _mm512_srai_epi32(_mm512_add_epi32(a2, b2), 4);
	a3 = _mm512_srai_epi32(_mm512_add_epi32(a3, b3), 6);
	return _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
}

/* @T tokens at once: each chunk is decoded once and used T times. */
static __always_inline void bnc_gemm_block(const u8 *wb, const s8 *q, u32 cols,
					   const s32 *sum, const int T, s32 *out,
					   size_t out_stride, __mmask16 mask)
{
	__m512i acc[BNC_TOK_BLOCK];
	u32 j;
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[t] = _mm512_setzero_si512();
	for (j = 0; j < cols / BNC_CHUNK_COLS; j++) {
		const __m512i v = _mm512_load_si512(wb + (size_t)j * BNC_CHUNK_BYTES);
		const __m512i c0 = bnc_codes(v, 0), c1 = bnc_codes(v, 1);
		const __m512i c2 = bnc_codes(v, 2), c3 = bnc_codes(v, 3);

#pragma GCC unroll 16
		for (t = 0; t < T; t++) {
			const s8 *qt = q + (size_t)t * cols + j * BNC_CHUNK_COLS;
			__m512i a = acc[t];

			a = _mm512_dpbusd_epi32(a, c0, bnc_bcast(qt));
			a = _mm512_dpbusd_epi32(a, c1, bnc_bcast(qt + 4));
			a = _mm512_dpbusd_epi32(a, c2, bnc_bcast(qt + 8));
			acc[t] = _mm512_dpbusd_epi32(a, c3, bnc_bcast(qt + 12));
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		_mm512_mask_storeu_epi32(out + t * out_stride, mask,
					 _mm512_sub_epi32(acc[t], _mm512_set1_epi32(sum[t])));
}

void bnc_kernel_avx512(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		       u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	const u32 cols = w->cols;
	u32 m, n;

	for (m = row_begin; m < row_end; m += BNC_BLOCK_ROWS) {
		const u8 *wb = w->data + (size_t)(m / BNC_BLOCK_ROWS) * bnc_block_bytes(cols);
		u32 valid = row_end - m < BNC_BLOCK_ROWS ? row_end - m : BNC_BLOCK_ROWS;
		__mmask16 mask = (__mmask16)((1u << valid) - 1);
		s32 *o = out + (m - row_begin);

		for (n = 0; n + 16 <= ntok; n += 16)
			bnc_gemm_block(wb, q + (size_t)n * cols, cols, sum + n, 16,
				       o + n * out_stride, out_stride, mask);
		if (ntok - n >= 8) {
			bnc_gemm_block(wb, q + (size_t)n * cols, cols, sum + n, 8,
				       o + n * out_stride, out_stride, mask);
			n += 8;
		}
		if (ntok - n >= 4) {
			bnc_gemm_block(wb, q + (size_t)n * cols, cols, sum + n, 4,
				       o + n * out_stride, out_stride, mask);
			n += 4;
		}
		if (ntok - n >= 2) {
			bnc_gemm_block(wb, q + (size_t)n * cols, cols, sum + n, 2,
				       o + n * out_stride, out_stride, mask);
			n += 2;
		}
		if (ntok - n == 1) {
			__m512i acc = bnc_gemv_block(wb, q + (size_t)n * cols, cols);

			_mm512_mask_storeu_epi32(o + n * out_stride, mask,
						 _mm512_sub_epi32(acc, _mm512_set1_epi32(sum[n])));
		}
	}
}
