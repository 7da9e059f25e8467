// SPDX-License-Identifier: GPL-2.0
/*
 * The compact output head: each row of the (usually tied) embedding as int8
 * with one float scale, half the bytes of F16 per decoded token. On AVX-512
 * VNNI the input is quantized per token too (like a BitLinear's) and rows
 * are int8 x int8 dot products; elsewhere the input stays float.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#include "daemon/engine/kernels/ops.h"

/* Row @r to int8 with its scale and sum; @row is a float copy, or NULL. */
static void q8_row(struct bn_q8rows *h, const struct bn_ftensor *t, uint32_t r, const float *row)
{
	int8_t *q = h->q + (size_t)r * h->cols;
	float amax = 0, inv, v;
	uint32_t i;

	for (i = 0; i < t->cols; i++) {
		v = fabsf(row ? row[i] : bn_ftensor_at(t, r, i));
		if (v > amax)
			amax = v;
	}
	inv = amax > 0 ? 127.0f / amax : 0;
	h->sum[r] = 0;
	for (i = 0; i < t->cols; i++) {
		q[i] = (int8_t)rintf((row ? row[i] : bn_ftensor_at(t, r, i)) * inv);
		h->sum[r] += q[i];
	}
	h->scale[r] = amax / 127.0f;
}

void bn_q8rows_fill(struct bn_q8rows *h, const struct bn_ftensor *t, uint32_t r0, uint32_t r1)
{
	float *row = malloc(t->cols * sizeof(float));
	uint32_t r;

	for (r = r0; r < r1; r++) {
		if (row)
			bn_ftensor_row(t, r, row);
		q8_row(h, t, r, row);
	}
	free(row);
}

__attribute__((target("avx512f"))) static float dot_q8_avx512(const int8_t *q, const float *b,
							      uint32_t n)
{
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	uint32_t i = 0;
	float s;

	for (; i + 32 <= n; i += 32) {
		__m512i w0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + i)));
		__m512i w1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + i + 16)));

		acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(w0), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(w1), _mm512_loadu_ps(b + i + 16), acc1);
	}
	s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += q[i] * b[i];
	return s;
}

static float dot_q8_scalar(const int8_t *q, const float *b, uint32_t n)
{
	float s = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		s += q[i] * b[i];
	return s;
}

void bn_q8rows_matmul(const struct bn_q8rows *h, uint32_t r0, uint32_t r1, const float *x,
		      uint32_t n_x, float *out, size_t out_stride)
{
	bool avx512 = bn_simd() >= BN_SIMD_AVX512;
	uint32_t r, n;

	for (r = r0; r < r1; r++) {
		const int8_t *q = h->q + (size_t)r * h->cols;

		for (n = 0; n < n_x; n++) {
			const float *xn = x + (size_t)n * h->cols;
			float d = avx512 ? dot_q8_avx512(q, xn, h->cols) :
					   dot_q8_scalar(q, xn, h->cols);

			out[n * out_stride + r] = d * h->scale[r];
		}
	}
}

bool bn_q8rows_have_vnni(void)
{
	return bn_simd() == BN_SIMD_AVX512_VNNI;
}

/*
 * Rows follow each other in memory and a decode step streams all of them
 * from DRAM: prefetching this far ahead (into the next rows) measured ~15%
 * faster than the hardware prefetcher alone, at 1 and 2 threads. Into L2,
 * not L1: 32 KiB of L1 cannot hold the 8 rows in use and the 8 being
 * fetched (one input: 1.4x faster than prefetcht0 on the EPYC here).
 */
#define HEAD_PREFETCH 4096

/*
 * Eight rows an eighth of the range apart at once: one core reads DRAM
 * faster from several streams than from one (about 20% here), and each
 * load of the input serves all of them.
 */
#define HEAD_STREAMS 8

/*
 * Inputs per pass over the rows: a batched step computes up to three tokens
 * from each load of a weight vector, so the loads per vpdpbusd drop from ~2
 * to ~0.5 and the head runs near the VNNI rate instead of the load ports'.
 * 8 rows x 3 inputs take 24 of the 32 vector registers; 3 measured ~7%
 * faster than 2 for 8 inputs.
 */
