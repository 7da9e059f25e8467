// SPDX-License-Identifier: GPL-2.0
/*
 * AVX-512 kernel on the LUT3 layout (bnc_internal.h) and its table build.
 * Word vector v of a chunk holds 32 rows' pattern indices of 3 column
 * triples; vpermw(v >> 5s, table) picks each row's sum over triple s for
 * one token: 96 multiply-adds per vpermw, where vpdpbusd does 64, and
 * vpermw issues once a cycle like vpdpbusd. Sums of one word are at most
 * 3 * 384 in magnitude, so up to BNC_LUT3_WIDEN words add in s16 (vpaddw,
 * twice a cycle) before they are widened into the s32 outputs: exact, the
 * same integers as R16. The kernel needs only AVX512BW (every VNNI CPU has
 * it). Integer SIMD only; the kernel build runs it inside
 * kernel_fpu_begin().
 */
#include "bnc_internal.h"
#include <immintrin.h>

#define BNC_LUT3_WIDEN		28	/* 28 * 3 * 384 = 32256 < 2^15 */
/*
 * Words per pass of the batch walk: one widen per pass. Its tables (42 KiB
 * for 8 tokens) are past L1, yet 1 thread, 4-16 tokens, alternating with
 * 14 words (half in L1, twice the flushes) in one process: the model's
 * linears 3-6% faster.
 */
#define BNC_LUT3_KGROUP		BNC_LUT3_WIDEN
#define BNC_LUT3_PREFETCH	4096	/* as R16's decode: into L2, 4 KiB ahead */
/*
 * Batches of 16+ tokens on K up to this: each pass's words for all groups
 * of 8 tokens at once (weights read once), else group after group. 2
 * threads, 16 and 64 tokens, alternating (load average 2.6-3.1): 6912 x
 * 2560 8-10% faster at once. 2560 x 6912 was 30-45% slower at once (its 16
 * tokens' tables, 2.4 MB, are past L2) while the words were prefetched a
 * pass ahead; with the next span's words prefetched (bnc_lut3_walk()) it
 * is faster at once: 16 tokens, alternating in one process, time over
 * R16's 0.93-0.96 -> 0.89-0.91 at 1 thread, 1.32-1.35 -> 0.98-1.08 at 2
 * (load average 2-2.6).
 */
#define BNC_LUT3_SHARED_MAX_COLS 8192

/*
 * One load of a table into a register for all the row blocks that use it,
 * and vpaddw into the accumulator in place: gcc 12 otherwise folds the load
 * into every vpermw and copies accumulators around the adds (measured in a
 * standalone prototype: 38-64 multiply-adds a cycle without these, ~75
 * with).
 */
static __always_inline __m512i bnc_lut3_load(const s16 *p)
{
	__m512i v;

	asm("vmovdqa64 %1, %0" : "=v"(v) : "m"(*(const __m512i *)p));
	return v;
}

static __always_inline void bnc_lut3_add(__m512i *acc, __m512i v)
{
	asm("vpaddw %1, %0, %0" : "+v"(*acc) : "v"(v));
}

/* The tile a kernel call computes, for one group of tokens. */
struct bnc_lut3_tile {
	const u8 *data;
	size_t bb;		/* bytes per row block */
	const s16 *lut;		/* the group's first token's table of triple 0 */
	size_t gstride;		/* s16 from one triple's tables to the next's */
	u32 chunks;
	u32 row_begin, row_end;
	s32 *out;		/* the group's first token, row row_begin */
	size_t out_stride;
};

/* Rows of block @b inside [row_begin, row_end), as a lane mask. */
static __always_inline u32 bnc_lut3_mask(const struct bnc_lut3_tile *tl, u32 b)
{
	u32 base = b * BNC_LUT3_ROWS;
	u32 lo = tl->row_begin > base ? tl->row_begin - base : 0;
	u32 hi = tl->row_end - base < BNC_LUT3_ROWS ? tl->row_end - base : BNC_LUT3_ROWS;

	return (u32)((1ull << hi) - (1ull << lo));
}

