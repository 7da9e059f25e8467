// SPDX-License-Identifier: GPL-2.0
/*
 * AVX2 kernel on the T5 layout (bnc_internal.h), kept simple: each half of
 * a chunk (8 rows) is decoded plane by plane to codes c in {0, 1, 2}
 * (c = top two bits of avg(m', avg(m', 0)), m' = m_p - 1 saturated, as the
 * AVX-512 kernel's batch path) and used for up to 4 tokens. vpmaddubsw pairs
 * are at most 2 * 2 * 128 = 512 in magnitude; 6 chunks of 5 planes sum to at
 * most 15360 in int16 before vpmaddwd widens them: exact. Integer SIMD only.
 */
#include "bnc_internal.h"
#include <immintrin.h>

#define BNC_T5_AVX2_TOKENS	4
#define BNC_T5_AVX2_GROUP	6	/* chunks summed in int16 */

static __always_inline __m256i bnc_bcast(const s8 *p)
{
	return _mm256_set1_epi32(bnc_load4(p));
}

static __always_inline __m256i bnc_code(__m256i m)
{
	const __m256i m1 = _mm256_subs_epu8(m, _mm256_set1_epi8(1));
	const __m256i h = _mm256_avg_epu8(m1, _mm256_setzero_si256());

	return _mm256_and_si256(_mm256_srli_epi16(_mm256_avg_epu8(m1, h), 6),
				_mm256_set1_epi8(3));
}

static __always_inline __m256i bnc_widen(__m256i acc, __m256i s16)
{
	return _mm256_add_epi32(acc, _mm256_madd_epi16(s16, _mm256_set1_epi16(1)));
}

/* Rows 8h..8h+7 of a block for @T tokens. */
static __always_inline void bnc_t5_half(const u8 *wb, const s8 *q, u32 cols, int h,
					const s32 *sum, const int T, s32 *out,
					size_t out_stride, u32 valid)
{
	const u32 nch = cols / BNC_T5_COLS, full = nch * BNC_T5_COLS;
	__m256i acc[BNC_T5_AVX2_TOKENS], s16[BNC_T5_AVX2_TOKENS];
	s32 tmp[8];
	u32 j, r;
	int t, p;

#pragma GCC unroll 4
	for (t = 0; t < T; t++)
		acc[t] = s16[t] = _mm256_setzero_si256();
	for (j = 0; j < nch; j++) {
		__m256i m = _mm256_load_si256((const __m256i *)(wb + (size_t)j * BNC_CHUNK_BYTES +
								32 * h));

#pragma GCC unroll 5
		for (p = 0; p < BNC_T5_PLANES; p++) {
			const __m256i c = bnc_code(m);

#pragma GCC unroll 4
			for (t = 0; t < T; t++)
				s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(c,
					bnc_bcast(q + (size_t)t * cols + j * BNC_T5_COLS + 4 * p)));
			m = _mm256_add_epi8(_mm256_add_epi8(m, m), m);
		}
		if (j % BNC_T5_AVX2_GROUP == BNC_T5_AVX2_GROUP - 1) {
#pragma GCC unroll 4
			for (t = 0; t < T; t++) {
				acc[t] = bnc_widen(acc[t], s16[t]);
				s16[t] = _mm256_setzero_si256();
			}
		}
	}
	if (full < cols) {
		const __m256i v = _mm256_load_si256((const __m256i *)(wb + nch * BNC_CHUNK_BYTES +
								32 * h));

		for (p = 0; p < (int)(cols - full) / 4; p++) {
			const __m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 * p),
							   _mm256_set1_epi8(3));

#pragma GCC unroll 4
			for (t = 0; t < T; t++)
				s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(c,
					bnc_bcast(q + (size_t)t * cols + full + 4 * p)));
		}
	}
	for (t = 0; t < T; t++) {
		__m256i res = _mm256_sub_epi32(bnc_widen(acc[t], s16[t]),
					       _mm256_set1_epi32(sum[t]));

		_mm256_storeu_si256((__m256i *)tmp, res);
		for (r = 0; r < valid && r < 8; r++)
			out[t * out_stride + r] = tmp[r];
	}
}

void bnc_kernel_t5_avx2(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
			u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	const u32 cols = w->cols;
	const size_t bb = bnc_t5_block_bytes(cols);
	u32 m, n, valid;
	int h;

	for (m = row_begin; m < row_end; m += BNC_BLOCK_ROWS) {
		const u8 *wb = w->data + (size_t)(m / BNC_BLOCK_ROWS) * bb;

		valid = row_end - m < BNC_BLOCK_ROWS ? row_end - m : BNC_BLOCK_ROWS;
		for (h = 0; h < 2 && valid > 8u * h; h++) {
			u32 hv = valid - 8 * h;
			s32 *o = out + (m - row_begin) + 8 * h;

			for (n = 0; n + 4 <= ntok; n += 4)
				bnc_t5_half(wb, q + (size_t)n * cols, cols, h, sum + n, 4,
					    o + n * out_stride, out_stride, hv);
			if (ntok - n >= 2) {
				bnc_t5_half(wb, q + (size_t)n * cols, cols, h, sum + n, 2,
					    o + n * out_stride, out_stride, hv);
				n += 2;
			}
			if (n < ntok)
				bnc_t5_half(wb, q + (size_t)n * cols, cols, h, sum + n, 1,
					    o + n * out_stride, out_stride, hv);
		}
	}
}
