// SPDX-License-Identifier: GPL-2.0
/*
 * The LUT3 execution layout: repack from every packed format and back,
 * tables (scalar and SIMD) against their definition, matmul on every ISA
 * against the plain definition and bit for bit against R16 (every K % 9,
 * rows not a multiple of 32, 1..17 tokens and 70, tiles starting mid-block,
 * the pool's token groups), the s16 bound at extreme activations, and
 * stored LUT3 buffers: accepted as written, rejected when corrupted.
 */
#include "tests/unit/core/core_test.h"
#include "libcore/pool.h"

#define MAX_TOK 70

static const unsigned int src_fmts[] = { BNC_FMT_I2_S, BNC_FMT_TQ2_0, BNC_FMT_TQ1_0 };

/* Tables of all tokens of @x built with @isa in one call. */
static s16 *make_tables(enum bnc_isa isa, const struct bnc_act *x)
{
	s16 *lut = test_alloc(bnc_lut3_table_bytes(x->n, x->k));

	if (bnc_lut3_build(isa, x, 0, bnc_lut3_triples(x->k), lut)) {
		free(lut);
		return NULL;
	}
	return lut;
}

/* Every entry of every table by its definition, SIMD == scalar. */
static void test_tables(void)
{
	static const u32 ks[] = { 128, 640, 6912 };
	u32 c, n = 5, g, t, p, d;
	int ok = 1, simd = !!(bnc_isa_supported() & (1u << BNC_ISA_AVX512_VNNI));

	for (c = 0; c < ARRAY_SIZE(ks); c++) {
		u32 k = ks[c];
		s8 *q = test_alloc((size_t)n * k);
		struct bnc_act x = { .n = n, .k = k, .q = q };
		s16 *ref, *fast;

		test_random_q(q, (size_t)n * k);
		q[0] = -128;
		q[k - 1] = 127;
		ref = make_tables(BNC_ISA_SCALAR, &x);
		fast = simd ? make_tables(BNC_ISA_AVX512_VNNI, &x) : NULL;
		ok &= ref && (!simd || fast);
		ok &= bnc_lut3_triples(k) == 3 * ((k + 8) / 9);
		for (g = 0; ok && g < bnc_lut3_triples(k); g++) {
			for (t = 0; t < n; t++) {
				const s16 *tab = ref + ((size_t)g * n + t) * 32;

				for (p = 0; p < 32; p++) {
					s32 e = 0, pp = p;

					for (d = 0; d < 3 && p < 27; d++, pp /= 3)
						if (3 * g + d < k)
							e += (pp % 3 - 1) * q[t * k + 3 * g + d];
					ok &= tab[p] == e;
				}
			}
		}
		if (simd)
			ok &= !memcmp(ref, fast, bnc_lut3_table_bytes(n, k));
		free(q);
		free(ref);
		free(fast);
	}
	{
		struct bnc_act x = { .n = 1, .k = 128, .q = (const s8 *)"" };
		s16 *lut = test_alloc(bnc_lut3_table_bytes(1, 128));

		ok &= bnc_lut3_build(BNC_ISA_SCALAR, &x, 0, bnc_lut3_triples(128) + 1, lut) ==
		      -EINVAL;
		ok &= bnc_lut3_build(BNC_ISA_SCALAR, &x, 0, 1, lut + 1) == -EINVAL;
		ok &= bnc_lut3_table_bytes(0, 128) == 0 && bnc_lut3_table_bytes(1, 100) == 0;
		free(lut);
	}
	tap_ok(ok, "LUT3: tables == definition (scalar%s), bad arguments refused",
	       simd ? " and AVX-512" : "");
}

struct lut3_case {
	u32 rows, cols;
};

/* K % 9 = 2, 4, 6, 8, 1, 3, 5, 7, 0, 4, 0 */
static const struct lut3_case cases[] = {
	{ 17, 128 },  { 50, 256 },  { 33, 384 },  { 100, 512 }, { 1, 640 },   { 70, 768 },
	{ 131, 896 }, { 64, 1024 }, { 40, 1152 }, { 70, 2560 }, { 45, 6912 },
};

