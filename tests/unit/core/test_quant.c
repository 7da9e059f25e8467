// SPDX-License-Identifier: GPL-2.0
/*
 * Quantizers: the activation quantizer bit for bit against the definition
 * written with libm's rintf (what bitnet.cpp and PyTorch's round do), ties
 * included; absmean ternarization; the documented results for NaN/Inf.
 */
#include <math.h>

#include "tests/unit/core/core_test.h"
#include "kmod/core/bnc_quant.h"

/* The definition, straight from the formula. */
static void ref_act(const float *x, u32 k, s8 *q, float *sigma, s32 *sum)
{
	float amax = 0.0f, s;
	u32 i;

	for (i = 0; i < k; i++)
		amax = fmaxf(amax, fabsf(x[i]));
	s = 127.0f / fmaxf(amax, 1e-5f);
	*sum = 0;
	for (i = 0; i < k; i++) {
		float v = rintf(x[i] * s);

		q[i] = (s8)fminf(fmaxf(v, -128.0f), 127.0f);
		*sum += q[i];
	}
	*sigma = s;
}

static int same_act(const float *x, u32 k)
{
	s8 q1[4096], q2[4096];
	float s1, s2;
	s32 sum1, sum2;

	if (bnc_quant_act(x, k, q1, &s1, &sum1))
		return 0;
	ref_act(x, k, q2, &s2, &sum2);
	return !memcmp(q1, q2, k) && !memcmp(&s1, &s2, 4) && sum1 == sum2;
}

static float rnd_float(float scale)
{
	return ((float)(test_rand() % 2000001) / 1000000.0f - 1.0f) * scale;
}

static void test_act(void)
{
	static const float scales[] = { 1e-7f, 1e-3f, 1.0f, 37.0f, 1e6f };
	float x[4096];
	int ok = 1, r;
	u32 i, k;

	for (r = 0; r < 200; r++) {
		k = 1 + test_rand() % 4096;
		for (i = 0; i < k; i++)
			x[i] = rnd_float(scales[r % 5]);
		ok &= same_act(x, k);
	}
	tap_ok(ok, "activation quantizer equals the rintf definition on 200 random tokens");

	/* max|x| = 127 gives sigma = 1: halves round to even */
	k = 256;
	for (i = 0; i < k; i++)
		x[i] = (float)((int)i - 128) + 0.5f;
	x[0] = -127.0f;
	x[255] = 127.0f;
	ok = same_act(x, k);
	{
		s8 q[256];
		float s;
		s32 sum;

		bnc_quant_act(x, k, q, &s, &sum);
		ok &= s == 1.0f && q[1] == -126 && q[2] == -126 && q[3] == -124 && q[129] == 2;
	}
	tap_ok(ok, "ties round half to even (x.5 with sigma 1: -126.5 -> -126, 1.5 -> 2)");

	memset(x, 0, sizeof(x));
	{
		s8 q[64];
		float s;
		s32 sum;

		ok = !bnc_quant_act(x, 64, q, &s, &sum) && s == 127.0f / 1e-5f && sum == 0;
		x[3] = 1e-6f;
		x[4] = -1e-5f;
		ok &= !bnc_quant_act(x, 64, q, &s, &sum) && s == 127.0f / 1e-5f && q[3] == 13 &&
		      q[4] == -127 && same_act(x, 64);
	}
	tap_ok(ok, "all-zero and tiny tokens use the 1e-5 floor");
}

static void test_act_nonfinite(void)
{
	float x[8] = { 1.0f, NAN, -2.0f, INFINITY, 0.5f, -INFINITY, 2.0f, -NAN };
	float y[8] = { 1.0f, 0, -2.0f, 0, 0.5f, 0, 2.0f, 0 };
	s8 q[8], qy[8];
	float s, sy;
	s32 sum, sumy;
	int ok;

	ok = !bnc_quant_act(x, 8, q, &s, &sum) && !bnc_quant_act(y, 8, qy, &sy, &sumy);
	ok &= !memcmp(q, qy, 8) && s == sy && sum == sumy && q[1] == 0 && q[3] == 0;
	ok &= bnc_quant_act(NULL, 8, q, &s, &sum) == -EINVAL &&
	      bnc_quant_act(x, 0, q, &s, &sum) == -EINVAL &&
	      bnc_quant_act(x, 8, q, NULL, &sum) == -EINVAL && !bnc_quant_act(x, 8, q, &s, NULL);
	tap_ok(ok, "NaN and +-Inf quantize as 0 and do not count in max|x|; bad args -EINVAL");
}

static void test_rows(void)
{
	float x[3 * 300];
	s8 q[3 * 300], q1[300];
	float s[3], s1;
	s32 sum[3], sum1;
	int ok = 1, r;
	u32 i;

	for (i = 0; i < 900; i++)
		x[i] = rnd_float(3.0f);
	ok = !bnc_quant_act_rows(x, 3, 300, q, s, sum);
	for (r = 0; r < 3; r++) {
		bnc_quant_act(x + r * 300, 300, q1, &s1, &sum1);
		ok &= !memcmp(q1, q + r * 300, 300) && s1 == s[r] && sum1 == sum[r];
	}
	tap_ok(ok, "bnc_quant_act_rows quantizes each token on its own");
}

