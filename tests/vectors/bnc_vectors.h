/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Known-answer vectors for the packed ternary formats, worked out by hand
 * (the derivation is in the comments). Plain C: usable from userspace
 * tests, the module's kselftests (through /dev/bitnet) and kernel code. GNU range
 * designators keep the arrays short.
 *
 * Each vector: a packed tensor of rows x cols in BNC_FMT_* / BITNET_FMT_*
 * @format, @tokens tokens of int8 activations (token-major, cols each) and
 * the exact int32 results expect[n * rows + m] = sum_k t[m][k] * q[n][k].
 */
#ifndef BNC_VECTORS_H
#define BNC_VECTORS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

struct bnc_vector {
	const char *name;
	uint32_t format; /* 1 I2_S, 2 TQ2_0, 3 TQ1_0 */
	uint32_t rows;
	uint32_t cols;
	uint32_t tokens;
	uint32_t scale_bits; /* fp32 bits of the tensor's scale */
	const uint8_t *packed;
	uint32_t packed_bytes;
	const int8_t *act;
	const int32_t *expect;
};

/*
 * I2_S, 3 x 128. Row m is block m (32 bytes); byte j holds weights j, 32+j,
 * 64+j, 96+j in bits 7:6, 5:4, 3:2, 1:0, code = t + 1.
 *  row 0: byte 0 = 0x92 = 10 01 00 10: w0 = +1, w32 = 0, w64 = -1, w96 = +1;
 *         other bytes 0x55: zero.
 *  row 1: 0xAA everywhere: all +1.   row 2: 0x00 everywhere: all -1.
 *  tail at byte 96: fp32 0.5 = 0x3f000000 little-endian.
 * token 0: q = 1 except q0 = 10, q32 = 20, q64 = 30, q96 = -40 (sum 144)
 *   row 0: 10 - 30 - 40 = -60; row 1: 144; row 2: -144
 * token 1: q = -128 for k < 64, 127 for k >= 64
 *   row 0: -128 - 127 + 127 = -128; row 1: 64 * (127 - 128) = -64; row 2: 64
 */
/* The tables keep the layout of their derivations. */
/* clang-format off */
static const uint8_t bnc_vec_i2s_packed[128] = {
	[0] = 0x92, [1 ... 31] = 0x55,
	[32 ... 63] = 0xaa,
	[64 ... 95] = 0x00,
	[96] = 0x00, [97] = 0x00, [98] = 0x00, [99] = 0x3f, [100 ... 127] = 0x00,
};

static const int8_t bnc_vec_i2s_act[2 * 128] = {
	[0] = 10, [1 ... 31] = 1, [32] = 20, [33 ... 63] = 1,
	[64] = 30, [65 ... 95] = 1, [96] = -40, [97 ... 127] = 1,
	[128 ... 191] = -128, [192 ... 255] = 127,
};

static const int32_t bnc_vec_i2s_expect[2 * 3] = { -60, 144, -144, -128, -64, 64 };

/*
 * TQ2_0, 2 x 256: one 66-byte block per row; byte m of half g holds weight
 * 128g + 32l + m in bits 2l+1:2l, code = t + 1; fp16 d 0x3800 = 0.5.
 *  row 0: byte 0 = 0x86 = 10 00 01 10: w0 = +1, w32 = 0, w64 = -1, w96 = +1;
 *         byte 33 = 0x01: w129 = 0, w161 = w193 = w225 = -1; others 0x55.
 *  row 1: 0xaa everywhere (+1) but byte 5 = 0x6a = 01 10 10 10: w101 = 0.
 * token 0: q = 1 except q0 = 5, q64 = -7, q96 = 9, q101 = 100, q161 = 11,
 *          q193 = -13, q225 = 2 (sum 249 + 107 = 356)
 *   row 0: 5 + 7 + 9 - 11 + 13 - 2 = 21; row 1: 356 - 100 = 256
 * token 1: q = -128 everywhere
 *   row 0: (1 - 1 + 1 - 1 - 1 - 1) * -128 = 256; row 1: 255 * -128 = -32640
 */
static const uint8_t bnc_vec_tq2_packed[132] = {
	[0] = 0x86, [1 ... 31] = 0x55, [32] = 0x55, [33] = 0x01, [34 ... 63] = 0x55,
	[64] = 0x00, [65] = 0x38,
	[66 ... 70] = 0xaa, [71] = 0x6a, [72 ... 129] = 0xaa,
	[130] = 0x00, [131] = 0x38,
};

