/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ggml's block-quantized types as embeddings and output heads use them:
 * Q8_0 and the k-quants Q4_K, Q5_K, Q6_K. Rows are dequantized a block at a
 * time from the file's bytes; nothing is expanded ahead of use.
 */
#ifndef BITNET_ENGINE_QUANT_K_H
#define BITNET_ENGINE_QUANT_K_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BN_QK_K 256 /* elements of a k-quant super-block */
#define BN_QK8_0 32 /* elements of a Q8_0 block */

/* Whether @type is one of the block types below. */
bool bn_qblock_type_ok(uint32_t type);
/* Elements and bytes of one block of @type (0 if not a block type). */
uint32_t bn_qblock_elems(uint32_t type);
uint32_t bn_qblock_bytes(uint32_t type);
/* Row @row of @cols values (a multiple of the block) to floats. */
void bn_qblock_row(uint32_t type, const void *row, uint32_t cols, float *out);
/* Element @i of a row: dequantizes only the block holding it. */
float bn_qblock_at(uint32_t type, const void *row, uint32_t i);

/*
 * Reference quantizers writing the same layouts (bitnet-mkmodel, tests):
 * absmax scales per sub-block, not llama.cpp's error search, so values
 * differ from llama-quantize's but decode the same way. @n is a multiple
 * of the block; returns -EINVAL for other types.
 */
int bn_qblock_quantize(uint32_t type, const float *x, uint32_t n, void *out);

#endif /* BITNET_ENGINE_QUANT_K_H */