/*
 * The quantizer as it runs (AVX-512 where the CPU has it) against its
 * generic path: widths around the vector size, values of every scale, NaN,
 * infinities and signed zeros among them; bits of q, sigma and sum.
 */
static void test_vector_path(void)
{
	static const u32 widths[] = { 1, 15, 16, 17, 100, 2560, 6912 };
	static const float special[] = { NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 1e-7f, -3e38f };
	static const float scales[] = { 1.0f, 1e-7f, 1e30f, 1.0f };
	const u32 rows = 3, max_w = 6912;
	float *x = test_alloc((size_t)rows * max_w * sizeof(float)), sg[2][3];
	s8 *q[2] = { test_alloc((size_t)rows * max_w), test_alloc((size_t)rows * max_w) };
	s32 sum[2][3];
	u32 k, i, t, r, n;
	int same = 1;

	for (t = 0; t < 4; t++) {
		for (k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
			n = widths[k];
			for (i = 0; i < rows * n; i++)
				x[i] = rnd_float(8.0f) * scales[t];
			if (t == 3)
				for (i = 0; i < rows * n; i += 7)
					x[i] = special[i % 7];
			bnc_quant_act_rows(x, rows, n, q[0], sg[0], sum[0]);
			for (r = 0; r < rows; r++)
				bnc_quant_act_generic(x + (size_t)r * n, n, q[1] + (size_t)r * n,
						      &sg[1][r], &sum[1][r]);
			same &= !memcmp(q[0], q[1], (size_t)rows * n) &&
				!memcmp(sg[0], sg[1], sizeof(sg[0])) &&
				!memcmp(sum[0], sum[1], sizeof(sum[0]));
		}
	}
	tap_ok(same,
	       "the quantizer's %s path gives its generic path's bits (7 widths, 4 kinds of input)",
	       bnc_isa_supported() & (1u << BNC_ISA_AVX512_VNNI) ? "AVX-512" :
								   "generic (no AVX-512 here)");
	free(x);
	free(q[0]);
	free(q[1]);
}

static void test_ternarize(void)
{
	/* mean|w| = (0.5 + 1.5 + 0.1 + 2.0) / 4 = 1.025; w / 1.025 =
	 * 0.488 -> 0, -1.463 -> -1, 0.098 -> 0, 1.95 -> 1 (clipped) */
	float w[4] = { 0.5f, -1.5f, 0.1f, 2.0f };
	/* mean = 1; 0.5 and -0.5 tie: to even (0); 1.5 -> 2 -> clip 1 */
	float tie[4] = { 0.5f, -0.5f, 1.5f, -1.5f };
	float bad[4] = { NAN, 2.0f, INFINITY, -2.0f };
	float zero[3] = { 0, 0, 0 }, scale;
	s8 t[4];
	int ok;

	ok = !bnc_ternarize(w, 4, 0.0f, t, &scale) && scale == 1.025f && t[0] == 0 && t[1] == -1 &&
	     t[2] == 0 && t[3] == 1;
	tap_ok(ok, "absmean ternarization of a hand-worked tensor");
	ok = !bnc_ternarize(tie, 4, 0.0f, t, &scale) && scale == 1.0f && t[0] == 0 && t[1] == 0 &&
	     t[2] == 1 && t[3] == -1;
	ok &= !bnc_ternarize(zero, 3, 0.0f, t, &scale) && scale == 0.0f && t[0] == 0 && t[1] == 0 &&
	      t[2] == 0;
	ok &= !bnc_ternarize(zero, 3, 1e-5f, t, &scale) && t[0] == 0;
	tap_ok(ok, "ternarization ties round to even; an all-zero tensor gives zeros, scale 0");
	/* non-finite count as 0: mean = 4 / 4 = 1 */
	ok = !bnc_ternarize(bad, 4, 0.0f, t, &scale) && scale == 1.0f && t[0] == 0 && t[1] == 1 &&
	     t[2] == 0 && t[3] == -1;
	ok &= bnc_ternarize(w, 4, -1.0f, t, &scale) == -EINVAL &&
	      bnc_ternarize(w, 4, NAN, t, &scale) == -EINVAL &&
	      bnc_ternarize(w, 0, 0.0f, t, &scale) == -EINVAL &&
	      bnc_ternarize(NULL, 4, 0.0f, t, &scale) == -EINVAL;
	tap_ok(ok, "ternarization: NaN/Inf weights count as 0; bad eps or args -EINVAL");
}

int main(void)
{
	test_act();
	test_act_nonfinite();
	test_rows();
	test_vector_path();
	test_ternarize();
	tap_plan(tap_n);
	return tap_exit();
}