static const int8_t bnc_vec_tq2_act[2 * 256] = {
	[0] = 5, [1 ... 63] = 1, [64] = -7, [65 ... 95] = 1, [96] = 9,
	[97 ... 100] = 1, [101] = 100, [102 ... 160] = 1, [161] = 11,
	[162 ... 192] = 1, [193] = -13, [194 ... 224] = 1, [225] = 2,
	[226 ... 255] = 1,
	[256 ... 511] = -128,
};

static const int32_t bnc_vec_tq2_expect[2 * 2] = { 21, 256, 256, -32640 };

/*
 * TQ1_0, 2 x 256: one 54-byte block per row. Byte m < 32 holds weights
 * m + 32n, byte 32 + m (m < 16) weights 160 + m + 16n (n = 0..4), byte
 * 48 + j weights 240 + j + 4n (n = 0..3); a byte is ceil(v * 256 / 243)
 * for v = sum c_n 3^(4-n) (qh bytes: a 5th trit 0). Trit n decodes as
 * ((u8)(b * 3^n) * 3) >> 8.
 *  row 0: byte 0: (2,1,0,2,1) v = 196 -> 207: w0 = +1, w32 = 0, w64 = -1,
 *         w96 = +1, w128 = 0; byte 32: (0,1,1,1,2) v = 41 -> 44: w160 = -1,
 *         w224 = +1; byte 48: (2,2,0,1,0) v = 219 -> 231: w240 = +1,
 *         w244 = +1, w248 = -1, w252 = 0; zero bytes: (1,1,1,1,1) v = 121
 *         -> 128, qh (1,1,1,1,0) v = 120 -> 127; d 0x3c00 = 1.0.
 *  row 1: all zero, d 0x0000 (ignored: a block without non-zero weights
 *         does not set the tensor's scale).
 * token 0: q = 0 except q0 = 3, q32 = 99, q64 = 5, q96 = 7, q160 = 11,
 *          q224 = 13, q240 = 17, q244 = 19, q248 = 23
 *   row 0: 3 - 5 + 7 - 11 + 13 + 17 + 19 - 23 = 20; row 1: 0
 * token 1: q = 127 everywhere: row 0: (5 - 3) * 127 = 254; row 1: 0
 */
static const uint8_t bnc_vec_tq1_packed[108] = {
	[0] = 207, [1 ... 31] = 128, [32] = 44, [33 ... 47] = 128,
	[48] = 231, [49 ... 51] = 127, [52] = 0x00, [53] = 0x3c,
	[54 ... 101] = 128, [102 ... 105] = 127, [106] = 0x00, [107] = 0x00,
};

static const int8_t bnc_vec_tq1_act[2 * 256] = {
	[0] = 3, [1 ... 31] = 0, [32] = 99, [33 ... 63] = 0, [64] = 5,
	[65 ... 95] = 0, [96] = 7, [97 ... 159] = 0, [160] = 11,
	[161 ... 223] = 0, [224] = 13, [225 ... 239] = 0, [240] = 17,
	[241 ... 243] = 0, [244] = 19, [245 ... 247] = 0, [248] = 23,
	[249 ... 255] = 0,
	[256 ... 511] = 127,
};

static const int32_t bnc_vec_tq1_expect[2 * 2] = { 20, 0, 254, 0 };
/* clang-format on */

static const struct bnc_vector bnc_vectors[] = {
	{ "I2_S 3x128", 1, 3, 128, 2, 0x3f000000, bnc_vec_i2s_packed, sizeof(bnc_vec_i2s_packed),
	  bnc_vec_i2s_act, bnc_vec_i2s_expect },
	{ "TQ2_0 2x256", 2, 2, 256, 2, 0x3f000000, bnc_vec_tq2_packed, sizeof(bnc_vec_tq2_packed),
	  bnc_vec_tq2_act, bnc_vec_tq2_expect },
	{ "TQ1_0 2x256", 3, 2, 256, 2, 0x3f800000, bnc_vec_tq1_packed, sizeof(bnc_vec_tq1_packed),
	  bnc_vec_tq1_act, bnc_vec_tq1_expect },
};

#define BNC_NR_VECTORS (sizeof(bnc_vectors) / sizeof(bnc_vectors[0]))

#endif /* BNC_VECTORS_H */
