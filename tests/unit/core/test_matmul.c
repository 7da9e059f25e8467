// SPDX-License-Identifier: GPL-2.0
/*
 * Every matmul path against the plain definition: random shapes, the edge
 * cases (K = 128, odd M, N = 1..67, all-zero rows, activations at +-127 and
 * -128, scale 0), tiling, the f32 epilogue bit for bit, the known-answer
 * vectors, and bad input.
 */
#include <math.h>

#include "tests/unit/core/core_test.h"
#include "tests/vectors/bnc_vectors.h"

struct mm_case {
	u32 rows, cols, n;
	int zero_rows;
};

static const struct mm_case random_cases[] = {
	{ 1, 128, 1, 0 },
	{ 3, 128, 5, 1 },
	{ 16, 256, 16, 0 },
	{ 17, 384, 17, 1 },
	{ 33, 128, 2, 0 },
	{ 100, 512, 7, 1 },
	{ 64, 1024, 33, 0 },
	{ 5, 2560, 3, 0 },
	{ 257, 640, 20, 1 },
	{ 48, 6912, 2, 0 },
	/* one token: the multi-stream decode groups, with partial groups and blocks */
	{ 200, 512, 1, 1 },
	{ 160, 2560, 1, 0 },
	{ 256, 6912, 1, 0 },
	{ 309, 384, 1, 1 },
};

/* Whole matrix in one tile on @isa equals the definition? */
static int check_case(enum bnc_isa isa, const s8 *t, u32 rows, u32 cols, const s8 *q, u32 n)
{
	struct bnc_matrix w;
	struct bnc_act x = { .n = n, .k = cols, .q = q };
	s32 *ref = test_alloc((size_t)n * rows * 4), *out = test_alloc((size_t)n * rows * 4);
	int ok;

	ok = !test_make_matrix(t, rows, cols, 0x3f800000, &w);
	test_ref_matmul(t, rows, cols, q, n, ref);
	memset(out, 0xa5, (size_t)n * rows * 4);
	ok = ok && !bnc_matmul_i32(isa, &w, &x, 0, rows, 0, n, out, rows);
	ok = ok && !memcmp(ref, out, (size_t)n * rows * 4);
	free(w.data);
	free(ref);
	free(out);
	return ok;
}

static void test_random(enum bnc_isa isa)
{
	size_t c;
	int ok = 1;

	for (c = 0; c < sizeof(random_cases) / sizeof(random_cases[0]); c++) {
		const struct mm_case *mc = &random_cases[c];
		s8 *t = test_alloc((size_t)mc->rows * mc->cols);
		s8 *q = test_alloc((size_t)mc->n * mc->cols);

		test_random_t(t, mc->rows, mc->cols, mc->zero_rows);
		test_random_q(q, (size_t)mc->n * mc->cols);
		if (!check_case(isa, t, mc->rows, mc->cols, q, mc->n)) {
			printf("# %s: %u x %u, N %u differs\n", bnc_isa_name(isa), mc->rows,
			       mc->cols, mc->n);
			ok = 0;
		}
		free(t);
		free(q);
	}
	tap_ok(ok, "%s: random shapes (K 128..6912, odd M, zero rows) match the definition",
	       bnc_isa_name(isa));
}

static void test_all_n(enum bnc_isa isa)
{
	u32 rows = 37, cols = 256, n;
	s8 *t = test_alloc(rows * cols), *q = test_alloc(67 * cols);
	int ok = 1;

	test_random_t(t, rows, cols, 0);
	test_random_q(q, 67 * cols);
	for (n = 1; n <= 67; n++)
		ok &= check_case(isa, t, rows, cols, q, n);
	tap_ok(ok, "%s: N = 1..67 match the definition", bnc_isa_name(isa));
	free(t);
	free(q);

	/* 6 row blocks: every stream count of the small batches (4, then 2 left) */
	rows = 85;
	cols = 384;
	t = test_alloc(rows * cols);
	q = test_alloc(17 * cols);
	test_random_t(t, rows, cols, 0);
	test_random_q(q, 17 * cols);
	for (ok = 1, n = 1; n <= 17; n++)
		ok &= check_case(isa, t, rows, cols, q, n);
	tap_ok(ok, "%s: N = 1..17 over 6 row blocks match the definition", bnc_isa_name(isa));
	free(t);
	free(q);
}

