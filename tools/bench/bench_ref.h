/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baselines for `bitnet-bench kernels`: an FP32 and an FP16-weight matmul
 * of the same shapes (AVX-512 FMA, register-blocked) and a DRAM read.
 * Same conventions as the core: w is rows x cols row-major, x is n tokens
 * of cols floats, out[t * rows + m].
 */
#ifndef BITNET_BENCH_REF_H
#define BITNET_BENCH_REF_H

#include <stddef.h>
#include <stdint.h>

/* Does this CPU run the baselines (AVX-512F, F16C, FMA)? */
int bench_ref_supported(void);
void bench_ref_f32(const float *w, uint32_t rows, uint32_t cols, const float *x, uint32_t n,
		   float *out, uint32_t row_begin, uint32_t row_end);
void bench_ref_f16(const uint16_t *w, uint32_t rows, uint32_t cols, const float *x, uint32_t n,
		   float *out, uint32_t row_begin, uint32_t row_end);
/* Reads @bytes (a multiple of 1 KiB) as 8 streams; returns a checksum. */
uint64_t bench_read(const void *buf, size_t bytes);

#endif /* BITNET_BENCH_REF_H */