#define HEAD_INPUTS 3

/* Inputs per call of dot_rows(): its accumulators live on the stack. */
#define HEAD_ROWS_MAX 16

/*
 * 6-8 inputs: two streams at a time over whole rows, all inputs in one pass
 * (16 accumulators, 8 inputs and 2 weight vectors in registers, 0.625 loads
 * per vpdpbusd). The eight streams' passes of three inputs over column
 * blocks spend about a quarter of their time spilling the accumulators: 8
 * inputs on rows in L1 took 1.11-1.15 TSC ticks per vpdpbusd, a pair
 * 0.84-0.86; on the bench's rows in L2, 16% less time; from DRAM, 6-13%
 * less at 6-8 inputs. DRAM streams a little worse to the pairs (3-6% at 4
 * inputs, where compute hides behind it anyway), so 4-5 inputs stay with
 * the eight streams; two pair passes over column blocks for 9-16 lost to
 * them too. Over 8 inputs, up to 8 go by pairs and the rest (3 or more:
 * fewer are load-bound; 8+1 and 8+2 lost) by the eight streams over the
 * same rows, now in L2: 3-11% less time than all by the eight streams on
 * rows in L2, 0-5% from DRAM (alternated, the machine shared).
 */
#define HEAD_PAIR_MIN 6
#define HEAD_PAIR_INPUTS 8

/*
 * A pair prefetches the eight streams' rows HEAD_AHEAD steps ahead, two
 * lines per 64 columns, through the streams in turn line by line: DRAM
 * serves all eight at a steady rate while two are computed. Without them
 * 4-8 inputs took 1.5-2x longer; 1, 2 and 4 steps ahead measured alike.
 * For 1 input this form cost ~8% against HEAD_PREFETCH's (likely its
 * address arithmetic: fewer iterations, so fewer prefetches, in flight
 * while a load waits for DRAM).
 */
#define HEAD_AHEAD 2

struct head_pf {
	const int8_t *row[HEAD_STREAMS]; /* the streams' rows HEAD_AHEAD steps ahead */
	uint32_t next;			 /* line next / HEAD_STREAMS of stream next % 8 */
};

/*
 * vpdpbusd with its accumulator tied: gcc 12 copies every accumulator of the
 * intrinsic's form to another register each iteration (two moves per
 * product) and folds one load per input into it.
 */
__attribute__((target("avx512f"), always_inline)) static inline __m512i dpbusd(__m512i acc,
									       __m512i x, __m512i w)
{
	__asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
	return acc;
}

/*
 * Accumulators of tokens t < @nt and streams s < @ns at
 * accm[t * HEAD_STREAMS + s], kept in memory between calls: a call covers
 * columns [@i0, @i1) (multiples of 64) and adds to them, or starts them at
 * zero when @first.
 * Prefetches: a pair's from @pf; eight streams' every 64 columns when
 * @every (one pass over the columns), or the columns of the @phase-th of
 * every @np steps of 64, so that @np passes over the same columns fetch
 * each line once between them and DRAM streams through all of them.
 */
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) static inline void
dotn_u8s8(const uint8_t *x, size_t x_stride, const int8_t *const *w, uint32_t i0, uint32_t i1,
	  uint32_t nt, uint32_t ns, bool every, uint32_t np, uint32_t phase, bool first,
	  __m512i *accm, struct head_pf *pf)
{
	__m512i acc[HEAD_INPUTS * HEAD_STREAMS], xv[HEAD_PAIR_INPUTS], wv;
	uint32_t i, t, s, g = pf->next, wait = phase;

	for (t = 0; t < nt; t++)
		for (s = 0; s < ns; s++)
			acc[t * ns + s] = first ? _mm512_setzero_si512() :
						  accm[t * HEAD_STREAMS + s];
	for (i = i0; i < i1; i += 64) {
		for (t = 0; t < nt; t++)
			xv[t] = _mm512_loadu_si512(x + t * x_stride + i);
		for (s = 0; s < ns; s++) {
			if (ns < HEAD_STREAMS) {
				__builtin_prefetch(
					pf->row[g % HEAD_STREAMS] + g / HEAD_STREAMS * 64, 0, 2);
				g++;
			} else if (every || !wait) {
				__builtin_prefetch(w[s] + i + HEAD_PREFETCH, 0, 2);
			}
			wv = _mm512_loadu_si512(w[s] + i);
			for (t = 0; t < nt; t++)
				acc[t * ns + s] = dpbusd(acc[t * ns + s], xv[t], wv);
		}
		if (!every)
			wait = wait ? wait - 1 : np - 1;
	}
	for (t = 0; t < nt; t++)
		for (s = 0; s < ns; s++)
			accm[t * HEAD_STREAMS + s] = acc[t * ns + s];
	pf->next = g;
}