/* Extreme activations against all +1, all -1 and random weights. */
static void test_extremes(enum bnc_isa isa)
{
	static const int fills[] = { 127, -128, -127 };
	u32 rows = 19, cols = 1024, i, f, m;
	s8 *t = test_alloc(rows * cols), *q = test_alloc(4 * cols);
	int ok = 1;

	for (m = 0; m < rows; m++)
		for (i = 0; i < cols; i++)
			t[m * cols + i] = m % 3 == 0 ? 1 :
					  m % 3 == 1 ? -1 :
						       (s8)(test_rand() % 3) - 1;
	for (f = 0; f < 3; f++)
		memset(q + f * cols, fills[f], cols);
	for (i = 0; i < cols; i++) /* alternating +127 / -128 */
		q[3 * cols + i] = i % 2 ? 127 : -128;
	ok = check_case(isa, t, rows, cols, q, 4);
	tap_ok(ok, "%s: activations all 127, all -128, all -127, alternating (no saturation)",
	       bnc_isa_name(isa));
	free(t);
	free(q);

	/* the largest K: no accumulator may overflow */
	rows = 17;
	cols = BNC_MAX_COLS;
	t = test_alloc((size_t)rows * cols);
	q = test_alloc(16 * (size_t)cols);
	for (i = 0; i < rows * cols; i++)
		t[i] = i / cols == 0 ? 1 : i / cols == 1 ? -1 : (s8)(test_rand() % 3) - 1;
	for (i = 0; i < 16; i++)
		memset(q + (size_t)i * cols, i % 2 ? 127 : -128, cols);
	ok = 1;
	for (i = 1; i <= 16; i++)
		ok &= check_case(isa, t, rows, cols, q, i);
	tap_ok(ok, "%s: K = %u with activations -128 and 127, N = 1..16", bnc_isa_name(isa), cols);
	free(t);
	free(q);
}

/* Tiles of rows and tokens fill the same output as one call. */
static void test_tiles(enum bnc_isa isa)
{
	u32 rows = 150, cols = 384, n = 9, r, tk, rstep, tstep;
	s8 *t = test_alloc(rows * cols), *q = test_alloc(n * cols);
	s32 *ref = test_alloc(n * rows * 4), *out = test_alloc(n * rows * 4);
	struct bnc_act x = { .n = n, .k = cols, .q = q };
	struct bnc_matrix w;
	int ok;

	test_random_t(t, rows, cols, 0);
	test_random_q(q, n * cols);
	test_ref_matmul(t, rows, cols, q, n, ref);
	ok = !test_make_matrix(t, rows, cols, 0x3f800000, &w);
	for (rstep = 16; rstep <= 144; rstep += 64) {
		for (tstep = 1; tstep <= 4; tstep += 3) {
			memset(out, 0, n * rows * 4);
			for (r = 0; r < rows; r += rstep)
				for (tk = 0; tk < n; tk += tstep)
					ok &= !bnc_matmul_i32(isa, &w, &x, r,
							      r + rstep < rows ? r + rstep : rows,
							      tk, tk + tstep < n ? tk + tstep : n,
							      out, rows);
			ok &= !memcmp(out, ref, n * rows * 4);
		}
	}
	tap_ok(ok, "%s: row tiles of 16/80/144 x token tiles of 1/4 give the same result",
	       bnc_isa_name(isa));
	free(w.data);
	free(t);
	free(q);
	free(ref);
	free(out);
}

/* f32 epilogue bit for bit: (float)acc * (w_scale / sigma), also scale 0. */
static void test_f32(enum bnc_isa isa)
{
	static const u32 scales[] = { 0x3d4ccccd, 0x00000000, 0x80000000, 0x42f60000 };
	u32 rows = 45, cols = 640, n = 6, i, s;
	s8 *t = test_alloc(rows * cols), *q = test_alloc(n * cols);
	s32 *ref = test_alloc(n * rows * 4), sums[6];
	float *out = test_alloc(n * rows * 4), sigma[6];
	struct bnc_act x = { .n = n, .k = cols, .q = q, .sigma = sigma };
	struct bnc_matrix w;
	int ok = 1;

	test_random_t(t, rows, cols, 1);
	test_random_q(q, n * cols);
	for (i = 0; i < n; i++) {
		sigma[i] = 127.0f / (0.01f + (float)(test_rand() % 1000) / 7.0f);
		sums[i] = 0;
	}
	for (i = 0; i < n * cols; i++)
		sums[i / cols] += q[i];
	test_ref_matmul(t, rows, cols, q, n, ref);
	for (s = 0; s < sizeof(scales) / sizeof(scales[0]); s++) {
		ok &= !test_make_matrix(t, rows, cols, scales[s], &w);
		x.sum = s % 2 ? sums : NULL;
		ok &= !bnc_matmul_f32(isa, &w, &x, 0, rows, 0, n, out, rows);
		for (i = 0; i < n * rows; i++) {
			float e = (float)ref[i] * (test_f32_of(scales[s]) / sigma[i / rows]);

			ok &= test_f32_bits(out[i]) == test_f32_bits(e);
		}
		free(w.data);
	}
	tap_ok(ok, "%s: f32 epilogue bit-exact, scales 0.05, +0, -0, 123 (sums given or not)",
	       bnc_isa_name(isa));
	free(t);
	free(q);
	free(ref);
	free(out);
}

