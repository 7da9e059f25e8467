/* SPDX-License-Identifier: GPL-2.0 */
/* A seeded PRNG and buffers for the compute core's unit tests. */
#ifndef BNC_CORE_TEST_H
#define BNC_CORE_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "kmod/core/bitnet_core.h"

static unsigned long long test_rng = 0x2545f4914f6cdd1dull;

static inline unsigned int test_rand(void)
{
	test_rng ^= test_rng << 13;
	test_rng ^= test_rng >> 7;
	test_rng ^= test_rng << 17;
	return (unsigned int)(test_rng >> 11);
}

static inline void *test_alloc(size_t bytes)
{
	void *p = NULL;

	if (posix_memalign(&p, BNC_BUF_ALIGN, bytes ? bytes : 1)) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/* A float's bits and back. */
static inline u32 test_f32_bits(float f)
{
	u32 b;

	memcpy(&b, &f, 4);
	return b;
}

static inline float test_f32_of(u32 b)
{
	float f;

	memcpy(&f, &b, 4);
	return f;
}

/* Random ternary codes; @zero_rows makes every 3rd row all zero. */
static inline void test_random_t(s8 *t, u32 rows, u32 cols, int zero_rows)
{
	size_t i;

	for (i = 0; i < (size_t)rows * cols; i++)
		t[i] = (zero_rows && (i / cols) % 3 == 1) ? 0 : (s8)(test_rand() % 3) - 1;
}

/* The plain definition: out[n * rows + m] = sum_k t[m][k] * q[n][k]. */
static inline void test_ref_matmul(const s8 *t, u32 rows, u32 cols, const s8 *q, u32 n, s32 *out)
{
	u32 i, m, k;

	for (i = 0; i < n; i++)
		for (m = 0; m < rows; m++) {
			s32 acc = 0;

			for (k = 0; k < cols; k++)
				acc += t[(size_t)m * cols + k] * q[(size_t)i * cols + k];
			out[(size_t)i * rows + m] = acc;
		}
}

/* A weight scale for tests that do not look at it (0.05). */
#define TEST_SCALE 0x3d4cc000

/* Random activations, the whole int8 range. */
static inline void test_random_q(s8 *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		q[i] = (s8)(test_rand() & 0xff);
}

/* Codes @t packed in @fmt, then repacked into @layout. */
static inline int test_make_layout(const s8 *t, u32 rows, u32 cols, unsigned int fmt, u32 layout,
				   u32 scale_bits, struct bnc_matrix *w)
{
	size_t bytes = bnc_packed_size(fmt, rows, cols);
	void *packed = test_alloc(bytes);
	int ret;

	ret = bnc_pack(fmt, t, rows, cols, scale_bits, packed, bytes);
	w->rows = rows;
	w->cols = cols;
	w->data = test_alloc(bnc_layout_size(layout, rows, cols));
	if (!ret)
		ret = bnc_repack_layout(w, layout, fmt, packed, bytes);
	free(packed);
	return ret;
}

/* A matrix in the R16 execution layout built from codes (via I2_S). */
static inline int test_make_matrix(const s8 *t, u32 rows, u32 cols, u32 scale_bits,
				   struct bnc_matrix *w)
{
	return test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_R16, scale_bits, w);
}

/* @per_isa(isa) for every ISA this CPU runs; one skip, "@what<ISA> kernels", for each other. */
static inline void test_each_isa(const char *what, void (*per_isa)(enum bnc_isa isa))
{
	u32 supported = bnc_isa_supported();
	int isa;

	for (isa = 0; isa < BNC_ISA_COUNT; isa++) {
		if (supported & (1u << isa))
			per_isa(isa);
		else
			tap_skip("not supported by this CPU", "%s%s kernels", what,
				 bnc_isa_name(isa));
	}
}

#endif /* BNC_CORE_TEST_H */
