/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dense output head (--head q4): each row of the head in groups of 64
 * 4-bit values with one float scale per group, built at load from the
 * file's rows. 4.5 bits per weight against the int8 head's 8: the head is
 * the largest single read of a decode step.
 */
#ifndef BITNET_ENGINE_HEAD_Q4_H
#define BITNET_ENGINE_HEAD_Q4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/engine/kernels/ops.h"

#define BN_Q4_GROUP 64

/*
 * Group g of row r: 32 bytes; byte j holds element j in its low nibble and
 * element j + 32 in its high one, as u = q + 8 (q in -8..7), x ~= q * scale.
 */
struct bn_q4rows {
	uint8_t *q;   /* rows * cols / 2 */
	float *scale; /* rows * cols / BN_Q4_GROUP */
	uint32_t rows, cols;
};

/* Allocates for @rows x @cols (cols a multiple of BN_Q4_GROUP); 0 or -errno. */
int bn_q4rows_alloc(struct bn_q4rows *h, uint32_t rows, uint32_t cols);
void bn_q4rows_free(struct bn_q4rows *h);
/* Quantizes rows [r0, r1) of @t into @h; -ENOMEM without a row buffer. */
int bn_q4rows_fill(struct bn_q4rows *h, const struct bn_ftensor *t, uint32_t r0, uint32_t r1);
/*
 * out[n * out_stride + r] for rows [r0, r1) against @n_x inputs quantized
 * as the int8 head takes them (xq = round(x * sigma) + 128): AVX-512 VNNI
 * when @simd allows it, else the scalar reference with the same rounding.
 */
void bn_q4rows_matmul_q8(const struct bn_q4rows *h, uint32_t r0, uint32_t r1, const uint8_t *xq,
			 const float *sigma, uint32_t n_x, float *out, size_t out_stride,
			 enum bn_simd simd);

#endif /* BITNET_ENGINE_HEAD_Q4_H */
