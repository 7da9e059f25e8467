// SPDX-License-Identifier: GPL-2.0
/*
 * Float operations of the forward pass. The hot loops (dot products against
 * F16/F32 rows of the output head) have AVX-512 and AVX2 versions chosen at
 * run time; everything else is plain C that the compiler vectorises.
 */
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/ops.h"
#include "daemon/engine/kernels/quant_k.h"
#include "kmod/core/bnc_quant.h"

int bn_ftensor_type_ok(uint32_t type)
{
	return type == GGUF_T_F32 || type == GGUF_T_F16 || type == GGUF_T_BF16;
}

int bn_ftensor_rows_type_ok(uint32_t type)
{
	return bn_ftensor_type_ok(type) || bn_qblock_type_ok(type);
}

__attribute__((target("avx512f"))) static float dot_f32_avx512(const float *a, const float *b,
							       uint32_t n)
{
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	uint32_t i = 0;
	float s;

	for (; i + 32 <= n; i += 32) {
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16),
				       acc1);
	}
	s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

__attribute__((target("avx512f"))) static float dot_f16_avx512(const uint16_t *h, const float *b,
							       uint32_t n)
{
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	uint32_t i = 0;
	float s;

	for (; i + 32 <= n; i += 32) {
		__m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i)));
		__m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i + 16)));

		acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(b + i + 16), acc1);
	}
	s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += bnc_fp16_to_fp32(h[i]) * b[i];
	return s;
}

__attribute__((target("avx2,fma,f16c"))) static float hsum256(__m256 v)
{
	__m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
	return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma,f16c"))) static float dot_f16_avx2(const uint16_t *h,
								   const float *b, uint32_t n)
{
	__m256 acc = _mm256_setzero_ps();
	uint32_t i = 0;
	float s;

	for (; i + 8 <= n; i += 8) {
		__m256 w = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i)));

		acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(b + i), acc);
	}
	s = hsum256(acc);
	for (; i < n; i++)
		s += bnc_fp16_to_fp32(h[i]) * b[i];
	return s;
}

