// SPDX-License-Identifier: GPL-2.0
/*
 * FP32 / FP16-weight matmul baselines and the DRAM read loop. 4 rows x 4
 * tokens of accumulators per step: each weight vector loaded once serves
 * 4 tokens, as a fair dense GEMM/GEMV would.
 */
#include <immintrin.h>

#include "tools/bench/bench_ref.h"

int bench_ref_supported(void)
{
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c") &&
	       __builtin_cpu_supports("fma");
}

static inline __m512 load_w_f32(const float *p)
{
	return _mm512_loadu_ps(p);
}

static inline __m512 load_w_f16(const uint16_t *p)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

#define REF_ROWS 4
#define REF_TOKS 4

/*
 * One block of up to REF_ROWS rows x REF_TOKS tokens; @nr and @nt are
 * constants at each call site so the accumulators live in registers.
 */
#define DEFINE_REF_BLOCK(name, wtype, load_w)                                              \
	static inline __attribute__((always_inline)) void name(                            \
		const wtype *w, uint32_t cols, uint32_t k0, uint32_t k1, const float *x,   \
		float *out, uint32_t rows_total, const int nr, const int nt)               \
	{                                                                                  \
		__m512 acc[REF_ROWS][REF_TOKS];                                            \
		uint32_t k;                                                                \
		int r, t;                                                                  \
                                                                                           \
		_Pragma("GCC unroll 4") for (r = 0; r < nr; r++)                           \
			_Pragma("GCC unroll 4") for (t = 0; t < nt; t++)                   \
				acc[r][t] = _mm512_setzero_ps();                           \
		for (k = k0; k < k1; k += 16) {                                            \
			__m512 xv[REF_TOKS], wv;                                           \
                                                                                           \
			_Pragma("GCC unroll 4") for (t = 0; t < nt; t++)                   \
				xv[t] = _mm512_loadu_ps(x + (size_t)t * cols + k);         \
			_Pragma("GCC unroll 4") for (r = 0; r < nr; r++)                   \
			{                                                                  \
				wv = load_w(w + (size_t)r * cols + k);                     \
				_Pragma("GCC unroll 4") for (t = 0; t < nt; t++)           \
					acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]); \
			}                                                                  \
		}                                                                          \
		_Pragma("GCC unroll 4") for (r = 0; r < nr; r++)                           \
			_Pragma("GCC unroll 4") for (t = 0; t < nt; t++)                   \
				out[(size_t)t * rows_total + r] =                          \
					(k0 ? out[(size_t)t * rows_total + r] : 0.0f) +    \
					_mm512_reduce_add_ps(acc[r][t]);                   \
	}

DEFINE_REF_BLOCK(ref_block_f32, float, load_w_f32)
DEFINE_REF_BLOCK(ref_block_f16, uint16_t, load_w_f16)

/*
 * GEMM: K in slices of REF_KC so a block's weights and tokens stay in
 * L1/L2. GEMV streams each row whole.
 */
#define REF_KC 512

#define DEFINE_REF_GEMM(name, wtype, block)                                                     \
	void name(const wtype *w, uint32_t rows, uint32_t cols, const float *x, uint32_t n,     \
		  float *out, uint32_t row_begin, uint32_t row_end)                             \
	{                                                                                       \
		uint32_t m, t, k0, k1, kc = n >= REF_TOKS ? REF_KC : cols;                      \
                                                                                                \
		for (k0 = 0; k0 < cols; k0 = k1) {                                              \
			k1 = cols - k0 < kc ? cols : k0 + kc;                                   \
			for (m = row_begin; m + REF_ROWS <= row_end; m += REF_ROWS) {           \
				const wtype *wm = w + (size_t)m * cols;                         \
                                                                                                \
				for (t = 0; t + REF_TOKS <= n; t += REF_TOKS)                   \
					block(wm, cols, k0, k1, x + (size_t)t * cols,           \
					      out + (size_t)t * rows + m, rows, REF_ROWS,       \
					      REF_TOKS);                                        \
				for (; t < n; t++)                                              \
					block(wm, cols, k0, k1, x + (size_t)t * cols,           \
					      out + (size_t)t * rows + m, rows, REF_ROWS, 1);   \
			}                                                                       \
			for (; m < row_end; m++)                                                \
				for (t = 0; t < n; t++)                                         \
					block(w + (size_t)m * cols, cols, k0, k1,               \
					      x + (size_t)t * cols, out + (size_t)t * rows + m, \
					      rows, 1, 1);                                      \
		}                                                                               \
	}

DEFINE_REF_GEMM(bench_ref_f32, float, ref_block_f32)
DEFINE_REF_GEMM(bench_ref_f16, uint16_t, ref_block_f16)

/*
 * The machine's read bandwidth as a well-written reader gets it: eight
 * streams at once with software prefetch, which one core here reads ~40%
 * faster than a single stream (the way the GEMV kernels read). Prefetched
 * into L2, as the kernels do: eight streams 4 KiB ahead are the whole 32
 * KiB L1, and prefetching into it read 25-34 GB/s where this reads 34-60.
 */
#define READ_STREAMS 8
#define READ_PREFETCH 4096

uint64_t bench_read(const void *buf, size_t bytes)
{
	const size_t part = bytes / READ_STREAMS / 128 * 128;
	const char *p = buf;
	__m512i a = _mm512_setzero_si512(), b = a;
	size_t i;
	int s;

	for (i = 0; i < part; i += 128) {
		for (s = 0; s < READ_STREAMS; s++) {
			const char *q = p + s * part + i;

			__builtin_prefetch(q + READ_PREFETCH, 0, 2);
			__builtin_prefetch(q + READ_PREFETCH + 64, 0, 2);
			a = _mm512_xor_si512(a, _mm512_load_si512(q));
			b = _mm512_xor_si512(b, _mm512_load_si512(q + 64));
		}
	}
	a = _mm512_xor_si512(a, b);
	return (uint64_t)_mm512_reduce_add_epi64(a);
}
