// SPDX-License-Identifier: GPL-2.0
/*
 * AVX-512 VNNI kernel on the T5 layout (bnc_internal.h). Plane p of a chunk
 * is c_p = (3 * m_p) >> 8 of the bytes m_p = q * 3^p mod 256, and
 * m_{p+1} = 3 * m_p mod 256 (two byte adds). Since 3 * m_p = 256 * c_p +
 * m_{p+1}, sum c_p * x = (3 * sum m_p * x - sum m_{p+1} * x) / 256: decode
 * (1 and 2 tokens: memory-bound) feeds the bytes m_p themselves to
 * vpdpbusd, two per plane and token, with no decode beyond the adds.
 * vpdpbusd wraps, and the result is exact modulo 2^32: the true sum times
 * 256 lies in [-2^31, 2^31) for K <= BNC_T5_MAX_COLS, so an arithmetic
 * shift of the wrapped value gives it back. Batches (compute-bound) decode
 * each plane once, as 64 * c_p, the top two bits of avg(m', avg(m', 0)) for
 * m' = m_p - 1 saturated (exact for all 256 bytes: tests check it), and use
 * it for every token. Integer SIMD only; the kernel build runs it inside
 * kernel_fpu_begin().
 */
#include "matmul_avx512_walk.h"

/* As the R16 kernel: both lines of each step this far ahead, into L2. */
#define BNC_T5_PREFETCH		4096

static __always_inline __m512i bnc_bcast(const s8 *p)
{
	return _mm512_set1_epi32(bnc_load4(p));
}

static __always_inline __m512i bnc_times3(__m512i m)
{
	return _mm512_add_epi8(_mm512_add_epi8(m, m), m);
}

/* 64 * c of byte m: in {0, 64, 128}, an unsigned vpdpbusd operand. */
static __always_inline __m512i bnc_code64(__m512i m)
{
	const __m512i m1 = _mm512_subs_epu8(m, _mm512_set1_epi8(1));
	const __m512i h = _mm512_avg_epu8(m1, _mm512_setzero_si512());

	return _mm512_and_si512(_mm512_avg_epu8(m1, h), _mm512_set1_epi8((char)0xc0));
}

/*
 * The R16 remainder chunk at @p: its first @planes planes against the
 * activations at @q, each code times 2^@scale (0 or 6).
 */
static __always_inline __m512i bnc_t5_rem(__m512i acc, const u8 *p, const s8 *q, int planes,
					  const int scale)
{
	const __m512i v = _mm512_load_si512(p);
	const __m512i mask = _mm512_set1_epi8((char)(3 << scale));
	int s;

	for (s = 0; s < planes; s++) {
		__m512i c = scale > 2 * s ? _mm512_slli_epi16(v, scale - 2 * s) :
					    _mm512_srli_epi16(v, 2 * s - scale);

		acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(c, mask), bnc_bcast(q + 4 * s));
	}
	return acc;
}

/*
 * @S neighbouring blocks for @T tokens at once (S * T <= 8), as the R16
 * decode kernel does: several DRAM streams, each broadcast used by every
 * stream. 1 and 2 tokens: a sums m_p * x, b sums m_{p+1} * x (no decode).
 * 4 tokens: each plane decoded once, a sums 64 * c_p * x. Measured in cache
 * (256 x 2560, one thread, ns per chunk): 2 tokens 5.5 this way, 6.0
 * decoding; 4 tokens 11.4 this way, 7.8 decoding.
 */