/*
 * 32 s16 sums widened and stored (@first: the tile's first words) or added
 * into o[0..31], lanes outside @mask untouched (o may start before the
 * tile: a tile may begin mid-block, and masked lanes are never accessed).
 */
static __always_inline void bnc_lut3_flush(__m512i acc, s32 *o, u32 mask, int first)
{
	__m512i lo = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc));
	__m512i hi = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc, 1));
	const __mmask16 ml = (__mmask16)mask, mh = (__mmask16)(mask >> 16);

	if (!first) {
		lo = _mm512_add_epi32(lo, _mm512_maskz_loadu_epi32(ml, o));
		hi = _mm512_add_epi32(hi, _mm512_maskz_loadu_epi32(mh, o + 16));
	}
	_mm512_mask_storeu_epi32(o, ml, lo);
	_mm512_mask_storeu_epi32(o + 16, mh, hi);
}

/*
 * @R row blocks from @b for @T tokens over words [j0, j1): each table is
 * loaded once and used by the R blocks, each shifted index vector by the T
 * tokens. The R * T accumulators @acc, R words @v and R indices @ix stay
 * in registers (the caller sizes them). Each word's lines are prefetched
 * @prefetch bytes ahead.
 */
static __always_inline void bnc_lut3_span(const struct bnc_lut3_tile *tl, u32 b, u32 j0, u32 j1,
					  const int R, const int T, size_t prefetch, __m512i *acc,
					  __m512i *v, __m512i *ix)
{
	const u8 *wb = tl->data + b * tl->bb;
	s32 *o = tl->out + ((long)b * BNC_LUT3_ROWS - (long)tl->row_begin);
	u32 j, jj, e, mask[4];
	__m512i tab;
	int r, t, s;

#pragma GCC unroll 4
	for (r = 0; r < R; r++)
		mask[r] = bnc_lut3_mask(tl, b + r);
	for (j = j0; j < j1; j = e) {
		e = j + BNC_LUT3_WIDEN < j1 ? j + BNC_LUT3_WIDEN : j1;
#pragma GCC unroll 32
		for (r = 0; r < R * T; r++)
			acc[r] = _mm512_setzero_si512();
		for (jj = j; jj < e; jj++) {
#pragma GCC unroll 4
			for (r = 0; r < R; r++) {
				const u8 *p = wb + r * tl->bb + (size_t)jj * BNC_CHUNK_BYTES;

				v[r] = _mm512_load_si512(p);
				__builtin_prefetch(p + prefetch, 0, 2);
			}
#pragma GCC unroll 3
			for (s = 0; s < 3; s++) {
				const s16 *tg = tl->lut + (size_t)(3 * jj + s) * tl->gstride;

#pragma GCC unroll 4
				for (r = 0; r < R; r++)
					ix[r] = s ? _mm512_srli_epi16(v[r], 5 * s) : v[r];
#pragma GCC unroll 8
				for (t = 0; t < T; t++) {
					tab = bnc_lut3_load(tg + t * BNC_LUT3_LANES);
#pragma GCC unroll 4
					for (r = 0; r < R; r++)
						bnc_lut3_add(&acc[r * T + t],
							     _mm512_permutexvar_epi16(ix[r], tab));
				}
			}
		}
#pragma GCC unroll 4
		for (r = 0; r < R; r++)
#pragma GCC unroll 8
			for (t = 0; t < T; t++)
				bnc_lut3_flush(acc[r * T + t],
					       o + t * tl->out_stride + r * BNC_LUT3_ROWS, mask[r],
					       j == 0);
	}
}

/*
 * One function per (R, T) used, each with arrays of its own size: all
 * inlined into one kernel made a stack frame of 4 KiB in the kernel build.
 */
typedef void (*bnc_lut3_span_fn)(const struct bnc_lut3_tile *tl, u32 b, u32 j0, u32 j1,
				 size_t prefetch);