/*
 * The kernel's shapes, each compiled with its loops unrolled: eight streams
 * x 1-3 inputs in one pass or several, a pair x 6-8 inputs in one.
 */
#define HEAD_SHAPE(ns_, nt_, every_)                                                          \
	do {                                                                                  \
		if (ns == (ns_) && nt == (nt_) && (np == 1) == (every_)) {                    \
			dotn_u8s8(x, x_stride, w, i0, i1, nt_, ns_, every_, np, phase, first, \
				  accm, pf);                                                  \
			return;                                                               \
		}                                                                             \
	} while (0)

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
dotn_u8s8_vnni(const uint8_t *x, size_t x_stride, const int8_t *const *w, uint32_t i0, uint32_t i1,
	       uint32_t nt, uint32_t ns, uint32_t np, uint32_t phase, bool first, __m512i *accm,
	       struct head_pf *pf)
{
	HEAD_SHAPE(8, 3, true);
	HEAD_SHAPE(8, 3, false);
	HEAD_SHAPE(8, 2, true);
	HEAD_SHAPE(8, 2, false);
	HEAD_SHAPE(8, 1, true);
	HEAD_SHAPE(8, 1, false);
	HEAD_SHAPE(2, 6, true);
	HEAD_SHAPE(2, 7, true);
	HEAD_SHAPE(2, 8, true);
}

/*
 * dot[t * HEAD_STREAMS + s] = dot(x + t * x_stride, w[s]) for @n_x inputs,
 * w[s] + k * @cols being stream s's row k steps later. Up to 8 inputs go
 * by pairs of streams (HEAD_PAIR_MIN), the rest in passes of HEAD_INPUTS.
 * With only the first pass prefetching and whole rows per pass, DRAM idled
 * through the later ones (4 inputs took 1.18x, 8 1.40x the time of one);
 * so passes go over HEAD_BLOCK columns at a time, the accumulators kept
 * on the stack in between (8 inputs 1.15x of one; 640 measured best, 512
 * and 1280 gained little, 256 lost). When the passes share the prefetches
 * (dotn_u8s8()), the time of 4 inputs went from 1.28x to 1.11x of one and
 * of 8 from 1.54x to 1.43x (both kernels alternated in one run); whole
 * rows still lost (1.16-1.23x the time at 4-8 inputs), 960 and 1280 did
 * not gain. 2 threads on the EPYC here.
 */
#define HEAD_BLOCK 640

/*
 * Lane k of the result = the sum of the lanes of v[k], for 16 accumulators
 * at once: each level adds pairs of vectors folded into each other, halving
 * their count (15 adds and 30 shuffles, where 16 _mm512_reduce_add_epi32
 * take 4 of each and an extract apiece). The levels leave the sums in the
 * order of slot[], so the inputs go in by it. The int32 sums are exact in
 * any order. With head_q8_out2(): 3-5% less time at 4-16 inputs on rows
 * in cache (alternated with the scalar reductions and epilogue, same loops).
 */
