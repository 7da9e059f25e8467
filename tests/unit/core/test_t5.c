// SPDX-License-Identifier: GPL-2.0
/*
 * The T5 execution layout: its 5-trit byte code checked exhaustively from
 * the definition, repack from every packed format, matmul on every ISA
 * against the plain definition and bit for bit against R16 (K covering
 * every K % 20, rows not a multiple of 16, 1..17 tokens), and stored T5
 * buffers: accepted as written, rejected when corrupted.
 */
#include "tests/unit/core/core_test.h"

static const unsigned int src_fmts[] = { BNC_FMT_I2_S, BNC_FMT_TQ2_0, BNC_FMT_TQ1_0 };

static const unsigned int pow3[5] = { 1, 3, 9, 27, 81 };

/* Plane p of a T5 byte as the layout defines it. */
static unsigned int plane_of(unsigned int q, unsigned int p)
{
	unsigned int m = (q * pow3[p]) % 256;

	return (m * 3) >> 8;
}

static unsigned int avg_u8(unsigned int a, unsigned int b)
{
	return (a + b + 1) >> 1;
}

/*
 * All 243 trit strings: q = ceil(v * 256 / 243) decodes back plane by plane,
 * and each plane is (m >= 86) + (m >= 171). All 256 bytes m: the kernels'
 * two decodes, 3m = 256 c + (3m mod 256) and c = top bits of
 * avg(m', avg(m', 0)) with m' = m - 1 saturated, equal (3m) >> 8.
 */
static void test_decode_exhaustive(void)
{
	unsigned int v, p, m, q, ok = 1, ok_m = 1, seen[256] = { 0 };

	for (v = 0; v < 243; v++) {
		unsigned int d = v;

		q = (v * 256 + 242) / 243;
		ok &= q < 256 && !seen[q];
		seen[q & 255] = 1;
		for (p = 5; p-- > 0; d /= 3) {
			unsigned int mm = q * pow3[p] % 256;

			ok &= plane_of(q, p) == d % 3;
			ok &= plane_of(q, p) == (unsigned int)(mm >= 86) + (mm >= 171);
		}
	}
	tap_ok(ok, "T5: all 243 trit strings encode to distinct bytes and decode back");
	for (m = 0; m < 256; m++) {
		unsigned int c = (3 * m) >> 8, m1 = m ? m - 1 : 0;

		ok_m &= 3 * m == 256 * c + (3 * m) % 256;
		ok_m &= avg_u8(m1, avg_u8(m1, 0)) >> 6 == c;
	}
	tap_ok(ok_m, "T5: the kernels' plane decodes agree with (3m) >> 8 for all 256 bytes");
}

struct t5_case {
	u32 rows, cols;
};

/* K % 20 = 8, 16, 4, 12, 0, 0, 12, 8, 8 */
static const struct t5_case cases[] = {
	{ 17, 128 },  { 50, 256 },  { 33, 384 },   { 100, 512 }, { 1, 640 },
	{ 70, 2560 }, { 40, 6912 }, { 131, 1408 }, { 90, 768 },
};