#define BNC_LUT3_SPAN(r, t)                                                                     \
	static noinline void bnc_lut3_span_##r##x##t(const struct bnc_lut3_tile *tl, u32 b,     \
						     u32 j0, u32 j1, size_t prefetch)           \
	{                                                                                       \
		__m512i acc[(r) * (t)], v[r], ix[r];                                            \
												\
		bnc_lut3_span(tl, b, j0, j1, r, t, prefetch, acc, v, ix);                       \
	}

BNC_LUT3_SPAN(3, 8)
BNC_LUT3_SPAN(1, 8)
BNC_LUT3_SPAN(3, 7)
BNC_LUT3_SPAN(1, 7)
BNC_LUT3_SPAN(3, 6)
BNC_LUT3_SPAN(1, 6)
BNC_LUT3_SPAN(3, 5)
BNC_LUT3_SPAN(1, 5)
BNC_LUT3_SPAN(4, 4)
BNC_LUT3_SPAN(1, 4)
BNC_LUT3_SPAN(4, 2)
BNC_LUT3_SPAN(1, 2)
BNC_LUT3_SPAN(4, 1)
BNC_LUT3_SPAN(1, 1)

/*
 * Tokens of one span width: @groups groups of @T from token @tok, @span for
 * @R blocks at a time, @span1 for the last ones.
 */
struct bnc_lut3_part {
	bnc_lut3_span_fn span, span1;
	u32 R, T, groups, tok;
};

/* Blocks [b0, b1) of @pt over words [j0, j1), @prefetch as the spans'. */
static void bnc_lut3_part_run(const struct bnc_lut3_tile *tl, const struct bnc_lut3_part *pt,
			      u32 b0, u32 b1, u32 j0, u32 j1, size_t prefetch)
{
	struct bnc_lut3_tile tg = *tl;
	u32 b, g, r, t;

	for (b = b0; b < b1; b += r) {
		r = b + pt->R <= b1 ? pt->R : 1;
		/* the blocks' words of the pass, in L1, for every group */
		for (g = 0; g < pt->groups; g++) {
			t = pt->tok + g * pt->T;
			tg.lut = tl->lut + (size_t)t * BNC_LUT3_LANES;
			tg.out = tl->out + (size_t)t * tl->out_stride;
			(r > 1 ? pt->span : pt->span1)(&tg, b, j0, j1,
							prefetch ? prefetch : r * tl->bb);
		}
	}
}

/*
 * Blocks [b0, b1) for @np parts of the tokens. Batches (@kouter) go over K
 * in passes of BNC_LUT3_KGROUP words, each over all the blocks and parts:
 * the pass's tables (28 words x 3 triples x 8 tokens x 64 bytes = 42 KiB)
 * stay in L1 and L2 for every block instead of all of K's tables streaming
 * through L2 per block, and the pass's words are read from DRAM once for
 * all the parts (a walk per part read them again for the 1-3 tokens past
 * the last 4: 1 thread, alternating in one process, LUT3 time over R16's
 * 0.973 -> 0.953 at 5 tokens, 0.938 -> 0.915 at 7).
 * Decode-sized parts are memory-bound: each block group once through all
 * of K, several DRAM streams prefetched as in R16.
 */
static void bnc_lut3_walk(const struct bnc_lut3_tile *tl, u32 b0, u32 b1,
			  const struct bnc_lut3_part *pt, u32 np, int kouter)
{
	u32 j0, j1, i;

	if (!kouter) {
		for (i = 0; i < np; i++)
			bnc_lut3_part_run(tl, &pt[i], b0, b1, 0, tl->chunks, BNC_LUT3_PREFETCH);
		return;
	}
	for (j0 = 0; j0 < tl->chunks; j0 = j1) {
		j1 = j0 + BNC_LUT3_KGROUP < tl->chunks ? j0 + BNC_LUT3_KGROUP : tl->chunks;
		/*
		 * Prefetch 0: the next span's words of this pass, into L2 (past
		 * the tile's last block they are wasted, not harmful). The next
		 * pass's words of the same block instead, a pass ahead, were
		 * evicted again (a pass's words, 387 KiB at 6912 rows, all of
		 * K's tables and the outputs are past L2). 1 thread, alternating
		 * in one process, model linears: 3-5% faster at 4, 8 and 16
		 * tokens; 6 or 12 blocks ahead no better than 3.
		 */
		for (i = 0; i < np; i++)
			bnc_lut3_part_run(tl, &pt[i], b0, b1, j0, j1, 0);
	}
}

