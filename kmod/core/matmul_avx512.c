// SPDX-License-Identifier: GPL-2.0
/*
 * AVX-512 VNNI kernel. One 64-byte chunk of the R16 layout holds 16 rows x
 * 16 columns; (chunk >> 2s) & 3 gives 16 dwords of unsigned codes, and
 * vpdpbusd against 4 broadcast activation bytes adds c * q for 4 columns
 * into each row's int32 lane: no int16 step, so no saturation anywhere.
 * Integer SIMD only; the kernel build runs it inside kernel_fpu_begin().
 */
#include "matmul_avx512_walk.h"

/*
 * Decode streams weights from DRAM: prefetching both cache lines of each
 * step this far ahead measured ~20% faster than prefetching every other
 * line 2 KiB ahead (which was ~10% faster than the hardware prefetcher
 * alone), at 1 and 2 threads on the 2B-4T shapes. Into L2 (prefetcht1):
 * into L1 the lines 4 KiB ahead of 4 streams evict the ones in use (1 and 2
 * tokens 8-10% faster on the EPYC here, 4 and 8 the same).
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
 * Decode, and batches of fewer than 8 tokens: memory-bound, so the fewest
 * instructions per byte, and S neighbouring blocks at once: one core reads
 * DRAM faster from several streams than from one (more misses in flight;
 * 4 measured best, ~20% over 1), and the activation broadcasts of a chunk
 * serve every stream. Two accumulators per stream and token, so no chain of
 * dependent vpdpbusd is longer than two per chunk: v & 0x03 and
 * (v >> 2) & 0x03 are the codes of shifts 0 and 1, v & 0x30 and
 * (v >> 2) & 0x30 those of shifts 2 and 3 times 16, summed apart and scaled
 * back once at the end (exact: magnitudes stay below 16 * 256 * K / 2 <=
 * 2^30 for K <= BNC_MAX_COLS). S * T <= 8: the 2 * S * T accumulators stay
 * in registers, and no chain of dependent vpdpbusd waits on its latency
 * (4 streams of 2 tokens measured ~10% faster than 2; 2 streams of 4
 * slower than 1: spills).
 */
static __always_inline void bnc_small_blocks(const u8 *wb, size_t block_bytes, const s8 *q,
					     u32 cols, const int S, const int T, __m512i *res)
{
	const __m512i lo = _mm512_set1_epi8(0x03), hi = _mm512_set1_epi8(0x30);
	__m512i a[BNC_SMALL_ACC], b[BNC_SMALL_ACC];
	u32 j;
	int s, t;

#pragma GCC unroll 8
	for (s = 0; s < S * T; s++)
		a[s] = b[s] = _mm512_setzero_si512();
	for (j = 0; j < cols / BNC_CHUNK_COLS; j++) {
#pragma GCC unroll 4
		for (s = 0; s < S; s++) {
			const u8 *p = wb + s * block_bytes + (size_t)j * BNC_CHUNK_BYTES;
			const __m512i v = _mm512_load_si512(p);
			const __m512i v2 = _mm512_srli_epi16(v, 2);
			const __m512i c0 = _mm512_and_si512(v, lo), c1 = _mm512_and_si512(v2, lo);
			const __m512i c2 = _mm512_and_si512(v, hi), c3 = _mm512_and_si512(v2, hi);

			/* past the block's end too: the next block follows in memory */
			__builtin_prefetch(p + BNC_GEMV_PREFETCH, 0, 2);
#pragma GCC unroll 8
			for (t = 0; t < T; t++) {
				const s8 *qt = q + (size_t)t * cols + j * BNC_CHUNK_COLS;
				__m512i *at = &a[s * T + t], *bt = &b[s * T + t];

				*at = _mm512_dpbusd_epi32(*at, c0, bnc_bcast(qt));
				*at = _mm512_dpbusd_epi32(*at, c1, bnc_bcast(qt + 4));
				*bt = _mm512_dpbusd_epi32(*bt, c2, bnc_bcast(qt + 8));
				*bt = _mm512_dpbusd_epi32(*bt, c3, bnc_bcast(qt + 12));
			}
		}
	}
#pragma GCC unroll 8
	for (s = 0; s < S * T; s++)
		res[s] = _mm512_add_epi32(a[s], _mm512_srai_epi32(b[s], 4));
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

/*
 * 8 tokens of one block as the small batches do them: prefetched, and two
 * accumulators per token, so 4 dependent vpdpbusd per chunk (one
 * accumulator, as bnc_gemm_block) do not bound it by latency: ~17% faster
 * than bnc_gemm_block for 8 tokens; 16 tokens have enough chains already.
 */
static void bnc_gemm8(const u8 *wb, const s8 *q, u32 cols, const s32 *sum, s32 *out,
		      size_t out_stride, __mmask16 mask)
{
	__m512i res[8];
	int t;

	bnc_small_blocks(wb, 0, q, cols, 1, 8, res);
#pragma GCC unroll 8
	for (t = 0; t < 8; t++)
		_mm512_mask_storeu_epi32(out + t * out_stride, mask,
					 _mm512_sub_epi32(res[t], _mm512_set1_epi32(sum[t])));
}

/* 16 tokens of one block in one pass, 8 with two accumulators each. */
static __always_inline void bnc_gemm_tokens(const u8 *wb, const s8 *q, u32 cols, const s32 *sum,
					    const int T, s32 *out, size_t out_stride,
					    __mmask16 mask)
{
	if (T == 8)
		bnc_gemm8(wb, q, cols, sum, out, out_stride, mask);
	else
		bnc_gemm_block(wb, q, cols, sum, T, out, out_stride, mask);
}

void bnc_kernel_avx512(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
		       u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	bnc_walk_kernel(bnc_gemm_tokens, bnc_small_blocks, bnc_block_bytes(w->cols), w, q, sum,
			ntok, row_begin, row_end, out, out_stride);
}
