// SPDX-License-Identifier: GPL-2.0
/*
 * AVX2 kernel on the same R16 layout: a 64-byte chunk is two halves of 8
 * rows. vpmaddubsw multiplies unsigned codes c in {0, 1, 2} by signed
 * activations: a pair sums to at most 2 * 2 * 128 = 512 in magnitude, so it
 * never saturates (activations all -128 or +127 included). Four shifts of 8
 * chunks (128 columns) add up to [-16384, 16256] in int16 before vpmaddwd
 * widens them: exact. Integer SIMD only.
 */
#include "bnc_internal.h"
#include <immintrin.h>

#define BNC_AVX2_TOKENS		4
#define BNC_AVX2_GROUP		8	/* chunks summed in int16 */

static __always_inline __m256i bnc_bcast(const s8 *p)
{
	return _mm256_set1_epi32(bnc_load4(p));
}

static __always_inline __m256i bnc_codes(__m256i v, int s)
{
	return _mm256_and_si256(_mm256_srli_epi16(v, 2 * s), _mm256_set1_epi8(3));
}

static void bnc_avx2_store(__m256i res, s32 sum, s32 *out, u32 valid)
{
	s32 tmp[8];
	u32 r;

	res = _mm256_sub_epi32(res, _mm256_set1_epi32(sum));
	if (valid >= 8) {
		_mm256_storeu_si256((__m256i *)out, res);
		return;
	}
	_mm256_storeu_si256((__m256i *)tmp, res);
	for (r = 0; r < valid; r++)
		out[r] = tmp[r];
}

/* Rows 8h..8h+7 of a block for @T tokens. */
static __always_inline void bnc_half_block(const u8 *wb, const s8 *q, u32 cols, int h,
					   const s32 *sum, const int T, s32 *out,
					   size_t out_stride, u32 valid)
{
	__m256i acc[BNC_AVX2_TOKENS], s16[BNC_AVX2_TOKENS];
	u32 j0, j;
	int t;

#pragma GCC unroll 4
	for (t = 0; t < T; t++)
		acc[t] = _mm256_setzero_si256();
	for (j0 = 0; j0 < cols / BNC_CHUNK_COLS; j0 += BNC_AVX2_GROUP) {
#pragma GCC unroll 4
		for (t = 0; t < T; t++)
			s16[t] = _mm256_setzero_si256();
		for (j = j0; j < j0 + BNC_AVX2_GROUP; j++) {
			const __m256i v = _mm256_load_si256((const __m256i *)
				(wb + (size_t)j * BNC_CHUNK_BYTES + 32 * h));
			const __m256i c0 = bnc_codes(v, 0), c1 = bnc_codes(v, 1);
			const __m256i c2 = bnc_codes(v, 2), c3 = bnc_codes(v, 3);

#pragma GCC unroll 4
			for (t = 0; t < T; t++) {
				const s8 *qt = q + (size_t)t * cols + j * BNC_CHUNK_COLS;
				__m256i p01, p23;

				p01 = _mm256_add_epi16(_mm256_maddubs_epi16(c0, bnc_bcast(qt)),
						       _mm256_maddubs_epi16(c1, bnc_bcast(qt + 4)));
				p23 = _mm256_add_epi16(_mm256_maddubs_epi16(c2, bnc_bcast(qt + 8)),
						       _mm256_maddubs_epi16(c3, bnc_bcast(qt + 12)));
				s16[t] = _mm256_add_epi16(s16[t], _mm256_add_epi16(p01, p23));
			}
		}
#pragma GCC unroll 4
		for (t = 0; t < T; t++)
			acc[t] = _mm256_add_epi32(acc[t],
						  _mm256_madd_epi16(s16[t], _mm256_set1_epi16(1)));
	}
#pragma GCC unroll 4
	for (t = 0; t < T; t++)
		bnc_avx2_store(acc[t], sum[t], out + t * out_stride, valid);
}

/*
 * Decode streams weights from DRAM: prefetch ahead (into the next blocks,
 * which follow in memory) and read each chunk once, both halves together,
 * with @S neighbouring blocks at once: one core reads DRAM faster from
 * several streams than from one. Registers: 4 int16 and 4 int32 sums for
 * two blocks, 4 broadcasts, codes.
 */
#define BNC_AVX2_PREFETCH	4096