/*
 * 5-7 tokens past the last 8: one part, 3 blocks at a time, not parts of 4,
 * 2 and 1 token (each reloading and shifting the words for fewer vpermw).
 * 1 thread, alternating in one process, LUT3 time over R16's: 0.921 ->
 * 0.876 at 5 tokens, 0.930 -> 0.871 at 7, 0.879 -> 0.862 at 13; 17 KiB
 * more code.
 */
static const bnc_lut3_span_fn bnc_lut3_rest[3][2] = {
	{ bnc_lut3_span_3x5, bnc_lut3_span_1x5 },
	{ bnc_lut3_span_3x6, bnc_lut3_span_1x6 },
	{ bnc_lut3_span_3x7, bnc_lut3_span_1x7 },
};

void bnc_kernel_lut3_avx512(const struct bnc_matrix *w, const s16 *lut, u32 ntab, u32 ntok,
			    u32 row_begin, u32 row_end, s32 *out, size_t out_stride)
{
	struct bnc_lut3_tile tl = {
		.data = w->data,
		.lut = lut,
		.bb = bnc_lut3_block_bytes(w->cols),
		.gstride = (size_t)ntab * BNC_LUT3_LANES,
		.chunks = bnc_lut3_chunks(w->cols),
		.row_begin = row_begin,
		.row_end = row_end,
		.out = out,
		.out_stride = out_stride,
	};
	u32 b0 = row_begin / BNC_LUT3_ROWS, b1 = bnc_lut3_blocks(row_end), n = ntok / 8 * 8;
	u32 per = w->cols <= BNC_LUT3_SHARED_MAX_COLS ? n / 8 : 1, g = 0, np, tok;
	struct bnc_lut3_part pt[4];

	/* groups of 8 tokens: all in each walk, or one walk each; the rest in the last */
	do {
		np = 0;
		if (g < n / 8)
			pt[np++] = (struct bnc_lut3_part){ bnc_lut3_span_3x8, bnc_lut3_span_1x8,
							   3, 8, per, g * 8 };
		g += per;
		if (g >= n / 8) {
			tok = n;
			if (ntok - tok >= 5) {
				pt[np++] = (struct bnc_lut3_part){ bnc_lut3_rest[ntok - tok - 5][0],
								   bnc_lut3_rest[ntok - tok - 5][1],
								   3, ntok - tok, 1, tok };
				tok = ntok;
			}
			if (tok + 4 <= ntok) {
				pt[np++] = (struct bnc_lut3_part){ bnc_lut3_span_4x4,
								   bnc_lut3_span_1x4, 4, 4, 1, tok };
				tok += 4;
			}
			if (tok + 2 <= ntok) {
				pt[np++] = (struct bnc_lut3_part){ bnc_lut3_span_4x2,
								   bnc_lut3_span_1x2, 4, 2, 1, tok };
				tok += 2;
			}
			if (tok < ntok)
				pt[np++] = (struct bnc_lut3_part){ bnc_lut3_span_4x1,
								   bnc_lut3_span_1x1, 4, 1, 1, tok };
		}
		bnc_lut3_walk(&tl, b0, b1, pt, np, ntok >= 4);
	} while (g < n / 8);
}

/*
 * Tables are built from 10 triples of a token at a time: its 30
 * activations as s16 (lanes 30, 31 zero) and their negations are the two
 * sources of vpermt2w, whose index picks per pattern lane x, -x or 0 for
 * one digit; three picks added make a table. 8 tokens, K 128-6912: 1.2-1.5
 * ns a table, where broadcasts and vpmullw took 1.6-1.7.
 */