__attribute__((target("avx2,fma,f16c"))) static float dot_f32_avx2(const float *a, const float *b,
								   uint32_t n)
{
	__m256 acc = _mm256_setzero_ps();
	uint32_t i = 0;
	float s;

	for (; i + 8 <= n; i += 8)
		acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
	s = hsum256(acc);
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static float dot_f32_scalar(const float *a, const float *b, uint32_t n)
{
	float s = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static float dot_f16_scalar(const uint16_t *h, const float *b, uint32_t n)
{
	float s = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		s += bnc_fp16_to_fp32(h[i]) * b[i];
	return s;
}

/* Probed once; relaxed atomics because pool threads may ask first, at once. */
enum bn_simd bn_simd(void)
{
	static enum bn_simd cached;
	enum bn_simd level = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (!level) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vnni"))
			level = BN_SIMD_AVX512_VNNI;
		else if (__builtin_cpu_supports("avx512f"))
			level = BN_SIMD_AVX512;
		else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
			level = BN_SIMD_AVX2;
		else
			level = BN_SIMD_SCALAR;
		__atomic_store_n(&cached, level, __ATOMIC_RELAXED);
	}
	return level;
}

float bn_dot_f32(const float *a, const float *b, uint32_t n)
{
	enum bn_simd level = bn_simd();

	if (level >= BN_SIMD_AVX512)
		return dot_f32_avx512(a, b, n);
	if (level == BN_SIMD_AVX2)
		return dot_f32_avx2(a, b, n);
	return dot_f32_scalar(a, b, n);
}

static float dot_f16(const uint16_t *h, const float *b, uint32_t n)
{
	enum bn_simd level = bn_simd();

	if (level >= BN_SIMD_AVX512)
		return dot_f16_avx512(h, b, n);
	if (level == BN_SIMD_AVX2)
		return dot_f16_avx2(h, b, n);
	return dot_f16_scalar(h, b, n);
}

__attribute__((target("avx512f"))) static void f16_to_f32_avx512(const uint16_t *h, float *out,
								 uint32_t n)
{
	uint32_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(out + i,
				 _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
	bnc_fp16_to_fp32_row(h + i, out + i, n - i);
}

static uint32_t argmax_scalar(const float *x, uint32_t n)
{
	uint32_t i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/*
 * The scalar scan's answer in two vector passes: the largest value (a NaN
 * input keeps the running max: vmaxps returns its second operand), then the
 * first index holding it.
 */
__attribute__((target("avx512f"))) static uint32_t argmax_avx512(const float *x, uint32_t n)
{
	__m512 m = _mm512_set1_ps(-INFINITY), b;
	uint32_t i, k;
	float best;

	if (isnan(x[0]))
		return 0;
	for (i = 0; i + 16 <= n; i += 16)
		m = _mm512_max_ps(_mm512_loadu_ps(x + i), m);
	best = _mm512_reduce_max_ps(m);
	for (; i < n; i++)
		if (x[i] > best)
			best = x[i];
	b = _mm512_set1_ps(best);
	for (i = 0; i + 16 <= n; i += 16) {
		k = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), b, _CMP_EQ_OQ);
		if (k)
			return i + (uint32_t)__builtin_ctz(k);
	}
	for (; i < n; i++)
		if (x[i] == best)
			return i;
	return 0;
}

uint32_t bn_argmax(const float *x, uint32_t n)
{
	return bn_simd() >= BN_SIMD_AVX512 && n ? argmax_avx512(x, n) : argmax_scalar(x, n);
}

void bn_ftensor_row(const struct bn_ftensor *t, uint32_t r, float *out)
{
	const uint8_t *row = (const uint8_t *)t->data + (size_t)r * t->row_bytes;

	if (t->type == GGUF_T_F32)
		memcpy(out, row, t->cols * sizeof(float));
	else if (t->type == GGUF_T_F16 && bn_simd() >= BN_SIMD_AVX512)
		f16_to_f32_avx512((const uint16_t *)row, out, t->cols);
	else if (t->type == GGUF_T_F16)
		bnc_fp16_to_fp32_row((const uint16_t *)row, out, t->cols);
	else if (bn_qblock_type_ok(t->type))
		bn_qblock_row(t->type, row, t->cols, out);
	else
		bnc_bf16_to_fp32_row((const uint16_t *)row, out, t->cols);
}

/*
 * Four dot products of one row against four vectors, the row read once.
 * Same accumulation order as dot_f32_avx512(), so results do not depend on
 * how many tokens share a call.
 */
__attribute__((target("avx512f"))) static void
dot4_f32_avx512(const float *w, const float *x, size_t stride, uint32_t n, float *out)
{
	__m512 a[4][2];
	uint32_t i = 0, j;

	for (j = 0; j < 4; j++)
		a[j][0] = a[j][1] = _mm512_setzero_ps();
	for (; i + 32 <= n; i += 32) {
		__m512 v0 = _mm512_loadu_ps(w + i), v1 = _mm512_loadu_ps(w + i + 16);

		for (j = 0; j < 4; j++) {
			const float *xj = x + j * stride + i;

			a[j][0] = _mm512_fmadd_ps(v0, _mm512_loadu_ps(xj), a[j][0]);
			a[j][1] = _mm512_fmadd_ps(v1, _mm512_loadu_ps(xj + 16), a[j][1]);
		}
	}
	for (j = 0; j < 4; j++) {
		uint32_t k;

		out[j] = _mm512_reduce_add_ps(_mm512_add_ps(a[j][0], a[j][1]));
		for (k = i; k < n; k++)
			out[j] += w[k] * x[j * stride + k];
	}
}

/* One value of @t: the fallback when no row buffer could be allocated. */
float bn_ftensor_at(const struct bn_ftensor *t, uint32_t r, uint32_t i)
{
	const uint8_t *row = (const uint8_t *)t->data + (size_t)r * t->row_bytes;
	uint16_t h;
	float f;

	if (t->type == GGUF_T_F32) {
		memcpy(&f, row + 4 * (size_t)i, 4);
		return f;
	}
	if (bn_qblock_type_ok(t->type))
		return bn_qblock_at(t->type, row, i);
	memcpy(&h, row + 2 * (size_t)i, 2);
	return t->type == GGUF_T_F16 ? bnc_fp16_to_fp32(h) : bnc_bf16_to_fp32(h);
}

static void matmul_slow(const struct bn_ftensor *t, uint32_t r0, uint32_t r1, const float *x,
			uint32_t n_x, float *out, size_t out_stride)
{
	uint32_t r, n, i;

	for (r = r0; r < r1; r++) {
		for (n = 0; n < n_x; n++) {
			float acc = 0;

			for (i = 0; i < t->cols; i++)
				acc += bn_ftensor_at(t, r, i) * x[(size_t)n * t->cols + i];
			out[n * out_stride + r] = acc;
		}
	}
}

#define ROW_BLOCK 16 /* rows converted once and reused for every token */

void bn_ftensor_matmul(const struct bn_ftensor *t, uint32_t r0, uint32_t r1, const float *x,
		       uint32_t n_x, float *out, size_t out_stride)
{
	const uint8_t *base = t->data;
	const float *w[ROW_BLOCK];
	float *buf = NULL;
	uint32_t rb, r, n, nb, j;

	if (t->type == GGUF_T_F16 && n_x <= 2) {
		for (r = r0; r < r1; r++) {
			const uint16_t *h = (const uint16_t *)(base + (size_t)r * t->row_bytes);

			for (n = 0; n < n_x; n++)
				out[n * out_stride + r] =
					dot_f16(h, x + (size_t)n * t->cols, t->cols);
		}
		return;
	}
	if (t->type != GGUF_T_F32) {
		buf = malloc((size_t)ROW_BLOCK * t->cols * sizeof(float));
		if (!buf) {
			matmul_slow(t, r0, r1, x, n_x, out, out_stride);
			return;
		}
	}
	for (rb = r0; rb < r1; rb += ROW_BLOCK) {
		nb = r1 - rb < ROW_BLOCK ? r1 - rb : ROW_BLOCK;
		for (j = 0; j < nb; j++) {
			if (buf) {
				bn_ftensor_row(t, rb + j, buf + (size_t)j * t->cols);
				w[j] = buf + (size_t)j * t->cols;
			} else {
				w[j] = (const float *)(base + (size_t)(rb + j) * t->row_bytes);
			}
		}
		n = 0;
		if (bn_simd() >= BN_SIMD_AVX512) {
			for (; n + 4 <= n_x; n += 4) {
				for (j = 0; j < nb; j++) {
					float o[4];

					dot4_f32_avx512(w[j], x + (size_t)n * t->cols, t->cols,
							t->cols, o);
					out[n * out_stride + rb + j] = o[0];
					out[(n + 1) * out_stride + rb + j] = o[1];
					out[(n + 2) * out_stride + rb + j] = o[2];
					out[(n + 3) * out_stride + rb + j] = o[3];
				}
			}
		}
		for (; n < n_x; n++)
			for (j = 0; j < nb; j++)
				out[n * out_stride + rb + j] =
					bn_dot_f32(w[j], x + (size_t)n * t->cols, t->cols);
	}
	free(buf);
}

/*
 * Element-wise loops in SSE-sized generic vectors: -O2 does not vectorise
 * loops that need a scalar tail. Same operations in the same order as the
 * tails, so results do not depend on the split.
 */
typedef float bn_v4f __attribute__((vector_size(16)));
typedef int32_t bn_v4i __attribute__((vector_size(16)));

static bn_v4f load4(const float *p)
{
	bn_v4f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void store4(float *p, bn_v4f v)
{
	memcpy(p, &v, sizeof(v));
}

void bn_add_f32(float *y, const float *x, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i += 4)
		store4(y + i, load4(y + i) + load4(x + i));
	for (; i < n; i++)
		y[i] += x[i];
}

void bn_relu_sqr_mul(float *g, const float *u, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		bn_v4f v = load4(g + i);
		bn_v4i bits;

		memcpy(&bits, &v, sizeof(bits));
		bits &= v > 0; /* g > 0 ? g : +0.0f, NaN included */
		memcpy(&v, &bits, sizeof(v));
		store4(g + i, v * v * load4(u + i));
	}
	for (; i < n; i++) {
		float v = g[i] > 0 ? g[i] : 0;

		g[i] = v * v * u[i];
	}
}