static void test_vectors(enum bnc_isa isa)
{
	size_t v;

	for (v = 0; v < BNC_NR_VECTORS; v++) {
		const struct bnc_vector *vec = &bnc_vectors[v];
		struct bnc_matrix w = { .rows = vec->rows, .cols = vec->cols };
		struct bnc_act x = { .n = vec->tokens, .k = vec->cols, .q = vec->act };
		s32 out[16];
		int ok;

		w.data = test_alloc(bnc_exec_size(vec->rows, vec->cols));
		ok = !bnc_repack(&w, vec->format, vec->packed, vec->packed_bytes);
		ok = ok && w.scale_bits == vec->scale_bits;
		ok = ok && !bnc_matmul_i32(isa, &w, &x, 0, w.rows, 0, x.n, out, w.rows);
		ok = ok && !memcmp(out, vec->expect, vec->tokens * vec->rows * 4);
		tap_ok(ok, "%s: known answer %s", bnc_isa_name(isa), vec->name);
		free(w.data);
	}
}

static void test_bad_input(void)
{
	u32 rows = 20, cols = 256;
	s8 *t = test_alloc(rows * cols), *q = test_alloc(2 * cols);
	s32 *out = test_alloc(2 * rows * 4 + 4);
	float *fout = test_alloc(2 * rows * 4), sigma[2] = { 1.0f, 2.0f };
	struct bnc_act x = { .n = 2, .k = cols, .q = q, .sigma = sigma };
	enum bnc_isa isa = bnc_isa_best();
	struct bnc_matrix w, bad;
	int ok = 1;

	test_random_t(t, rows, cols, 0);
	test_random_q(q, 2 * cols);
	ok &= !test_make_matrix(t, rows, cols, 0x3f800000, &w);
	ok &= bnc_check_shape(rows, 100) == -EINVAL && bnc_check_shape(rows, 0) == -EINVAL;
	ok &= bnc_check_shape(0, 128) == -EINVAL && bnc_check_shape(1, 128 + 64) == -EINVAL;
	ok &= bnc_exec_size(3, 200) == 0 && bnc_packed_size(BNC_FMT_I2_S, 3, 200) == 0;
	tap_ok(ok, "K not a multiple of 128, zero rows or cols: rejected");

	ok = bnc_matmul_i32(BNC_ISA_COUNT, &w, &x, 0, rows, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, NULL, &x, 0, rows, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, NULL, 0, rows, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows, 0, 2, NULL, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows, 0, 2, (s32 *)((char *)out + 2), rows) == -EINVAL;
	bad = w;
	bad.data = w.data + 4;
	ok &= bnc_matmul_i32(isa, &bad, &x, 0, rows, 0, 2, out, rows) == -EINVAL;
	bad = w;
	bad.layout = 0;
	ok &= bnc_matmul_i32(isa, &bad, &x, 0, rows, 0, 2, out, rows) == -EINVAL;
	tap_ok(ok, "bad ISA, NULL and misaligned buffers, unset layout: -EINVAL");

	ok = bnc_matmul_i32(isa, &w, &x, 8, rows, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, 8, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows + 1, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 16, 16, 0, 2, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows, 1, 1, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows, 0, 3, out, rows) == -EINVAL;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows, 0, 2, out, rows - 1) == -EINVAL;
	x.k = cols - 128;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, rows, 0, 2, out, rows) == -EINVAL;
	x.k = cols;
	ok &= bnc_matmul_i32(isa, &w, &x, 0, 16, 0, 2, out, rows) == 0;
	tap_ok(ok, "unaligned or out-of-range tiles, short stride, K mismatch: -EINVAL");

	ok = 1;
	sigma[1] = NAN;
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == -EINVAL;
	sigma[1] = INFINITY;
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == -EINVAL;
	sigma[1] = 0.0f;
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == -EINVAL;
	sigma[1] = -1.0f;
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == -EINVAL;
	x.sigma = NULL;
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == -EINVAL;
	x.sigma = sigma;
	sigma[1] = 3.0f;
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == 0;
	w.scale_bits = 0x7fc00000; /* NaN scale: IEEE result, defined */
	ok &= bnc_matmul_f32(isa, &w, &x, 0, rows, 0, 2, fout, rows) == 0 && isnan(fout[0]);
	tap_ok(ok, "f32: NaN, Inf, 0, negative or missing sigma rejected; NaN scale gives NaN");
	free(w.data);
	free(t);
	free(q);
	free(out);
	free(fout);
}

static void test_kernels(enum bnc_isa isa)
{
	test_random(isa);
	test_all_n(isa);
	test_extremes(isa);
	test_tiles(isa);
	test_f32(isa);
	test_vectors(isa);
}

int main(void)
{
	printf("# best ISA: %s\n", bnc_isa_name(bnc_isa_best()));
	test_each_isa("", test_kernels);
	test_bad_input();
	tap_plan(tap_n);
	return tap_exit();
}