__attribute__((target("avx512f"), always_inline)) static inline __m512i reduce16(const __m512i *v)
{
	static const int slot[16] = { 0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15 };
	__m512i a[16];
	int k;

	/* 256-bit halves: v[slot[k]]'s in lanes 0-7, v[slot[k + 8]]'s above */
	for (k = 0; k < 8; k++)
		a[k] = _mm512_add_epi32(_mm512_shuffle_i64x2(v[slot[k]], v[slot[k + 8]], 0x44),
					_mm512_shuffle_i64x2(v[slot[k]], v[slot[k + 8]], 0xee));
	for (k = 0; k < 4; k++) /* 128-bit quarters */
		a[k] = _mm512_add_epi32(_mm512_shuffle_i64x2(a[k], a[k + 4], 0x88),
					_mm512_shuffle_i64x2(a[k], a[k + 4], 0xdd));
	for (k = 0; k < 2; k++) /* 64-bit pairs */
		a[k] = _mm512_add_epi32(_mm512_unpacklo_epi64(a[k], a[k + 2]),
					_mm512_unpackhi_epi64(a[k], a[k + 2]));
	return _mm512_add_epi32(
		_mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a[0]),
						      _mm512_castsi512_ps(a[1]), 0x88)),
		_mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a[0]),
						      _mm512_castsi512_ps(a[1]), 0xdd)));
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
dot_rows(const uint8_t *x, size_t x_stride, const int8_t *const *w, uint32_t cols, uint32_t n_x,
	 int32_t *dot)
{
	__m512i accm[HEAD_ROWS_MAX * HEAD_STREAMS];
	uint32_t whole = cols & ~63u, n0, rest, step, np, i0, i1, n, nt, j, s;
	struct head_pf pf = { .next = 0 };

	/* over 8 inputs, at least HEAD_INPUTS left for the eight streams */
	n0 = n_x;
	if (n0 > HEAD_PAIR_INPUTS)
		n0 = n_x - HEAD_INPUTS < HEAD_PAIR_INPUTS ? n_x - HEAD_INPUTS : HEAD_PAIR_INPUTS;
	if (n_x >= HEAD_PAIR_MIN) {
		for (s = 0; s < HEAD_STREAMS; s++)
			pf.row[s] = w[s] + (size_t)HEAD_AHEAD * cols;
		for (s = 0; whole && s < HEAD_STREAMS; s += 2)
			dotn_u8s8_vnni(x, x_stride, w + s, 0, whole, n0, 2, 1, 0, true, accm + s,
				       &pf);
	} else {
		n0 = 0;
	}
	rest = n_x - n0;
	step = rest > HEAD_INPUTS ? HEAD_BLOCK : whole;
	np = (rest + HEAD_INPUTS - 1) / HEAD_INPUTS;
	for (i0 = 0; rest && i0 < whole; i0 += step) {
		i1 = whole - i0 < step ? whole : i0 + step;
		for (n = n0; n < n_x; n += nt) {
			nt = n_x - n < HEAD_INPUTS ? n_x - n : HEAD_INPUTS;
			dotn_u8s8_vnni(x + (size_t)n * x_stride, x_stride, w, i0, i1, nt,
				       HEAD_STREAMS, np, (n - n0) / HEAD_INPUTS, i0 == 0,
				       accm + n * HEAD_STREAMS, &pf);
		}
	}
	/*
	 * Inputs in pairs, dot[n * HEAD_STREAMS + s] for s < 16. An odd last
	 * one (the 1-token decode) alone: paired with zeros, it measured 2-8%
	 * slower.
	 */
	for (n = 0; whole && n + 1 < n_x; n += 2)
		_mm512_storeu_si512(dot + n * HEAD_STREAMS, reduce16(accm + n * HEAD_STREAMS));
	for (; n < n_x; n++)
		for (s = 0; s < HEAD_STREAMS; s++)
			dot[n * HEAD_STREAMS + s] =
				whole ? _mm512_reduce_add_epi32(accm[n * HEAD_STREAMS + s]) : 0;
	for (j = whole; j < cols; j++)
		for (n = 0; n < n_x; n++)
			for (s = 0; s < HEAD_STREAMS; s++)
				dot[n * HEAD_STREAMS + s] += x[n * x_stride + j] * w[s][j];
}