/* o = x * scale * w, 16 at a time (the same two roundings per value). */
__attribute__((target("avx512f"))) static void
scale_mul_avx512(const float *x, float scale, const float *w, uint32_t n, float *o)
{
	__m512 s = _mm512_set1_ps(scale);
	uint32_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(o + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), s),
						      _mm512_loadu_ps(w + i)));
	for (; i < n; i++)
		o[i] = x[i] * scale * w[i];
}

enum pre_op {
	PRE_NONE,
	PRE_ADD,      /* x += pre */
	PRE_RELU_SQR, /* x = max(x, 0)^2 * pre, as bn_relu_sqr_mul() */
};

/*
 * The first pass of rmsnorm_rows() below, its elementwise step and squares
 * 16 at a time (products rounded alone: no add follows them in a vector),
 * the sums still one chain of adds per row in index order.
 */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
sumsq_rows_avx512(float *x, const float *pre, const int op, const int R, uint32_t n, float *ss)
{
	float sq[BN_RMSNORM_ROWS][16];
	__mmask16 live;
	uint32_t i, j, cnt;
	int r;

	for (i = 0; i < n; i += 16) {
		cnt = n - i < 16 ? n - i : 16;
		live = (__mmask16)((1u << cnt) - 1);
		for (r = 0; r < R; r++) {
			float *xr = x + (size_t)r * n + i;
			__m512 v = _mm512_maskz_loadu_ps(live, xr), p;

			if (op != PRE_NONE)
				p = _mm512_maskz_loadu_ps(live, pre + (size_t)r * n + i);
			if (op == PRE_ADD)
				v = _mm512_add_ps(v, p);
			if (op == PRE_RELU_SQR) {
				/* max() returns its second operand for NaN and for -0 */
				v = _mm512_max_ps(v, _mm512_setzero_ps());
				v = _mm512_mul_ps(_mm512_mul_ps(v, v), p);
			}
			if (op != PRE_NONE)
				_mm512_mask_storeu_ps(xr, live, v);
			_mm512_storeu_ps(sq[r], _mm512_mul_ps(v, v));
		}
		for (j = 0; j < cnt; j++)
			for (r = 0; r < R; r++)
				ss[r] += sq[r][j];
	}
}