#define BNC_LUT3_BUILD_TRIPLES	10
#define BNC_LUT3_ZERO_LANE	30

/* Digit d of pattern p, less 1: the weight of column d of the triple. */
#define BNC_LUT3_W(p, d)	((p) / ((d) == 0 ? 1 : (d) == 1 ? 3 : 9) % 3 - 1)
/* The source lane of pattern p, digit d, triple i of the 10. */
#define BNC_LUT3_PICK(p, d, i)                                                  \
	((p) >= 27 || !BNC_LUT3_W(p, d) ? BNC_LUT3_ZERO_LANE :                  \
	 3 * (i) + (d) + (BNC_LUT3_W(p, d) < 0 ? BNC_LUT3_LANES : 0))
#define BNC_LUT3_PICK4(p, d, i)                                                 \
	{ BNC_LUT3_PICK(p, d, i), BNC_LUT3_PICK((p) + 1, d, i),                 \
	  BNC_LUT3_PICK((p) + 2, d, i), BNC_LUT3_PICK((p) + 3, d, i) }
#define BNC_LUT3_PICKS(d, i)                                                    \
	{ BNC_LUT3_PICK4(0, d, i), BNC_LUT3_PICK4(4, d, i), BNC_LUT3_PICK4(8, d, i), \
	  BNC_LUT3_PICK4(12, d, i), BNC_LUT3_PICK4(16, d, i), BNC_LUT3_PICK4(20, d, i), \
	  BNC_LUT3_PICK4(24, d, i), BNC_LUT3_PICK4(28, d, i) }
#define BNC_LUT3_TRIPLE(i)                                                      \
	{ BNC_LUT3_PICKS(0, i), BNC_LUT3_PICKS(1, i), BNC_LUT3_PICKS(2, i) }

/* [triple][digit][lanes in fours] */
static const s16 bnc_lut3_picks[BNC_LUT3_BUILD_TRIPLES][3][BNC_LUT3_LANES / 4][4] = {
	BNC_LUT3_TRIPLE(0), BNC_LUT3_TRIPLE(1), BNC_LUT3_TRIPLE(2), BNC_LUT3_TRIPLE(3),
	BNC_LUT3_TRIPLE(4), BNC_LUT3_TRIPLE(5), BNC_LUT3_TRIPLE(6), BNC_LUT3_TRIPLE(7),
	BNC_LUT3_TRIPLE(8), BNC_LUT3_TRIPLE(9),
};

void bnc_lut3_build_avx512(const struct bnc_act *x, u32 g_begin, u32 g_end, s16 *lut)
{
	u32 g0, gn, i, t, k = x->k, col, have;
	__m512i xs, xn, tab;
	__mmask32 m;
	int d;

	for (g0 = g_begin; g0 < g_end; g0 += gn) {
		gn = g_end - g0 < BNC_LUT3_BUILD_TRIPLES ? g_end - g0 : BNC_LUT3_BUILD_TRIPLES;
		col = 3 * g0;
		have = k > col ? k - col : 0;
		have = have < 3 * gn ? have : 3 * gn;
		m = (__mmask32)((1ull << have) - 1);
		for (t = 0; t < x->n; t++) {
			xs = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, x->q + (size_t)t * k + col));
			xn = _mm512_sub_epi16(_mm512_setzero_si512(), xs);
			for (i = 0; i < gn; i++) {
				tab = _mm512_setzero_si512();
#pragma GCC unroll 3
				for (d = 0; d < 3; d++)
					tab = _mm512_add_epi16(tab, _mm512_permutex2var_epi16(
						xs, _mm512_loadu_si512(bnc_lut3_picks[i][d]), xn));
				_mm512_store_si512(lut + ((size_t)(g0 + i) * x->n + t) * BNC_LUT3_LANES,
						   tab);
			}
		}
	}
}