/* LUT3 on @isa == definition == R16 for @n tokens, i32 and f32 bit for bit. */
static int check_tokens(enum bnc_isa isa, const s8 *t, u32 rows, u32 cols, const s8 *q,
			const float *sigma, u32 n, struct bnc_matrix *wl, struct bnc_matrix *w16)
{
	s32 *ref = test_alloc((size_t)n * rows * 4), *ol = test_alloc((size_t)n * rows * 4);
	s32 *o16 = test_alloc((size_t)n * rows * 4);
	float *fl = test_alloc((size_t)n * rows * 4), *f16 = test_alloc((size_t)n * rows * 4);
	struct bnc_act x = { .n = n, .k = cols, .q = q, .sigma = sigma };
	int ok;

	x.lut = make_tables(isa, &x);
	test_ref_matmul(t, rows, cols, q, n, ref);
	memset(ol, 0xa5, (size_t)n * rows * 4);
	ok = x.lut != NULL;
	ok &= !bnc_matmul_i32(isa, wl, &x, 0, rows, 0, n, ol, rows);
	ok &= !bnc_matmul_i32(isa, w16, &x, 0, rows, 0, n, o16, rows);
	ok &= !memcmp(ref, ol, (size_t)n * rows * 4);
	ok &= !memcmp(o16, ol, (size_t)n * rows * 4);
	ok &= !bnc_matmul_f32(isa, wl, &x, 0, rows, 0, n, fl, rows);
	ok &= !bnc_matmul_f32(isa, w16, &x, 0, rows, 0, n, f16, rows);
	ok &= !memcmp(fl, f16, (size_t)n * rows * 4);
	free((void *)x.lut);
	free(ref);
	free(ol);
	free(o16);
	free(fl);
	free(f16);
	return ok;
}

static void test_matmul(enum bnc_isa isa)
{
	size_t c;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		u32 rows = cases[c].rows, cols = cases[c].cols, n;
		s8 *t = test_alloc((size_t)rows * cols), *q = test_alloc((size_t)MAX_TOK * cols);
		/* TQ blocks are 256 weights: those formats only where they fit */
		unsigned int fmt = cols % 256 ? BNC_FMT_I2_S : src_fmts[c % 3];
		float sigma[MAX_TOK];
		struct bnc_matrix wl, w16;
		int ok;

		test_random_t(t, rows, cols, 1);
		test_random_q(q, (size_t)MAX_TOK * cols);
		for (n = 0; n < MAX_TOK; n++)
			sigma[n] = 0.5f + n;
		ok = !test_make_layout(t, rows, cols, fmt, BNC_LAYOUT_LUT3, TEST_SCALE, &wl);
		ok &= !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_R16, TEST_SCALE,
					&w16);
		for (n = 1; ok && n <= 17; n++)
			ok &= check_tokens(isa, t, rows, cols, q, sigma, n, &wl, &w16);
		/* the scalar reference is slow: 70 tokens on the SIMD paths only */
		if (isa != BNC_ISA_SCALAR && rows * cols < 200000)
			ok &= check_tokens(isa, t, rows, cols, q, sigma, MAX_TOK, &wl, &w16);
		tap_ok(ok,
		       "LUT3 %s: %u x %u (K %% 9 = %u) from fmt %u, 1..17%s tokens == definition == R16",
		       bnc_isa_name(isa), rows, cols, cols % 9, fmt,
		       isa != BNC_ISA_SCALAR && rows * cols < 200000 ? " and 70" : "");
		free(wl.data);
		free(w16.data);
		free(t);
		free(q);
	}
}

/*
 * Every sum at its bound: rows all +1 and all -1, activations all 127 or
 * all -128 (the s16 sums of 28 words reach 28 * 3 * 128 = 10752 per table
 * and the widening is tested at K = 6912: 768 words), 1..9 tokens (both
 * walks of the kernel).
 */
static void test_extremes(enum bnc_isa isa)
{
	static const int fills[] = { 127, -128 };
	u32 rows = 40, cols = 6912, f, i, n;
	s8 *t = test_alloc((size_t)rows * cols), *q = test_alloc((size_t)9 * cols);
	s32 *ref = test_alloc(9 * rows * 4), *out = test_alloc(9 * rows * 4);
	struct bnc_matrix w;
	int ok;

	for (i = 0; i < rows * cols; i++)
		t[i] = i / cols % 2 ? 1 : -1;
	ok = !test_make_layout(t, rows, cols, BNC_FMT_TQ2_0, BNC_LAYOUT_LUT3, TEST_SCALE, &w);
	for (f = 0; ok && f < ARRAY_SIZE(fills); f++) {
		for (n = 1; n <= 9; n += 4) {
			struct bnc_act x = { .n = n, .k = cols, .q = q };

			memset(q, fills[f], (size_t)n * cols);
			x.lut = make_tables(isa, &x);
			test_ref_matmul(t, rows, cols, q, n, ref);
			ok &= x.lut && !bnc_matmul_i32(isa, &w, &x, 0, rows, 0, n, out, rows);
			ok &= !memcmp(ref, out, (size_t)n * rows * 4);
			ok &= ref[0] == -fills[f] * (s32)cols && ref[1] == fills[f] * (s32)cols;
			free((void *)x.lut);
		}
	}
	tap_ok(ok, "LUT3 %s: rows all +1 / -1, activations all 127 / -128, K = 6912",
	       bnc_isa_name(isa));
	free(w.data);
	free(t);
	free(q);
	free(ref);
	free(out);
}

