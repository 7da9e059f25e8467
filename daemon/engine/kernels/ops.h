/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Float operations of the forward pass: norms, RoPE, softmax, activations
 * and dot products against full-precision tensors (embedding, output head).
 */
#ifndef BITNET_ENGINE_OPS_H
#define BITNET_ENGINE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The vector instructions this CPU has, in increasing order (probed once). */
enum bn_simd {
	BN_SIMD_SCALAR = 1,
	BN_SIMD_AVX2,	     /* with FMA */
	BN_SIMD_AVX512,	     /* AVX-512F */
	BN_SIMD_AVX512_VNNI, /* and AVX-512BW, AVX-512 VNNI */
};

enum bn_simd bn_simd(void);

/*
 * A 2-D tensor in the model file read as float rows: full precision, or
 * (embedding and head only) ggml blocks dequantized a row at a time.
 */
struct bn_ftensor {
	const void *data;
	uint32_t type; /* GGUF_T_F32, F16, BF16; or Q8_0, Q4_K, Q5_K, Q6_K */
	uint32_t rows, cols;
	size_t row_bytes;
};

/* Whether @type is one bn_ftensor can hold. */
int bn_ftensor_type_ok(uint32_t type);
/* Whether rows of @type can be read as floats: the above or a block type. */
int bn_ftensor_rows_type_ok(uint32_t type);
/* One value (slow; for when no row buffer can be had). */
float bn_ftensor_at(const struct bn_ftensor *t, uint32_t r, uint32_t i);
/* Row @r converted to float. */
void bn_ftensor_row(const struct bn_ftensor *t, uint32_t r, float *out);
/*
 * out[n * out_stride + r] = dot(row r of @t, x[n * cols ..]) for rows
 * [r0, r1) and @n_x vectors of x.
 */
void bn_ftensor_matmul(const struct bn_ftensor *t, uint32_t r0, uint32_t r1, const float *x,
		       uint32_t n_x, float *out, size_t out_stride);

/* A compact head: int8 rows, each with one float scale (x ~= q * scale). */
struct bn_q8rows {
	int8_t *q;
	float *scale;
	int32_t *sum; /* sum of each row's q, for the u8 offset */
	uint32_t rows, cols;
};

/* Quantizes rows [r0, r1) of @t into @h (allocated by the caller). */
void bn_q8rows_fill(struct bn_q8rows *h, const struct bn_ftensor *t, uint32_t r0, uint32_t r1);
/* Like bn_ftensor_matmul, int8 rows against float vectors. */
void bn_q8rows_matmul(const struct bn_q8rows *h, uint32_t r0, uint32_t r1, const float *x,
		      uint32_t n_x, float *out, size_t out_stride);

/*
 * Whether this CPU has the int8 x int8 path (AVX-512 VNNI), which takes the
 * input quantized per vector: xq = round(x * sigma) + 128 as bytes.
 */
bool bn_q8rows_have_vnni(void);
void bn_q8rows_matmul_q8(const struct bn_q8rows *h, uint32_t r0, uint32_t r1, const uint8_t *xq,
			 const float *sigma, uint32_t n_x, float *out, size_t out_stride);

/* out = x / sqrt(mean(x^2) + eps) * w */
void bn_rmsnorm(const float *x, const float *w, uint32_t n, float eps, float *out);
/*
 * bn_rmsnorm of @rows consecutive rows of @n, the same bits row by row, up
 * to BN_RMSNORM_ROWS at a time (several times faster than row by row).
 */
#define BN_RMSNORM_ROWS 4
void bn_rmsnorm_rows(const float *x, const float *w, uint32_t rows, uint32_t n, float eps,
		     float *out);
/*
 * bn_rmsnorm_rows of x + @add (stored into @x) or of max(g, 0)^2 * @u
 * (stored into @g): the bits of bn_add_f32 or bn_relu_sqr_mul then
 * bn_rmsnorm_rows, in one pass (the elementwise step is free while the sum
 * of squares waits on its adds).
 */
void bn_add_rmsnorm_rows(float *x, const float *add, const float *w, uint32_t rows, uint32_t n,
			 float eps, float *out);
void bn_relu_sqr_rmsnorm_rows(float *g, const float *u, const float *w, uint32_t rows, uint32_t n,
			      float eps, float *out);
/* cos and sin of pos * inv_freq[i] for the rope_dim / 2 pairs. */
void bn_rope_angles(uint32_t pos, const float *inv_freq, uint32_t half, float *cs, float *sn);
/* Rotates one head in place with the angles of its position. */
void bn_rope(float *z, uint32_t rope_dim, const float *cs, const float *sn, int neox);
/* In place; returns nothing, the values become probabilities. */
void bn_softmax(float *x, uint32_t n);
/* expf() of 16 floats, the same bits (vectorised where the CPU allows). */
void bn_expf16(const float *x, float *y);
float bn_dot_f32(const float *a, const float *b, uint32_t n);
/*
 * Index of the first largest of @n > 0 values; NaNs never win, and a NaN
 * first value is the answer (as a scalar scan with '>' from index 0).
 */
uint32_t bn_argmax(const float *x, uint32_t n);
/*
 * Attention of one position for @heads query heads (@q: heads x d) sharing
 * one K/V head: @n cached rows of @k and @v, @stride floats apart. @scores
 * holds heads x n floats; @out gets heads x d.
 */
void bn_attend(const float *q, uint32_t heads, const float *k, const float *v, size_t stride,
	       uint32_t n, uint32_t d, float *scores, float *out);
/* y += x */
void bn_add_f32(float *y, const float *x, size_t n);
/* g = max(g, 0)^2 * u, the squared-ReLU gate */
void bn_relu_sqr_mul(float *g, const float *u, size_t n);

#endif /* BITNET_ENGINE_OPS_H */