static __always_inline void bnc_t5_small_blocks(const u8 *wb, size_t block_bytes, const s8 *q,
						u32 cols, const int S, const int T, __m512i *res)
{
	const u32 nch = cols / BNC_T5_COLS, full = nch * BNC_T5_COLS;
	const int dual = T <= 2;
	__m512i a[BNC_SMALL_ACC], b[BNC_SMALL_ACC];
	u32 j;
	int s, t, p;

#pragma GCC unroll 8
	for (s = 0; s < S * T; s++)
		a[s] = b[s] = _mm512_setzero_si512();
	for (j = 0; j < nch; j++) {
#pragma GCC unroll 4
		for (s = 0; s < S; s++) {
			const u8 *ps = wb + s * block_bytes + (size_t)j * BNC_CHUNK_BYTES;
			__m512i m = _mm512_load_si512(ps), n, c;

			__builtin_prefetch(ps + BNC_T5_PREFETCH, 0, 2);
#pragma GCC unroll 5
			for (p = 0; p < BNC_T5_PLANES; p++) {
				n = bnc_times3(m);
				c = dual ? m : bnc_code64(m);
#pragma GCC unroll 8
				for (t = 0; t < T; t++) {
					const __m512i x = bnc_bcast(q + (size_t)t * cols +
								    j * BNC_T5_COLS + 4 * p);

					a[s * T + t] = _mm512_dpbusd_epi32(a[s * T + t], c, x);
					if (dual)
						b[s * T + t] = _mm512_dpbusd_epi32(b[s * T + t], n, x);
				}
				m = n;
			}
		}
	}
#pragma GCC unroll 8
	for (s = 0; s < S * T; s++) {
		const __m512i a3 = _mm512_add_epi32(_mm512_add_epi32(a[s], a[s]), a[s]);

		res[s] = dual ? _mm512_srai_epi32(_mm512_sub_epi32(a3, b[s]), 8) :
				_mm512_srai_epi32(a[s], 6);
	}
	if (full == cols)
		return;
#pragma GCC unroll 4
	for (s = 0; s < S; s++)
#pragma GCC unroll 8
		for (t = 0; t < T; t++)
			res[s * T + t] = bnc_t5_rem(res[s * T + t],
						    wb + s * block_bytes + nch * BNC_CHUNK_BYTES,
						    q + (size_t)t * cols + full,
						    (cols - full) / 4, 0);
}

/* @T tokens (8 or 16) of one block: each plane decoded once, used T times. */
static __always_inline void bnc_t5_gemm_block(const u8 *wb, const s8 *q, u32 cols,
					      const s32 *sum, const int T, s32 *out,
					      size_t out_stride, __mmask16 mask)
{
	const u32 nch = cols / BNC_T5_COLS, full = nch * BNC_T5_COLS;
	__m512i acc[BNC_TOK_BLOCK];
	u32 j;
	int t, p;

#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[t] = _mm512_setzero_si512();
	for (j = 0; j < nch; j++) {
		__m512i m = _mm512_load_si512(wb + (size_t)j * BNC_CHUNK_BYTES);

		__builtin_prefetch(wb + (size_t)j * BNC_CHUNK_BYTES + BNC_T5_PREFETCH, 0, 2);
#pragma GCC unroll 5
		for (p = 0; p < BNC_T5_PLANES; p++) {
			const __m512i c = bnc_code64(m);

#pragma GCC unroll 16
			for (t = 0; t < T; t++)
				acc[t] = _mm512_dpbusd_epi32(acc[t], c,
							     bnc_bcast(q + (size_t)t * cols +
								       j * BNC_T5_COLS + 4 * p));
			m = bnc_times3(m);
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		__m512i r = acc[t];

		if (full < cols)
			r = bnc_t5_rem(r, wb + nch * BNC_CHUNK_BYTES, q + (size_t)t * cols + full,
				       (cols - full) / 4, 6);
		_mm512_mask_storeu_epi32(out + t * out_stride, mask,
					 _mm512_sub_epi32(_mm512_srai_epi32(r, 6),
							  _mm512_set1_epi32(sum[t])));
	}
}

void bnc_kernel_t5_avx512(const struct bnc_matrix *w, const s8 *q, const s32 *sum, u32 ntok,
			  u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	bnc_walk_kernel(bnc_t5_gemm_block, bnc_t5_small_blocks, bnc_t5_block_bytes(w->cols), w, q,
			sum, ntok, row_begin, row_end, out, out_stride);
}