/* Row tiles of 48 (every other one starts mid-block) give the whole. */
static void test_tiles(enum bnc_isa isa)
{
	u32 rows = 150, cols = 384, n = 11, r, e;
	s8 *t = test_alloc((size_t)rows * cols), *q = test_alloc((size_t)n * cols);
	s32 *ref = test_alloc((size_t)n * rows * 4), *out = test_alloc((size_t)n * rows * 4);
	struct bnc_act x = { .n = n, .k = cols, .q = q };
	struct bnc_matrix w;
	int ok;

	test_random_t(t, rows, cols, 0);
	test_random_q(q, (size_t)n * cols);
	x.lut = make_tables(isa, &x);
	ok = x.lut &&
	     !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_LUT3, TEST_SCALE, &w);
	test_ref_matmul(t, rows, cols, q, n, ref);
	memset(out, 0xa5, (size_t)n * rows * 4);
	for (r = 0; ok && r < rows; r = e) {
		e = r + 48 < rows ? r + 48 : rows;
		ok &= !bnc_matmul_i32(isa, &w, &x, r, e, 0, n, out, rows);
	}
	ok &= !memcmp(ref, out, (size_t)n * rows * 4);
	tap_ok(ok, "LUT3 %s: row tiles of 48, 11 tokens", bnc_isa_name(isa));
	free((void *)x.lut);
	free(w.data);
	free(t);
	free(q);
	free(ref);
	free(out);
}

/*
 * Through the pool (tables built there, tokens in groups of 16, tiles on
 * LUT3 block bounds): q/k/v-like weights in one dispatch, 1, 8 and 70
 * tokens, == definition; and without AVX-512 tables the kernel refuses.
 */
static void test_pool(void)
{
	static const u32 rows[3] = { 300, 80, 80 }, ns[] = { 1, 8, 70 };
	u32 cols = 640, i, c;
	s8 *t[3], *q = test_alloc((size_t)MAX_TOK * cols);
	s32 *ref[3], *out[3];
	float sigma[MAX_TOK];
	struct bnc_matrix w[3];
	const struct bnc_matrix *ws[3] = { &w[0], &w[1], &w[2] };
	struct bnc_pool *pool = bnc_pool_new(2);
	int ok = pool != NULL;

	test_random_q(q, (size_t)MAX_TOK * cols);
	for (i = 0; i < MAX_TOK; i++)
		sigma[i] = 1.0f;
	for (i = 0; i < 3; i++) {
		t[i] = test_alloc((size_t)rows[i] * cols);
		ref[i] = test_alloc((size_t)MAX_TOK * rows[i] * 4);
		out[i] = test_alloc((size_t)MAX_TOK * rows[i] * 4);
		test_random_t(t[i], rows[i], cols, 0);
		ok &= !test_make_layout(t[i], rows[i], cols, BNC_FMT_I2_S, BNC_LAYOUT_LUT3,
					TEST_SCALE, &w[i]);
		test_ref_matmul(t[i], rows[i], cols, q, MAX_TOK, ref[i]);
	}
	for (c = 0; ok && c < ARRAY_SIZE(ns); c++) {
		struct bnc_act x = { .n = ns[c], .k = cols, .q = q, .sigma = sigma };

		ok &= !bnc_pool_matmul_multi_i32(pool, bnc_isa_best(), ws, 3, &x, out);
		for (i = 0; i < 3; i++)
			ok &= !memcmp(ref[i], out[i], (size_t)ns[c] * rows[i] * 4);
		ok &= !bnc_pool_matmul_i32(pool, bnc_isa_best(), &w[0], &x, out[0], rows[0]);
		ok &= !memcmp(ref[0], out[0], (size_t)ns[c] * rows[0] * 4);
	}
	if (bnc_isa_best() == BNC_ISA_AVX512_VNNI) {
		struct bnc_act x = { .n = 1, .k = cols, .q = q };

		ok &= bnc_matmul_i32(BNC_ISA_AVX512_VNNI, &w[0], &x, 0, rows[0], 0, 1, out[0],
				     rows[0]) == -EINVAL;
	}
	tap_ok(ok, "LUT3 pool (%s): 3 weights in one dispatch, 1, 8 and 70 tokens",
	       bnc_isa_name(bnc_isa_best()));
	for (i = 0; i < 3; i++) {
		free(w[i].data);
		free(t[i]);
		free(ref[i]);
		free(out[i]);
	}
	free(q);
	bnc_pool_free(pool);
}

