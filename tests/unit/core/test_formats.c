// SPDX-License-Identifier: GPL-2.0
/*
 * The packed formats: the hand-worked vectors read back weight by weight,
 * write/read round trips in every format, repacks that agree across
 * formats, canonical bytes written back identically, half conversions,
 * and malformed input rejected.
 */
#include <immintrin.h>

#include "tests/unit/core/core_test.h"
#include "tests/vectors/bnc_vectors.h"
#include "kmod/core/bnc_quant.h"

static const unsigned int all_fmts[] = { BNC_FMT_I2_S, BNC_FMT_TQ2_0, BNC_FMT_TQ1_0, BNC_FMT_EXEC };
static const char *const fmt_names[] = { "?", "I2_S", "TQ2_0", "TQ1_0", "EXEC" };

struct nz {
	u32 m, k;
	s8 t;
};

/* The non-zero weights the comments of bnc_vectors.h derive, by hand. */
static int vector_weights_ok(const struct bnc_vector *v, const s8 *t)
{
	static const struct nz i2s[] = {
		{ 0, 0, 1 },
		{ 0, 64, -1 },
		{ 0, 96, 1 },
	};
	static const struct nz tq2[] = {
		{ 0, 0, 1 },	{ 0, 64, -1 },	{ 0, 96, 1 },
		{ 0, 161, -1 }, { 0, 193, -1 }, { 0, 225, -1 },
	};
	static const struct nz tq1[] = {
		{ 0, 0, 1 },   { 0, 64, -1 }, { 0, 96, 1 },  { 0, 160, -1 },
		{ 0, 224, 1 }, { 0, 240, 1 }, { 0, 244, 1 }, { 0, 248, -1 },
	};
	const struct nz *list = v->format == 1 ? i2s : v->format == 2 ? tq2 : tq1;
	size_t len = v->format == 1 ? 3 : v->format == 2 ? 6 : 8, i;
	u32 m, k;

	for (m = 0; m < v->rows; m++) {
		for (k = 0; k < v->cols; k++) {
			s8 want = 0;

			/* whole rows the comments give as constant */
			if (v->format == 1 && m == 1)
				want = 1;
			else if (v->format == 1 && m == 2)
				want = -1;
			else if (v->format == 2 && m == 1)
				want = k == 101 ? 0 : 1;
			for (i = 0; i < len; i++)
				if (list[i].m == m && list[i].k == k)
					want = list[i].t;
			if (t[(size_t)m * v->cols + k] != want) {
				printf("# %s: w[%u][%u] = %d, want %d\n", v->name, m, k,
				       t[(size_t)m * v->cols + k], want);
				return 0;
			}
		}
	}
	return 1;
}

static void test_vectors(void)
{
	size_t i;

	for (i = 0; i < BNC_NR_VECTORS; i++) {
		const struct bnc_vector *v = &bnc_vectors[i];
		s8 *t = test_alloc((size_t)v->rows * v->cols);
		u8 *back = test_alloc(v->packed_bytes);
		u32 scale = 0;
		int ok;

		ok = bnc_packed_size(v->format, v->rows, v->cols) == v->packed_bytes;
		ok = ok && !bnc_unpack(v->format, v->packed, v->packed_bytes, v->rows, v->cols, t,
				       &scale);
		ok = ok && scale == v->scale_bits && vector_weights_ok(v, t);
		tap_ok(ok, "known answer %s: size, every weight and the scale", v->name);
		/* TQ1_0's zero row carries d = 0, which a writer cannot know */
		if (v->format != BNC_FMT_TQ1_0) {
			ok = !bnc_pack(v->format, t, v->rows, v->cols, scale, back,
				       v->packed_bytes);
			tap_ok(ok && !memcmp(back, v->packed, v->packed_bytes),
			       "known answer %s: written back byte for byte", v->name);
		} else {
			ok = !bnc_pack(v->format, t, v->rows, v->cols, scale, back,
				       v->packed_bytes);
			tap_ok(ok && !memcmp(back, v->packed, 54) &&
				       !memcmp(back + 54, v->packed + 54, 52),
			       "known answer %s: codes and scale written back byte for byte",
			       v->name);
		}
		free(t);
		free(back);
	}
}

