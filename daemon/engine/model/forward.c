// SPDX-License-Identifier: GPL-2.0
/*
 * The batched forward pass. The tokens of every item are flattened into one
 * list of rows (each knows its sequence and position) and run through the
 * layers in slices of at most SLICE_TOKENS rows, so that every ternary matmul
 * sees many tokens at once (prefill) or every session's decode step at once
 * (continuous batching). Slices keep the scratch memory bounded whatever the
 * prompt length; causality holds because a slice's K/V are written to the
 * cache before its attention reads positions 0..pos.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/kernels/head_q6k.h"
#include "daemon/engine/model/model_internal.h"
#include "daemon/engine/model/pool.h"
#include "kmod/core/bnc_quant.h"

#define SLICE_TOKENS 256
#define HEAD_ROWS 32  /* rows per pass over the output head */
#define HEAD_TASKS 64 /* vocab chunks per pass */

struct bn_row {
	struct bn_seq *seq;
	uint32_t pos;
	float *logits;	/* where this row's logits go, or NULL */
	float *logits2; /* a second copy (last row of an all_logits item) */
};

struct bn_scratch {
	uint32_t tokens; /* rows the buffers hold */
	uint32_t workers;
	size_t score_cap; /* floats per worker in scores: a K/V group's */
	float *x, *h, *q, *k, *v, *att, *gate, *up, *out;
	int8_t *q8;
	float *sigma;
	int32_t *sum;
	float *scores;
	float *rope;	  /* per row: cos then sin of its position's angles */
	const float *xin; /* float input of the next matmul (dense linears) */
	bool x_behind;	  /* out is still to be added to x (the residual) */
	float *head_in, *head_out;
	uint8_t *head_xq; /* head_in as u8 (q + 128), for the VNNI head */
	float head_sigma[HEAD_ROWS];
	struct bn_row *rows;
};

void bn_scratch_free(struct bn_scratch *s)
{
	if (!s)
		return;
	free(s->x);
	free(s->h);
	free(s->q);
	free(s->k);
	free(s->v);
	free(s->att);
	free(s->gate);
	free(s->up);
	free(s->out);
	free(s->q8);
	free(s->sigma);
	free(s->sum);
	free(s->scores);
	free(s->rope);
	free(s->head_in);
	free(s->head_out);
	free(s->head_xq);
	free(s->rows);
	free(s);
}

static struct bn_scratch *scratch_get(struct bn_model *m, uint32_t max_ctx)
{
	struct bn_scratch *s = m->scratch;
	const struct bn_model_info *in = &m->info;
	size_t t = SLICE_TOKENS, qd = (size_t)in->n_head * m->head_dim;
	size_t kvd = (size_t)in->n_head_kv * m->head_dim;
	size_t wide = in->n_ff > qd ? in->n_ff : qd;
	uint32_t workers = bn_pool_threads(m->pool);
	size_t cap = (size_t)max_ctx * (in->n_head / in->n_head_kv);