/* Every source format repacks to the same codes; LUT3 unpacks back. */
static void test_repack(void)
{
	u32 rows = 35, cols = 768, f, scale;
	size_t n = (size_t)rows * cols, esz = bnc_layout_size(BNC_LAYOUT_LUT3, rows, cols);
	s8 *t = test_alloc(n), *back = test_alloc(n);
	struct bnc_matrix w;
	int ok = esz == 2 * 86 * 64 + 64;

	test_random_t(t, rows, cols, 1);
	for (f = 0; f < ARRAY_SIZE(src_fmts); f++) {
		ok &= !test_make_layout(t, rows, cols, src_fmts[f], BNC_LAYOUT_LUT3, TEST_SCALE,
					&w);
		ok &= w.layout == BNC_LAYOUT_LUT3;
		memset(back, 9, n);
		ok &= !bnc_unpack(BNC_FMT_EXEC, w.data, esz, rows, cols, back, &scale);
		ok &= !memcmp(t, back, n) && scale == 0x3d4cc000u;
		free(w.data);
	}
	/* 144 x 640: LUT3 and R16 have the same size; the tail tells them apart */
	rows = 144;
	cols = 640;
	n = (size_t)rows * cols;
	esz = bnc_layout_size(BNC_LAYOUT_LUT3, rows, cols);
	ok &= esz == bnc_exec_size(rows, cols);
	free(t);
	free(back);
	t = test_alloc(n);
	back = test_alloc(n);
	test_random_t(t, rows, cols, 0);
	ok &= !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_LUT3, TEST_SCALE, &w);
	ok &= !bnc_unpack(BNC_FMT_EXEC, w.data, esz, rows, cols, back, &scale);
	ok &= !memcmp(t, back, n);
	free(w.data);
	tap_ok(ok, "LUT3: I2_S, TQ2_0, TQ1_0 repack to LUT3 and unpack back to the same codes");
	free(t);
	free(back);
}

static int load_lut3(const u8 *buf, u32 rows, u32 cols)
{
	size_t esz = bnc_layout_size(BNC_LAYOUT_LUT3, rows, cols);
	struct bnc_matrix w = { .rows = rows, .cols = cols };
	int ret;

	w.data = test_alloc(esz);
	ret = bnc_repack_layout(&w, BNC_LAYOUT_LUT3, BNC_FMT_EXEC, buf, esz);
	free(w.data);
	return ret;
}

/* A stored LUT3 buffer loads; corrupted ones do not. */
static void test_validate(void)
{
	u32 rows = 20, cols = 384; /* 43 chunks, the last with 6 columns of 9 */
	size_t esz = bnc_layout_size(BNC_LAYOUT_LUT3, rows, cols), last = 42 * 64;
	u8 *stored = test_alloc(esz), *p = test_alloc(esz);
	s8 *t = test_alloc((size_t)rows * cols);
	struct bnc_matrix w;
	int ok;

	test_random_t(t, rows, cols, 0);
	ok = !test_make_layout(t, rows, cols, BNC_FMT_I2_S, BNC_LAYOUT_LUT3, TEST_SCALE, &w);
	memcpy(stored, w.data, esz);
	ok &= !load_lut3(stored, rows, cols);
	tap_ok(ok, "LUT3: a stored buffer loads as BNC_FMT_EXEC");

	memcpy(p, stored, esz);
	p[0] = (p[0] & ~31) | 27; /* field 0 of row 0: pattern 27 */
	ok = load_lut3(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[64 + 3] |= 0x80; /* bit 15 of row 1, chunk 1 */
	ok &= load_lut3(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[last + 2 * 5 + 1] ^= 1 << 2; /* row 5, field 2 (columns past K): pattern 13 -> 12 */
	ok &= load_lut3(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[2 * 25] ^= 1; /* pad row 25: a weight 13 -> 12 (-1) */
	ok &= load_lut3(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[esz - 64 + 4] = BNC_LAYOUT_R16; /* tail's layout id */
	ok &= load_lut3(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[esz - 64 + 12]++; /* tail's cols */
	ok &= load_lut3(p, rows, cols) == -EINVAL;
	memcpy(p, stored, esz);
	p[esz - 1] = 1; /* reserved tail bytes */
	ok &= load_lut3(p, rows, cols) == -EINVAL;
	ok &= bnc_repack_layout(&w, BNC_LAYOUT_LUT3, BNC_FMT_EXEC, stored, esz - 64) == -EINVAL;
	ok &= bnc_repack_layout(&w, 4, BNC_FMT_TQ1_0, stored, esz) == -EINVAL;
	tap_ok(ok, "LUT3: corrupted buffers (pattern 27, bit 15, pad column, pad row, tail) "
		   "rejected");
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
	test_tables();
	test_repack();
	test_validate();
	test_each_isa("LUT3 ", test_kernels);
	test_pool();
	tap_plan(tap_n);
	return tap_exit();
}
