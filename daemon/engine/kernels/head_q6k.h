/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The output head run on a file's Q6_K rows as stored (--head file): each
 * super-block's 6-bit quants against the input quantized per token like
 * the int8 head's, with integer sums per 16-element sub-block. Rows are
 * read once per token and never expanded.
 */
#ifndef BITNET_ENGINE_HEAD_Q6K_H
#define BITNET_ENGINE_HEAD_Q6K_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/engine/kernels/ops.h"

/*
 * out[n * out_stride + r] for rows [r0, r1) of the Q6_K tensor @t against
 * @n_x inputs xq = round(x * sigma) + 128: AVX-512 VNNI when @simd allows
 * it, else the scalar reference with the same integer sums.
 */
void bn_q6k_matmul_q8(const struct bn_ftensor *t, uint32_t r0, uint32_t r1, const uint8_t *xq,
		      const float *sigma, uint32_t n_x, float *out, size_t out_stride,
		      enum bn_simd simd);

#endif /* BITNET_ENGINE_HEAD_Q6K_H */