/* T5 on every ISA == definition == R16, tokens 1..17, and f32 bit for bit. */
static void test_matmul(enum bnc_isa isa)
{
	size_t c;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		u32 rows = cases[c].rows, cols = cases[c].cols, n;
		s8 *t = test_alloc((size_t)rows * cols), *q = test_alloc((size_t)17 * cols);
		s32 *ref = test_alloc((size_t)17 * rows * 4),
		    *o5 = test_alloc((size_t)17 * rows * 4);
		s32 *o16 = test_alloc((size_t)17 * rows * 4);
		float *f5 = test_alloc((size_t)17 * rows * 4),
		      *f16 = test_alloc((size_t)17 * rows * 4);
		/* TQ blocks are 256 weights: those formats only where they fit */
		unsigned int fmt = cols % 256 ? BNC_FMT_I2_S : src_fmts[c % 3];
		float sigma[17];
		struct bnc_matrix w5, w16;
		int ok;

		test_random_t(t, rows, cols, 1);
		test_random_q(q, (size_t)17 * cols);
		for (n = 0; n < 17; n++)
			sigma[n] = 0.5f + n;
		ok = !test_make_layout(t, rows, cols, fmt, BNC_LAYOUT_T5, TEST_SCALE, &w5);
		ok &= !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_R16, TEST_SCALE,
					&w16);
		for (n = 1; ok && n <= 17; n++) {
			struct bnc_act x = { .n = n, .k = cols, .q = q, .sigma = sigma };

			test_ref_matmul(t, rows, cols, q, n, ref);
			memset(o5, 0xa5, (size_t)n * rows * 4);
			ok &= !bnc_matmul_i32(isa, &w5, &x, 0, rows, 0, n, o5, rows);
			ok &= !bnc_matmul_i32(isa, &w16, &x, 0, rows, 0, n, o16, rows);
			ok &= !memcmp(ref, o5, (size_t)n * rows * 4);
			ok &= !memcmp(o16, o5, (size_t)n * rows * 4);
			ok &= !bnc_matmul_f32(isa, &w5, &x, 0, rows, 0, n, f5, rows);
			ok &= !bnc_matmul_f32(isa, &w16, &x, 0, rows, 0, n, f16, rows);
			ok &= !memcmp(f5, f16, (size_t)n * rows * 4);
		}
		tap_ok(ok,
		       "T5 %s: %u x %u (K %% 20 = %u) from fmt %u, 1..17 tokens == definition == R16",
		       bnc_isa_name(isa), rows, cols, cols % 20, fmt);
		free(w5.data);
		free(w16.data);
		free(t);
		free(q);
		free(ref);
		free(o5);
		free(o16);
		free(f5);
		free(f16);
	}
}

/* Extreme activations: every sum at its bound. */
static void test_extremes(enum bnc_isa isa)
{
	static const int fills[] = { 127, -128 };
	u32 rows = 20, cols = 6912, f, i;
	s8 *t = test_alloc((size_t)rows * cols), *q = test_alloc(cols);
	s32 *ref = test_alloc(rows * 4), *out = test_alloc(rows * 4);
	struct bnc_matrix w;
	int ok;

	for (i = 0; i < rows * cols; i++)
		t[i] = i / cols % 2 ? 1 : -1;
	ok = !test_make_layout(t, rows, cols, BNC_FMT_TQ2_0, BNC_LAYOUT_T5, TEST_SCALE, &w);
	for (f = 0; ok && f < ARRAY_SIZE(fills); f++) {
		struct bnc_act x = { .n = 1, .k = cols, .q = q };

		memset(q, fills[f], cols);
		test_ref_matmul(t, rows, cols, q, 1, ref);
		ok &= !bnc_matmul_i32(isa, &w, &x, 0, rows, 0, 1, out, rows);
		ok &= !memcmp(ref, out, rows * 4);
	}
	tap_ok(ok, "T5 %s: activations all 127 / -128, K = 6912", bnc_isa_name(isa));
	free(w.data);
	free(t);
	free(q);
	free(ref);
	free(out);
}

/* Row tiles of a T5 matrix give the whole. */
static void test_tiles(enum bnc_isa isa)
{
	u32 rows = 150, cols = 384, n = 3, r, e;
	s8 *t = test_alloc((size_t)rows * cols), *q = test_alloc((size_t)n * cols);
	s32 *ref = test_alloc((size_t)n * rows * 4), *out = test_alloc((size_t)n * rows * 4);
	struct bnc_act x = { .n = n, .k = cols, .q = q };
	struct bnc_matrix w;
	int ok;

	test_random_t(t, rows, cols, 0);
	test_random_q(q, (size_t)n * cols);
	ok = !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_T5, TEST_SCALE, &w);
	test_ref_matmul(t, rows, cols, q, n, ref);
	for (r = 0; ok && r < rows; r = e) {
		e = r + 48 < rows ? r + 48 : rows;
		ok &= !bnc_matmul_i32(isa, &w, &x, r, e, 0, n, out, rows);
	}
	ok &= !memcmp(ref, out, (size_t)n * rows * 4);
	tap_ok(ok, "T5 %s: row tiles of 48", bnc_isa_name(isa));
	free(w.data);
	free(t);
	free(q);
	free(ref);
	free(out);
}