	if (wide < in->n_embd)
		wide = in->n_embd;
	if (s && s->score_cap >= cap)
		return s;
	if (s) {
		free(s->scores);
		s->scores = malloc(workers * cap * sizeof(float));
		s->score_cap = cap;
		return s->scores ? s : NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->tokens = SLICE_TOKENS;
	s->workers = workers;
	s->score_cap = cap;
	s->x = malloc(t * in->n_embd * sizeof(float));
	s->h = malloc(t * wide * sizeof(float));
	s->q = malloc(t * qd * sizeof(float));
	s->k = malloc(t * kvd * sizeof(float));
	s->v = malloc(t * kvd * sizeof(float));
	s->att = malloc(t * qd * sizeof(float));
	s->gate = malloc(t * in->n_ff * sizeof(float));
	s->up = malloc(t * in->n_ff * sizeof(float));
	s->out = malloc(t * in->n_embd * sizeof(float));
	s->q8 = malloc(t * wide);
	s->sigma = malloc(t * sizeof(float));
	s->sum = malloc(t * sizeof(int32_t));
	s->scores = malloc(workers * cap * sizeof(float));
	s->head_in = malloc((size_t)HEAD_ROWS * in->n_embd * sizeof(float));
	s->head_out = malloc((size_t)HEAD_ROWS * in->n_vocab * sizeof(float));
	s->rows = malloc(t * sizeof(*s->rows));
	s->head_xq = malloc((size_t)HEAD_ROWS * in->n_embd);
	s->rope = malloc(t * m->rope_dim * sizeof(float));
	if (!s->x || !s->h || !s->q || !s->k || !s->v || !s->att || !s->gate || !s->up || !s->out ||
	    !s->q8 || !s->sigma || !s->sum || !s->scores || !s->head_in || !s->head_out ||
	    !s->rows || !s->head_xq || !s->rope) {
		bn_scratch_free(s);
		return NULL;
	}
	m->scratch = s;
	return s;
}

/* The FFN's gate activation times up, elementwise over @cnt floats. */
static void gate_act(const struct bn_model *m, float *g, const float *u, size_t cnt)
{
	size_t i;

	if (m->act == BN_ACT_RELU_SQR) {
		bn_relu_sqr_mul(g, u, cnt);
		return;
	}
	for (i = 0; i < cnt; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

struct norm_ctx {
	struct bn_model *m;
	struct bn_scratch *s;
	float *x;
	const float *add, *up, *w;
	uint32_t n, k, per; /* rows, their width, rows per task */
};

static void norm_quantize_rows(void *arg, uint32_t i, uint32_t worker)
{
	struct norm_ctx *c = arg;
	struct bn_scratch *s = c->s;
	uint32_t r = i * c->per, cnt = c->n - r < c->per ? c->n - r : c->per;
	size_t at = (size_t)r * c->k;
	const float *x = c->x + at;

	(void)worker;
	if (c->w && c->add && !c->up) {
		bn_add_rmsnorm_rows(c->x + at, c->add + at, c->w, cnt, c->k, c->m->eps, s->h + at);
		x = s->h + at;
	} else if (c->w && c->up && !c->add && c->m->act == BN_ACT_RELU_SQR) {
		bn_relu_sqr_rmsnorm_rows(c->x + at, c->up + at, c->w, cnt, c->k, c->m->eps,
					 s->h + at);
		x = s->h + at;
	} else {
		if (c->add)
			bn_add_f32(c->x + at, c->add + at, (size_t)cnt * c->k);
		if (c->up)
			gate_act(c->m, c->x + at, c->up + at, (size_t)cnt * c->k);
		if (c->w) {
			bn_rmsnorm_rows(x, c->w, cnt, c->k, c->m->eps, s->h + at);
			x = s->h + at;
		}
	}
	bnc_quant_act_rows(x, cnt, c->k, s->q8 + at, s->sigma + r, s->sum + r);
}

/*
 * The next matmuls' input: @n rows of @k floats in @x, with @add added
 * (the residual) or x = act(x) * @up (the FFN's gate) first unless NULL,
 * RMS-normed by @w into s->h unless @w is NULL, quantized into the scratch
 * (the same bits however the rows are grouped). Done by the calling thread
 * alone, with the other one waiting, norms and quantization were ~10% of
 * an 8-token step; a task per row, still ~5% of a 4-token one (each norm
 * waits on its chain of adds): so each thread takes an equal share of the
 * rows, normed side by side, and the elementwise steps before (on one
 * thread, <1%) too. With a norm, the residual add or the squared-ReLU gate
 * is done in the norm's first pass, which waits on its adds anyway.
 */
static void norm_quantize(struct bn_model *m, struct bn_scratch *s, float *x, const float *add,
			  const float *up, const float *w, uint32_t n, uint32_t k)
{
	uint32_t threads = bn_pool_threads(m->pool);
	struct norm_ctx c = { m, s, x, add, up, w, n, k, (n + threads - 1) / threads };

	if (c.per > BN_RMSNORM_ROWS)
		c.per = BN_RMSNORM_ROWS;
	s->xin = w ? s->h : x;
	bn_pool_for(m->pool, (n + c.per - 1) / c.per, norm_quantize_rows, &c);
}

/* The residual still to be added to s->x, handed to its next reader once. */
static const float *residual(struct bn_scratch *s)
{
	bool behind = s->x_behind;

	s->x_behind = false;
	return behind ? s->out : NULL;
}

#define DENSE_TASKS 64

struct dense_ctx {
	const struct bn_ftensor *w;
	const float *x;
	uint32_t n;
	float *out;
};

static void dense_task(void *arg, uint32_t i, uint32_t worker)
{
	struct dense_ctx *c = arg;
	uint32_t r0 = (uint32_t)((uint64_t)c->w->rows * i / DENSE_TASKS);
	uint32_t r1 = (uint32_t)((uint64_t)c->w->rows * (i + 1) / DENSE_TASKS);

	(void)worker;
	bn_ftensor_matmul(c->w, r0, r1, c->x, c->n, c->out, c->w->rows);
}

static int matmul(struct bn_model *m, struct bn_scratch *s, const struct bn_linear **lin,
		  uint32_t n_w, uint32_t n, float **out)
{
	bn_weight_id ids[3];
	float *touts[3];
	uint32_t i, nt = 0;
	int rc;

	for (i = 0; i < n_w; i++) {
		if (lin[i]->is_dense) {
			struct dense_ctx c = { &lin[i]->dense, s->xin, n, out[i] };

			bn_pool_for(m->pool, DENSE_TASKS, dense_task, &c);
			continue;
		}
		ids[nt] = lin[i]->id;
		touts[nt++] = out[i];
	}
	if (nt) {
		rc = m->backend->ops->matmul(m->backend, ids, nt, s->q8, s->sigma, s->sum, n,
					     touts);
		if (rc)
			return rc;
	}
	for (i = 0; i < n_w; i++) {
		float ps = lin[i]->post_scale;
		size_t j, cnt = (size_t)n * lin[i]->rows;

		if (ps != 1.0f)
			for (j = 0; j < cnt; j++)
				out[i][j] *= ps;
	}
	return 0;
}

struct attn_ctx {
	struct bn_model *m;
	struct bn_scratch *s;
	uint32_t layer;
	uint32_t heads; /* query heads per task, all of one K/V head */
	bool rope;	/* each task rotates its heads and caches its K/V first */
};

/*
 * Row @r's query heads [@hq0, @hq1) and K/V heads [@g0, @g1) rotated, the
 * latter's keys and values into its sequence's cache at its position.
 */
static void rope_heads(const struct attn_ctx *c, uint32_t r, uint32_t hq0, uint32_t hq1,
		       uint32_t g0, uint32_t g1)
{
	struct bn_model *m = c->m;
	struct bn_scratch *s = c->s;
	uint32_t hkv = m->info.n_head_kv, d = m->head_dim, h;
	size_t qd = (size_t)m->info.n_head * d, kvd = (size_t)hkv * d;
	struct bn_seq *seq = s->rows[r].seq;
	uint32_t pos = s->rows[r].pos;
	const float *cs = s->rope + (size_t)r * m->rope_dim, *sn = cs + m->rope_dim / 2;

	for (h = hq0; h < hq1; h++)
		bn_rope(s->q + r * qd + h * d, m->rope_dim, cs, sn, m->rope_neox);
	for (h = g0; h < g1; h++) {
		size_t at = (((size_t)c->layer * hkv + h) * seq->cap + pos) * d;

		bn_rope(s->k + r * kvd + h * d, m->rope_dim, cs, sn, m->rope_neox);
		memcpy(seq->k + at, s->k + r * kvd + h * d, d * sizeof(float));
		memcpy(seq->v + at, s->v + r * kvd + h * d, d * sizeof(float));
	}
}

static void attn_task(void *arg, uint32_t i, uint32_t worker)
{
	struct attn_ctx *c = arg;
	struct bn_model *m = c->m;
	struct bn_scratch *s = c->s;
	uint32_t hq = m->info.n_head, d = m->head_dim, per_row = hq / c->heads;
	uint32_t r = i / per_row, h = i % per_row * c->heads;
	uint32_t g = h / (hq / m->info.n_head_kv);
	const struct bn_row *row = &s->rows[r];
	struct bn_seq *seq = row->seq;
	size_t at = ((size_t)c->layer * m->info.n_head_kv + g) * seq->cap * d;

	if (c->rope)
		rope_heads(c, r, h, h + c->heads, g, g + 1);
	bn_attend(s->q + ((size_t)r * hq + h) * d, c->heads, seq->k + at, seq->v + at, d,
		  row->pos + 1, d, s->scores + (size_t)worker * s->score_cap,
		  s->att + ((size_t)r * hq + h) * d);
}

static void rope_row(void *arg, uint32_t r, uint32_t worker)
{
	struct attn_ctx *c = arg;

	(void)worker;
	rope_heads(c, r, 0, c->m->info.n_head, 0, c->m->info.n_head_kv);
}

/*
 * Whether each attention task may rotate and cache its own heads: when it
 * has a whole K/V group (no other task writes or reads that K/V head of the
 * row) and no row reads a position another row of the slice writes (every
 * row its own sequence; a sequence's rows are adjacent). Else RoPE is a
 * pass of its own, a task per row: one dispatch and barrier fewer per
 * layer in a decode step of several sessions.
 */
static bool attn_rope_in_tasks(const struct bn_model *m, const struct bn_scratch *s, uint32_t n,
			       uint32_t heads)
{
	uint32_t r;

	if (heads != m->info.n_head / m->info.n_head_kv)
		return false;
	for (r = 1; r < n; r++)
		if (s->rows[r].seq == s->rows[r - 1].seq)
			return false;
	return true;
}

/*
 * Query heads per task: a whole group reads each K/V row once, but a decode
 * step has few groups (5 in 2B-4T), so split them until every thread has a
 * few tasks.
 */
static uint32_t attn_heads_per_task(const struct bn_model *m, uint32_t n)
{
	uint32_t group = m->info.n_head / m->info.n_head_kv, heads = group, f;
	uint32_t want = 4 * bn_pool_threads(m->pool);

	for (f = 2; f <= group && (uint64_t)n * m->info.n_head / heads < want; f++)
		if (group % f == 0)
			heads = group / f;
	return heads;
}

static int attention(struct bn_model *m, struct bn_scratch *s, uint32_t layer, uint32_t n)
{
	const struct bn_layer *l = &m->layers[layer];
	const struct bn_linear *qkv[3] = { &l->wq, &l->wk, &l->wv };
	float *outs[3] = { s->q, s->k, s->v };
	uint32_t e = m->info.n_embd;
	uint32_t qd = m->info.n_head * m->head_dim;
	struct attn_ctx ctx = { m, s, layer, attn_heads_per_task(m, n), false };
	int rc;

	norm_quantize(m, s, s->x, residual(s), NULL, l->attn_norm, n, e);
	rc = matmul(m, s, qkv, 3, n, outs);
	if (rc)
		return rc;
	ctx.rope = attn_rope_in_tasks(m, s, n, ctx.heads);
	if (!ctx.rope)
		bn_pool_for(m->pool, n, rope_row, &ctx);
	bn_pool_for(m->pool, n * (m->info.n_head / ctx.heads), attn_task, &ctx);

	norm_quantize(m, s, s->att, NULL, NULL, m->sub_norms ? l->attn_sub_norm : NULL, n, qd);
	const struct bn_linear *wo = &l->wo;

	rc = matmul(m, s, &wo, 1, n, &s->out);
	s->x_behind = !rc;
	return rc;
}

static int ffn(struct bn_model *m, struct bn_scratch *s, uint32_t layer, uint32_t n)
{
	const struct bn_layer *l = &m->layers[layer];
	const struct bn_linear *gu[2] = { &l->gate, &l->up };
	const struct bn_linear *down = &l->down;
	float *outs[2] = { s->gate, s->up };
	uint32_t e = m->info.n_embd, ff = m->info.n_ff;
	int rc;

	norm_quantize(m, s, s->x, residual(s), NULL, l->ffn_norm, n, e);
	rc = matmul(m, s, gu, 2, n, outs);
	if (rc)
		return rc;
	norm_quantize(m, s, s->gate, NULL, s->up, m->sub_norms ? l->ffn_sub_norm : NULL, n, ff);
	rc = matmul(m, s, &down, 1, n, &s->out);
	s->x_behind = !rc;
	return rc;
}

struct head_ctx {
	struct bn_model *m;
	struct bn_scratch *s;
	uint32_t n;
	const uint32_t *which; /* the slice's row of each input */
};

/*
 * The task's columns of every input's logits to where its row wants them:
 * here, while they are in cache, and on every thread (after the pass, the
 * calling thread alone copied them: 4 MB for 8 rows).
 */
static void head_copy_out(const struct head_ctx *c, uint32_t r0, uint32_t r1)
{
	uint32_t v = c->m->info.n_vocab, j;

	for (j = 0; j < c->n; j++) {
		const struct bn_row *row = &c->s->rows[c->which[j]];
		const float *src = c->s->head_out + (size_t)j * v + r0;

		memcpy(row->logits + r0, src, (r1 - r0) * sizeof(float));
		if (row->logits2)
			memcpy(row->logits2 + r0, src, (r1 - r0) * sizeof(float));
	}
}

static void head_task(void *arg, uint32_t i, uint32_t worker)
{
	struct head_ctx *c = arg;
	uint32_t v = c->m->info.n_vocab;
	uint32_t r0 = (uint32_t)((uint64_t)v * i / HEAD_TASKS);
	uint32_t r1 = (uint32_t)((uint64_t)v * (i + 1) / HEAD_TASKS);

	(void)worker;
	if (c->m->head_q4.q)
		bn_q4rows_matmul_q8(&c->m->head_q4, r0, r1, c->s->head_xq, c->s->head_sigma, c->n,
				    c->s->head_out, v, bn_simd());
	else if (c->m->head_q6k)
		bn_q6k_matmul_q8(&c->m->head, r0, r1, c->s->head_xq, c->s->head_sigma, c->n,
				 c->s->head_out, v, bn_simd());
	else if (c->m->head_q8.q && bn_q8rows_have_vnni())
		bn_q8rows_matmul_q8(&c->m->head_q8, r0, r1, c->s->head_xq, c->s->head_sigma, c->n,
				    c->s->head_out, v);
	else if (c->m->head_q8.q)
		bn_q8rows_matmul(&c->m->head_q8, r0, r1, c->s->head_in, c->n, c->s->head_out, v);
	else
		bn_ftensor_matmul(&c->m->head, r0, r1, c->s->head_in, c->n, c->s->head_out, v);
	head_copy_out(c, r0, r1);
}

/* The head's input as unsigned bytes q + 128 with per-row sigma. */
static void quantize_head_in(struct bn_scratch *s, uint32_t n, uint32_t e)
{
	int8_t *q = (int8_t *)s->head_xq;
	size_t i;

	bnc_quant_act_rows(s->head_in, n, e, q, s->head_sigma, NULL);
	for (i = 0; i < (size_t)n * e; i++)
		s->head_xq[i] = (uint8_t)(q[i] + 128);
}

/* Final norm and output head for the rows of this slice that want logits. */
static void head(struct bn_model *m, struct bn_scratch *s, uint32_t n)
{
	uint32_t e = m->info.n_embd, r, k = 0;
	uint32_t which[HEAD_ROWS];
	struct head_ctx ctx = { m, s, 0, which };
	const float *add = residual(s); /* only the rows that want logits need it */

	for (r = 0; r <= n; r++) {
		if (r < n && s->rows[r].logits) {
			if (add)
				bn_add_f32(s->x + (size_t)r * e, add + (size_t)r * e, e);
			bn_rmsnorm(s->x + (size_t)r * e, m->output_norm, e, m->eps,
				   s->head_in + (size_t)k * e);
			which[k++] = r;
		}
		if (k == HEAD_ROWS || (r == n && k)) {
			ctx.n = k;
			if (m->head_q4.q || m->head_q6k || (m->head_q8.q && bn_q8rows_have_vnni()))
				quantize_head_in(s, k, e);
			bn_pool_for(m->pool, HEAD_TASKS, head_task, &ctx);
			k = 0;
		}
	}
}

static void embed(struct bn_model *m, struct bn_scratch *s, uint32_t n)
{
	uint32_t r, e = m->info.n_embd;

	for (r = 0; r < n; r++) {
		const struct bn_row *row = &s->rows[r];

		bn_ftensor_row(&m->embd, (uint32_t)row->seq->tokens[row->pos],
			       s->x + (size_t)r * e);
	}
}

static int run_slice(struct bn_model *m, struct bn_scratch *s, uint32_t n)
{
	uint32_t l, r, half = m->rope_dim / 2;
	int rc;

	embed(m, s, n);
	s->x_behind = false;
	for (r = 0; r < n; r++) {
		float *cs = s->rope + (size_t)r * m->rope_dim;

		bn_rope_angles(s->rows[r].pos, m->rope_inv_freq, half, cs, cs + half);
	}
	for (l = 0; l < m->info.n_layer; l++) {
		rc = attention(m, s, l, n);
		if (!rc)
			rc = ffn(m, s, l, n);
		if (rc)
			return rc;
	}
	head(m, s, n);
	return 0;
}

static int check_items(struct bn_model *m, struct bn_batch_item *items, uint32_t n_items,
		       uint32_t *max_ctx)
{
	uint32_t i, j;

	*max_ctx = 1;
	for (i = 0; i < n_items; i++) {
		struct bn_batch_item *it = &items[i];

		if (!it->seq || it->seq->model != m || (it->n_tokens && !it->tokens))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (items[j].seq == it->seq)
				return -EINVAL;
		for (j = 0; j < it->n_tokens; j++)
			if (it->tokens[j] < 0 || (uint32_t)it->tokens[j] >= m->info.n_vocab)
				return -EINVAL;
		if (it->n_tokens > it->seq->cap - it->seq->len)
			return -ENOSPC;
		if (it->seq->len + it->n_tokens > *max_ctx)
			*max_ctx = it->seq->len + it->n_tokens;
	}
	return 0;
}

int bn_forward(struct bn_model *m, struct bn_batch_item *items, uint32_t n_items)
{
	struct bn_scratch *s;
	uint32_t i, j, n = 0, max_ctx, v;
	int rc;

	if (!m || (n_items && !items))
		return -EINVAL;
	rc = check_items(m, items, n_items, &max_ctx);
	if (rc)
		return rc;
	s = scratch_get(m, max_ctx);
	if (!s)
		return -ENOMEM;
	v = m->info.n_vocab;
	for (i = 0; i < n_items; i++) {
		struct bn_batch_item *it = &items[i];
		struct bn_seq *seq = it->seq;

		for (j = 0; j < it->n_tokens; j++) {
			struct bn_row *row = &s->rows[n++];
			bool last = j + 1 == it->n_tokens;

			row->seq = seq;
			row->pos = seq->len + j;
			seq->tokens[row->pos] = it->tokens[j];
			row->logits = it->all_logits ? it->all_logits + (size_t)j * v :
				      last	     ? it->logits :
						       NULL;
			row->logits2 = it->all_logits && last ? it->logits : NULL;
			if (n == SLICE_TOKENS) {
				rc = run_slice(m, s, n);
				if (rc)
					return rc;
				n = 0;
			}
		}
	}
	if (n) {
		rc = run_slice(m, s, n);
		if (rc)
			return rc;
	}
	for (i = 0; i < n_items; i++)
		items[i].seq->len += items[i].n_tokens;
	return 0;
}