/* write -> read is the identity in every format; all repack to the same. */
static void test_round_trips(void)
{
	static const u32 shapes[][2] = { { 1, 256 }, { 3, 512 }, { 17, 768 }, { 40, 2560 } };
	size_t s, f;

	for (f = 0; f < 4; f++) {
		unsigned int fmt = all_fmts[f];
		int ok = 1;

		for (s = 0; s < 4; s++) {
			u32 rows = shapes[s][0], cols = shapes[s][1], scale = 0, sb;
			size_t n = (size_t)rows * cols, bytes = bnc_packed_size(fmt, rows, cols);
			s8 *t = test_alloc(n), *back = test_alloc(n);
			u8 *p = test_alloc(bytes);

			/* scales TQ's fp16 holds exactly */
			sb = fmt == BNC_FMT_I2_S || fmt == BNC_FMT_EXEC ? 0x3d4ccccd : 0x3d4cc000;
			test_random_t(t, rows, cols, s % 2);
			ok &= bytes && !bnc_pack(fmt, t, rows, cols, sb, p, bytes);
			ok &= !bnc_unpack(fmt, p, bytes, rows, cols, back, &scale);
			ok &= !memcmp(t, back, n) && scale == sb;
			free(t);
			free(back);
			free(p);
		}
		tap_ok(ok, "%s: write then read gives the same codes and scale", fmt_names[fmt]);
	}
}

static void test_repack_agrees(void)
{
	u32 rows = 35, cols = 1280, sb = 0x3e800000;
	size_t n = (size_t)rows * cols, esz = bnc_exec_size(rows, cols), f;
	s8 *t = test_alloc(n), *back = test_alloc(n);
	u8 *first = test_alloc(esz);
	int ok = 1;

	test_random_t(t, rows, cols, 1);
	for (f = 0; f < 4; f++) {
		size_t bytes = bnc_packed_size(all_fmts[f], rows, cols);
		u8 *p = test_alloc(bytes);
		struct bnc_matrix w = { .rows = rows, .cols = cols, .data = test_alloc(esz) };
		u32 scale = 0;

		ok &= !bnc_pack(all_fmts[f], t, rows, cols, sb, p, bytes);
		ok &= !bnc_repack(&w, all_fmts[f], p, bytes);
		ok &= w.scale_bits == sb;
		if (f == 0)
			memcpy(first, w.data, esz);
		ok &= !memcmp(first, w.data, esz);
		/* the execution layout is itself a format: read it back */
		ok &= !bnc_unpack(BNC_FMT_EXEC, w.data, esz, rows, cols, back, &scale);
		ok &= !memcmp(back, t, n) && scale == sb;
		free(p);
		free(w.data);
	}
	tap_ok(ok, "I2_S, TQ2_0, TQ1_0 and EXEC repack to identical execution layouts");
	free(t);
	free(back);
	free(first);
}