__attribute__((target("avx512f"))) static void sumsq_avx512(float *x, const float *pre, int op,
							    int R, uint32_t n, float *ss)
{
#define SUMSQ_OP(o)                                             \
	do {                                                    \
		if (R == 4)                                     \
			sumsq_rows_avx512(x, pre, o, 4, n, ss); \
		else if (R == 3)                                \
			sumsq_rows_avx512(x, pre, o, 3, n, ss); \
		else if (R == 2)                                \
			sumsq_rows_avx512(x, pre, o, 2, n, ss); \
		else                                            \
			sumsq_rows_avx512(x, pre, o, 1, n, ss); \
	} while (0)
	if (op == PRE_ADD)
		SUMSQ_OP(PRE_ADD);
	else if (op == PRE_RELU_SQR)
		SUMSQ_OP(PRE_RELU_SQR);
	else
		SUMSQ_OP(PRE_NONE);
#undef SUMSQ_OP
}

/*
 * @R rows of @n at once. Each row's sum of squares is one chain of dependent
 * adds in index order (the results must not depend on how rows are
 * batched), so a row alone waits on the add latency; R chains side by side
 * fill those waits, and so does the elementwise step @op that comes before
 * the norm (its result stored back into @x).
 */
static inline __attribute__((always_inline)) void rmsnorm_rows(float *x, const float *pre,
							       const int op, const float *w,
							       const int R, uint32_t n, float eps,
							       float *out)
{
	float ss[BN_RMSNORM_ROWS] = { 0 }, scale, v;
	bool avx512 = bn_simd() >= BN_SIMD_AVX512;
	size_t at;
	uint32_t i;
	int r;

	/*
	 * One row alone waits on its adds either way and went faster scalar,
	 * but for the gate, whose scalar max() compiled to a branch on the sign
	 */
	if (avx512 && (R > 1 || op == PRE_RELU_SQR))
		sumsq_avx512(x, pre, op, R, n, ss);
	for (i = 0; i < n && !(avx512 && (R > 1 || op == PRE_RELU_SQR)); i++) {
		for (r = 0; r < R; r++) {
			at = (size_t)r * n + i;
			v = x[at];
			if (op == PRE_ADD) {
				v = v + pre[at];
				x[at] = v;
			} else if (op == PRE_RELU_SQR) {
				v = v > 0 ? v : 0;
				v = v * v * pre[at];
				x[at] = v;
			}
			ss[r] += v * v;
		}
	}
	for (r = 0; r < R; r++) {
		const float *xr = x + (size_t)r * n;
		float *o = out + (size_t)r * n;

		scale = 1.0f / sqrtf(ss[r] / (float)n + eps);
		if (avx512) {
			scale_mul_avx512(xr, scale, w, n, o);
			continue;
		}
		for (i = 0; i + 4 <= n; i += 4)
			store4(o + i, load4(xr + i) * scale * load4(w + i));
		for (; i < n; i++)
			o[i] = xr[i] * scale * w[i];
	}
}