/* The definition of a logit, for an input without a pair. */
static void head_q8_out(const struct bn_q8rows *h, uint32_t r, int32_t dot, float sigma, float *out)
{
	*out = (float)(dot - 128 * h->sum[r]) * h->scale[r] / sigma;
}

/*
 * head_q8_out() of a pair of inputs (@sigma[0] and [1]) on the streams'
 * rows, 16 lanes at once from their dots as dot_rows() pairs them: the same
 * correctly rounded operations (the same bits), one division instead of 16.
 * @sum and @scale: the rows' in lanes s and s + 8.
 */
__attribute__((target("avx512f"))) static void head_q8_out2(const int32_t *dot, __m512i sum,
							    __m512 scale, const float *sigma,
							    const uint32_t *row, uint32_t keep,
							    float *out, size_t out_stride)
{
	__m512 sig =
		_mm512_mask_blend_ps(0xff00, _mm512_set1_ps(sigma[0]), _mm512_set1_ps(sigma[1]));
	__m512i d = _mm512_sub_epi32(_mm512_loadu_si512(dot), _mm512_slli_epi32(sum, 7));
	float v[2 * HEAD_STREAMS];
	uint32_t k, s;

	_mm512_storeu_ps(v, _mm512_div_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d), scale), sig));
	for (k = 0; k < 2; k++)
		for (s = 0; s < keep; s++)
			out[k * out_stride + row[s]] = v[k * HEAD_STREAMS + s];
}

/* @v[row[s]] in lanes s and s + 8 (a load of a just-written array would stall) */
#define HEAD_PAIR_LANES(set, v, row)                                                     \
	set(v[row[7]], v[row[6]], v[row[5]], v[row[4]], v[row[3]], v[row[2]], v[row[1]], \
	    v[row[0]], v[row[7]], v[row[6]], v[row[5]], v[row[4]], v[row[3]], v[row[2]], \
	    v[row[1]], v[row[0]])

__attribute__((target("avx512f"))) void bn_q8rows_matmul_q8(const struct bn_q8rows *h, uint32_t r0,
							    uint32_t r1, const uint8_t *xq,
							    const float *sigma, uint32_t n_x,
							    float *out, size_t out_stride)
{
	uint32_t part = (r1 - r0) / HEAD_STREAMS, left = (r1 - r0) % HEAD_STREAMS;
	uint32_t steps = part + (left != 0), i, n, t, s, keep, row[HEAD_STREAMS];
	int32_t dot[HEAD_ROWS_MAX * HEAD_STREAMS];
	const int8_t *w[HEAD_STREAMS];
	__m512i sum = _mm512_setzero_si512();
	__m512 scale = _mm512_setzero_ps();

	for (i = 0; i < steps; i++) {
		/* the last step takes the rows left over, the last one several times */
		keep = i < part ? HEAD_STREAMS : left;
		for (s = 0; s < HEAD_STREAMS; s++) {
			row[s] = i < part ? r0 + s * part + i :
					    r0 + HEAD_STREAMS * part + (s < left ? s : left - 1);
			w[s] = h->q + (size_t)row[s] * h->cols;
		}
		if (n_x > 1) {
			sum = HEAD_PAIR_LANES(_mm512_set_epi32, h->sum, row);
			scale = HEAD_PAIR_LANES(_mm512_set_ps, h->scale, row);
		}
		for (n = 0; n < n_x; n += HEAD_ROWS_MAX) {
			uint32_t nn = n_x - n < HEAD_ROWS_MAX ? n_x - n : HEAD_ROWS_MAX;

			dot_rows(xq + (size_t)n * h->cols, h->cols, w, h->cols, nn, dot);
			for (t = 0; t + 1 < nn; t += 2)
				head_q8_out2(dot + t * HEAD_STREAMS, sum, scale, sigma + n + t, row,
					     keep, out + (n + t) * out_stride, out_stride);
			for (; t < nn; t++)
				for (s = 0; s < keep; s++)
					head_q8_out(h, row[s], dot[t * HEAD_STREAMS + s],
						    sigma[n + t],
						    out + (n + t) * out_stride + row[s]);
		}
	}
}