static __always_inline void bnc_avx2_gemv_blocks(const u8 *wb, size_t block_bytes,
						 const s8 *q, u32 cols, const int S,
						 __m256i *acc)
{
	__m256i s16[4];
	u32 j0, j;
	int i, h, s;

#pragma GCC unroll 4
	for (i = 0; i < 2 * S; i++)
		acc[i] = _mm256_setzero_si256();
	for (j0 = 0; j0 < cols / BNC_CHUNK_COLS; j0 += BNC_AVX2_GROUP) {
#pragma GCC unroll 4
		for (i = 0; i < 2 * S; i++)
			s16[i] = _mm256_setzero_si256();
		for (j = j0; j < j0 + BNC_AVX2_GROUP; j++) {
			const s8 *qj = q + j * BNC_CHUNK_COLS;
			const __m256i q0 = bnc_bcast(qj), q1 = bnc_bcast(qj + 4);
			const __m256i q2 = bnc_bcast(qj + 8), q3 = bnc_bcast(qj + 12);

#pragma GCC unroll 2
			for (s = 0; s < S; s++) {
				const u8 *p = wb + s * block_bytes + (size_t)j * BNC_CHUNK_BYTES;

				__builtin_prefetch(p + BNC_AVX2_PREFETCH, 0, 3);
#pragma GCC unroll 2
				for (h = 0; h < 2; h++) {
					const __m256i v = _mm256_load_si256((const __m256i *)
									    (p + 32 * h));
					__m256i p01, p23;

					p01 = _mm256_add_epi16(
						_mm256_maddubs_epi16(bnc_codes(v, 0), q0),
						_mm256_maddubs_epi16(bnc_codes(v, 1), q1));
					p23 = _mm256_add_epi16(
						_mm256_maddubs_epi16(bnc_codes(v, 2), q2),
						_mm256_maddubs_epi16(bnc_codes(v, 3), q3));
					s16[2 * s + h] = _mm256_add_epi16(s16[2 * s + h],
									  _mm256_add_epi16(p01, p23));
				}
			}
		}
#pragma GCC unroll 4
		for (i = 0; i < 2 * S; i++)
			acc[i] = _mm256_add_epi32(acc[i],
						  _mm256_madd_epi16(s16[i], _mm256_set1_epi16(1)));
	}
}

/* One token over rows [row_begin, row_end), two blocks at a time. */
static void bnc_avx2_gemv(const struct bnc_matrix *w, const s8 *q, s32 sum, u32 row_begin,
			  u32 row_end, s32 *out)
{
	const size_t bb = bnc_block_bytes(w->cols);
	__m256i acc[4];
	u32 m, r, valid;
	int n, i;

	for (m = row_begin; m < row_end; m += n * BNC_BLOCK_ROWS) {
		const u8 *wb = w->data + (size_t)(m / BNC_BLOCK_ROWS) * bb;

		n = bnc_row_blocks(row_end - m) >= 2 ? 2 : 1;
		if (n == 2)
			bnc_avx2_gemv_blocks(wb, bb, q, w->cols, 2, acc);
		else
			bnc_avx2_gemv_blocks(wb, bb, q, w->cols, 1, acc);
		for (i = 0; i < 2 * n; i++) {
			r = m + 8 * i;
			if (r >= row_end)
				break;
			valid = row_end - r < 8 ? row_end - r : 8;
			bnc_avx2_store(acc[i], sum, out + (r - row_begin), valid);
		}
	}
}

static void bnc_avx2_block(const u8 *wb, const s8 *q, u32 cols, const s32 *sum,
			   u32 ntok, s32 *out, size_t out_stride, u32 valid)
{
	u32 n;
	int h;

	for (h = 0; h < 2 && valid > 8u * h; h++) {
		u32 hv = valid - 8 * h;
		s32 *o = out + 8 * h;

		for (n = 0; n + 4 <= ntok; n += 4)
			bnc_half_block(wb, q + (size_t)n * cols, cols, h, sum + n, 4,
				       o + n * out_stride, out_stride, hv);
		if (ntok - n >= 2)
			bnc_half_block(wb, q + (size_t)n * cols, cols, h, sum + n, 2,
				       o + n * out_stride, out_stride, hv);
	}
}

void bnc_kernel_avx2(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		     u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	const u32 cols = w->cols;
	u32 m;

	/* tokens in fours and twos block by block; an odd last one streams */
	for (m = row_begin; ntok >= 2 && m < row_end; m += BNC_BLOCK_ROWS) {
		u32 valid = row_end - m < BNC_BLOCK_ROWS ? row_end - m : BNC_BLOCK_ROWS;

		bnc_avx2_block(w->data + (size_t)(m / BNC_BLOCK_ROWS) * bnc_block_bytes(cols),
			       q, cols, sum, ntok, out + (m - row_begin), out_stride, valid);
	}
	if (ntok % 2)
		bnc_avx2_gemv(w, q + (size_t)(ntok - 1) * cols, sum[ntok - 1], row_begin, row_end,
			      out + (ntok - 1) * out_stride);
}