static void test_bad(void)
{
	u32 rows = 2, cols = 256;
	size_t i2 = bnc_packed_size(BNC_FMT_I2_S, rows, cols);
	size_t tq2 = bnc_packed_size(BNC_FMT_TQ2_0, rows, cols);
	size_t esz = bnc_exec_size(rows, cols);
	s8 t[512] = { 0 }, back[512];
	u8 *p = test_alloc(esz + 64), *e = test_alloc(esz);
	struct bnc_matrix w = { .rows = rows, .cols = cols, .data = e };
	u32 scale;
	int ok;

	ok = bnc_packed_size(BNC_FMT_TQ2_0, 2, 384) == 0 &&
	     bnc_packed_size(BNC_FMT_TQ1_0, 2, 128) == 0 &&
	     bnc_packed_size(BNC_FMT_I2_S, 2, 384) == 2 * 384 / 4 + 32 &&
	     bnc_packed_size(99, 2, 256) == 0;
	tap_ok(ok, "TQ formats need K %% 256 == 0; unknown formats have no size");

	ok = !bnc_pack(BNC_FMT_I2_S, t, rows, cols, 0x3f800000, p, i2);
	ok &= bnc_repack(&w, BNC_FMT_I2_S, p, i2 - 1) == -EINVAL;
	ok &= bnc_repack(&w, BNC_FMT_I2_S, p, i2 + 1) == -EINVAL;
	ok &= bnc_repack(&w, BNC_FMT_I2_S, NULL, i2) == -EINVAL;
	ok &= bnc_repack(NULL, BNC_FMT_I2_S, p, i2) == -EINVAL;
	w.data = e + 8;
	ok &= bnc_repack(&w, BNC_FMT_I2_S, p, i2) == -EINVAL;
	w.data = e;
	w.cols = 200;
	ok &= bnc_repack(&w, BNC_FMT_I2_S, p, i2) == -EINVAL;
	w.cols = cols;
	ok &= bnc_unpack(BNC_FMT_I2_S, p, i2, rows, cols, NULL, &scale) == -EINVAL;
	tap_ok(ok, "wrong sizes, NULL or misaligned buffers, bad shape: -EINVAL");

	p[5] |= 0x03; /* a code 3 in I2_S */
	ok = bnc_repack(&w, BNC_FMT_I2_S, p, i2) == -EINVAL;
	ok &= bnc_unpack(BNC_FMT_I2_S, p, i2, rows, cols, back, &scale) == -EINVAL;
	ok &= !bnc_pack(BNC_FMT_TQ2_0, t, rows, cols, 0x3f800000, p, tq2);
	p[70] = 0xff; /* code 3 in TQ2_0's second block */
	ok &= bnc_repack(&w, BNC_FMT_TQ2_0, p, tq2) == -EINVAL;
	tap_ok(ok, "a 2-bit code 3 (not ternary) is rejected");

	t[0] = 1;
	t[256] = -1;
	ok = !bnc_pack(BNC_FMT_TQ2_0, t, rows, cols, 0x3f800000, p, tq2);
	ok &= !bnc_repack(&w, BNC_FMT_TQ2_0, p, tq2);
	p[66 + 64] ^= 0x01; /* second block's d differs */
	ok &= bnc_repack(&w, BNC_FMT_TQ2_0, p, tq2) == -EINVAL;
	t[2] = 2;
	ok &= bnc_pack(BNC_FMT_I2_S, t, rows, cols, 0, p, i2) == -EINVAL;
	tap_ok(ok, "TQ blocks with different scales and codes outside {-1,0,1}: -EINVAL");

	t[2] = 0;
	ok = !bnc_pack(BNC_FMT_EXEC, t, rows, cols, 0x3f800000, p, esz);
	ok &= !bnc_repack(&w, BNC_FMT_EXEC, p, esz);
	p[esz - 64] ^= 1; /* magic */
	ok &= bnc_repack(&w, BNC_FMT_EXEC, p, esz) == -EINVAL;
	p[esz - 64] ^= 1;
	p[esz - 64 + 8] ^= 1; /* rows */
	ok &= bnc_repack(&w, BNC_FMT_EXEC, p, esz) == -EINVAL;
	p[esz - 64 + 8] ^= 1;
	p[0] = 0xff; /* code 3 */
	ok &= bnc_repack(&w, BNC_FMT_EXEC, p, esz) == -EINVAL;
	p[0] = 0x55;
	p[4 * 5] = 0xaa; /* padding row 5 not zero */
	ok &= bnc_repack(&w, BNC_FMT_EXEC, p, esz) == -EINVAL;
	tap_ok(ok, "a stored execution layout with a bad header, code or padding: -EINVAL");
	free(p);
	free(e);
}

static int is_nan16(u16 h)
{
	return (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
}

static void test_half(void)
{
	u32 h, i, bad = 0;
	int ok;

	for (h = 0; h < 0x10000; h++) {
		u16 back = bnc_fp32_to_fp16(bnc_fp16_to_fp32(h));

		if (is_nan16(h) ? !is_nan16(back) : back != h)
			bad++;
	}
	tap_ok(!bad, "fp16 -> fp32 -> fp16 is the identity on all 65536 values (NaN stays NaN)");
	if (!__builtin_cpu_supports("f16c")) {
		tap_skip("no F16C on this CPU", "fp16 -> fp32 equals the F16C instruction");
		tap_skip("no F16C on this CPU", "fp32 -> fp16 equals F16C");
	} else {
		for (h = 0; h < 0x10000; h++)
			if (!is_nan16(h) && test_f32_bits(bnc_fp16_to_fp32(h)) !=
						    test_f32_bits(_cvtsh_ss((unsigned short)h)))
				bad++;
		tap_ok(!bad, "fp16 -> fp32 equals the F16C instruction on all values");
		for (i = 0; i < 2000000; i++) {
			u32 b = i < 1000 ? 0x33000000 + i * 0x1000 :
					   test_rand() ^ (test_rand() << 21);
			float f = test_f32_of(b);
			u16 mine = bnc_fp32_to_fp16(f),
			    hw = _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);

			if (is_nan16(hw) ? !is_nan16(mine) : mine != hw)
				bad++;
		}
		tap_ok(!bad, "fp32 -> fp16 (round to nearest even) equals F16C on 2M values");
	}
	ok = bnc_bf16_to_fp32(0x3f80) == 1.0f && bnc_bf16_to_fp32(0xc040) == -3.0f &&
	     test_f32_bits(bnc_bf16_to_fp32(0x8000)) == 0x80000000;
	tap_ok(ok, "bf16 -> fp32: 1, -3, -0");
}

int main(void)
{
	test_vectors();
	test_round_trips();
	test_repack_agrees();
	test_bad();
	test_half();
	tap_plan(tap_n);
	return tap_exit();
}