static inline __attribute__((always_inline)) void rmsnorm_rows_op(float *x, const float *pre,
								  const int op, const float *w,
								  uint32_t rows, uint32_t n,
								  float eps, float *out)
{
	uint32_t k;

	for (; rows; rows -= k) {
		k = rows < BN_RMSNORM_ROWS ? rows : BN_RMSNORM_ROWS;
		if (k == 4)
			rmsnorm_rows(x, pre, op, w, 4, n, eps, out);
		else if (k == 3)
			rmsnorm_rows(x, pre, op, w, 3, n, eps, out);
		else if (k == 2)
			rmsnorm_rows(x, pre, op, w, 2, n, eps, out);
		else
			rmsnorm_rows(x, pre, op, w, 1, n, eps, out);
		x += (size_t)k * n;
		pre += op != PRE_NONE ? (size_t)k * n : 0;
		out += (size_t)k * n;
	}
}

/* (x is only read: no step before the norm.) */
void bn_rmsnorm_rows(const float *x, const float *w, uint32_t rows, uint32_t n, float eps,
		     float *out)
{
	rmsnorm_rows_op((float *)x, NULL, PRE_NONE, w, rows, n, eps, out);
}

void bn_add_rmsnorm_rows(float *x, const float *add, const float *w, uint32_t rows, uint32_t n,
			 float eps, float *out)
{
	rmsnorm_rows_op(x, add, PRE_ADD, w, rows, n, eps, out);
}

void bn_relu_sqr_rmsnorm_rows(float *g, const float *u, const float *w, uint32_t rows, uint32_t n,
			      float eps, float *out)
{
	rmsnorm_rows_op(g, u, PRE_RELU_SQR, w, rows, n, eps, out);
}

void bn_rmsnorm(const float *x, const float *w, uint32_t n, float eps, float *out)
{
	rmsnorm_rows((float *)x, NULL, PRE_NONE, w, 1, n, eps, out);
}

void bn_rope_angles(uint32_t pos, const float *inv_freq, uint32_t half, float *cs, float *sn)
{
	uint32_t i;

	for (i = 0; i < half; i++) {
		float th = (float)pos * inv_freq[i];

		cs[i] = cosf(th);
		sn[i] = sinf(th);
	}
}

/*
 * A product rounded on its own: _mm512_mul_ps() is a plain '*' to GCC, which
 * fuses it with the add that follows into a multiply-add in AVX-512 code
 * (this file is not built with -ffp-contract=off), and that changes bits.
 */
#define MUL_RN(a, b) _mm512_mul_round_ps(a, b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* Half-split pairs 16 at a time: the same products and sums as below. */
__attribute__((target("avx512f"))) static void rope_neox_avx512(float *z, uint32_t half,
								const float *cs, const float *sn)
{
	uint32_t i;

	for (i = 0; i < half; i += 16) {
		__m512 a = _mm512_loadu_ps(z + i), b = _mm512_loadu_ps(z + half + i);
		__m512 c = _mm512_loadu_ps(cs + i), s = _mm512_loadu_ps(sn + i);

		_mm512_storeu_ps(z + i, _mm512_sub_ps(MUL_RN(a, c), MUL_RN(b, s)));
		_mm512_storeu_ps(z + half + i, _mm512_add_ps(MUL_RN(a, s), MUL_RN(b, c)));
	}
}

void bn_rope(float *z, uint32_t rope_dim, const float *cs, const float *sn, int neox)
{
	uint32_t half = rope_dim / 2, i;

	if (neox && half % 16 == 0 && bn_simd() >= BN_SIMD_AVX512) {
		rope_neox_avx512(z, half, cs, sn);
		return;
	}

	for (i = 0; i < half; i++) {
		uint32_t ia = neox ? i : 2 * i;
		uint32_t ib = neox ? i + half : 2 * i + 1;
		float a = z[ia], b = z[ib];

		z[ia] = a * cs[i] - b * sn[i];
		z[ib] = a * sn[i] + b * cs[i];
	}
}