/* Every source format repacks to the same codes; T5 unpacks back. */
static void test_repack(void)
{
	u32 rows = 35, cols = 768, f, scale;
	size_t n = (size_t)rows * cols, esz = bnc_layout_size(BNC_LAYOUT_T5, rows, cols);
	s8 *t = test_alloc(n), *back = test_alloc(n);
	struct bnc_matrix w;
	int ok = esz == 3 * 39 * 64 + 64 && esz < bnc_exec_size(rows, cols);

	test_random_t(t, rows, cols, 1);
	for (f = 0; f < ARRAY_SIZE(src_fmts); f++) {
		ok &= !test_make_layout(t, rows, cols, src_fmts[f], BNC_LAYOUT_T5, TEST_SCALE, &w);
		ok &= w.layout == BNC_LAYOUT_T5;
		memset(back, 9, n);
		ok &= !bnc_unpack(BNC_FMT_EXEC, w.data, esz, rows, cols, back, &scale);
		ok &= !memcmp(t, back, n) && scale == 0x3d4cc000u;
		free(w.data);
	}
	tap_ok(ok, "T5: I2_S, TQ2_0, TQ1_0 repack to T5 and unpack back to the same codes");
	free(t);
	free(back);
}

static int load_t5(const u8 *buf, u32 rows, u32 cols)
{
	size_t esz = bnc_layout_size(BNC_LAYOUT_T5, rows, cols);
	struct bnc_matrix w = { .rows = rows, .cols = cols };
	int ret;

	w.data = test_alloc(esz);
	ret = bnc_repack_layout(&w, BNC_LAYOUT_T5, BNC_FMT_EXEC, buf, esz);
	free(w.data);
	return ret;
}

/* A stored T5 buffer loads; corrupted ones do not. */
static void test_validate(void)
{
	u32 rows = 20, cols = 384; /* 19 T5 chunks and a remainder of 4 columns */
	size_t esz = bnc_layout_size(BNC_LAYOUT_T5, rows, cols), bb = 20 * 64;
	u8 *stored = test_alloc(esz), *p = test_alloc(esz);
	s8 *t = test_alloc((size_t)rows * cols);
	struct bnc_matrix w, big = { .rows = 16, .cols = BNC_T5_MAX_COLS + 128 };
	int ok;

	test_random_t(t, rows, cols, 0);
	ok = !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_T5, TEST_SCALE, &w);
	memcpy(stored, w.data, esz);
	ok &= !load_t5(stored, rows, cols);
	tap_ok(ok, "T5: a stored buffer loads as BNC_FMT_EXEC");

	memcpy(p, stored, esz);
	p[5] = 1; /* between the bytes of v = 0 and v = 1: not an encoding */
	ok = load_t5(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[19 * 64 + 3] |= 3; /* remainder chunk: code 3 */
	ok &= load_t5(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[19 * 64 + 3] |= 0x10; /* remainder chunk: a plane past K % 20 */
	ok &= load_t5(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[bb + 15 * 4] = (0 * 256 + 242) / 243; /* pad row 31: a -1 weight */
	ok &= load_t5(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[esz - 64 + 4] = BNC_LAYOUT_R16; /* tail's layout id */
	ok &= load_t5(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[esz - 64 + 8]++; /* tail's rows */
	ok &= load_t5(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[esz - 1] = 1; /* reserved tail bytes */
	ok &= load_t5(p, rows, cols) == -EINVAL;
	ok &= bnc_repack_layout(&w, BNC_LAYOUT_T5, BNC_FMT_EXEC, stored, esz - 64) == -EINVAL;
	ok &= bnc_repack_layout(&w, 3, BNC_FMT_TQ1_0, stored, esz) == -EINVAL;
	ok &= bnc_layout_size(BNC_LAYOUT_T5, 16, BNC_T5_MAX_COLS + 128) == 0;
	big.data = w.data;
	ok &= bnc_repack_layout(&big, BNC_LAYOUT_T5, BNC_FMT_I2_S, stored, 0) == -EINVAL;
	tap_ok(ok,
	       "T5: corrupted buffers (bad byte, code 3, unused plane, pad row, tail) rejected");
	free(w.data);
	free(stored);
	free(p);
	free(t);
}

static void test_kernels(enum bnc_isa isa)
{
	test_matmul(isa);
	test_extremes(isa);
	test_tiles(isa);
}

int main(void)
{
	test_decode_exhaustive();
	test_repack();
	test_validate();
	test_each_isa("T5 ", test_kernels);
	tap_plan(tap_n);
	return tap_exit();
}
