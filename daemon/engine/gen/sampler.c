// SPDX-License-Identifier: GPL-2.0
/*
 * Token samplers, in llama.cpp's order: logit bias, penalties over the last
 * n accepted tokens, then greedy, or top-k, typical-p, top-p, min-p,
 * temperature and a seeded draw. The generator is splitmix64, so the same
 * seed and logits give the same tokens on every machine.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/engine.h"
#include "daemon/engine/kernels/ops.h"

#define MAX_HISTORY (1u << 20)
#define MAX_BIAS (1u << 20)

struct cand {
	int32_t id;
	float logit;
	float p;
};

struct bn_sampler {
	struct bn_sampler_params p;
	struct bn_logit_bias *bias;
	uint64_t rng;
	int32_t *hist; /* ring of the last hist_cap accepted tokens */
	uint32_t hist_cap, hist_len, hist_head;
	int32_t *scratch_ids;
	struct cand *cands;
	uint32_t cands_cap;
};

void bn_sampler_params_default(struct bn_sampler_params *p)
{
	memset(p, 0, sizeof(*p));
	p->temperature = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->typical_p = 1.0f;
	p->repeat_penalty = 1.0f;
	p->repeat_last_n = 64;
	p->seed = 0x5eed;
}

#define CHECK(cond, ...)                                            \
	do {                                                        \
		if (!(cond)) {                                      \
			if (err && errlen)                          \
				snprintf(err, errlen, __VA_ARGS__); \
			return -EINVAL;                             \
		}                                                   \
	} while (0)

int bn_sampler_params_check(const struct bn_sampler_params *p, char *err, size_t errlen)
{
	size_t i;

	CHECK(isfinite(p->temperature) && p->temperature >= 0 && p->temperature <= 100,
	      "temperature must be in [0, 100]");
	CHECK(p->top_k >= 0 && p->top_k <= (1 << 24), "top_k must be in [0, 16777216]");
	CHECK(p->top_p > 0 && p->top_p <= 1, "top_p must be in (0, 1]");
	CHECK(p->min_p >= 0 && p->min_p <= 1, "min_p must be in [0, 1]");
	CHECK(p->typical_p > 0 && p->typical_p <= 1, "typical_p must be in (0, 1]");
	CHECK(isfinite(p->repeat_penalty) && p->repeat_penalty > 0 && p->repeat_penalty <= 100,
	      "repeat_penalty must be in (0, 100]");
	CHECK(p->repeat_last_n >= -1 && p->repeat_last_n <= (int32_t)MAX_HISTORY,
	      "repeat_last_n must be in [-1, %u]", MAX_HISTORY);
	CHECK(isfinite(p->presence_penalty) && fabsf(p->presence_penalty) <= 100,
	      "presence_penalty must be in [-100, 100]");
	CHECK(isfinite(p->frequency_penalty) && fabsf(p->frequency_penalty) <= 100,
	      "frequency_penalty must be in [-100, 100]");
	CHECK(p->n_logit_bias <= MAX_BIAS && (!p->n_logit_bias || p->logit_bias),
	      "too many logit biases (at most %u)", MAX_BIAS);
	for (i = 0; i < p->n_logit_bias; i++) {
		float b = p->logit_bias[i].bias;

		CHECK(p->logit_bias[i].id >= 0, "logit_bias: token id %d is negative",
		      p->logit_bias[i].id);
		CHECK((isfinite(b) && fabsf(b) <= 1000) || b == -INFINITY,
		      "logit_bias for token %d must be in [-1000, 1000] or -inf",
		      p->logit_bias[i].id);
	}
	return 0;
}

struct bn_sampler *bn_sampler_new(const struct bn_sampler_params *p)
{
	struct bn_sampler *s;

	if (bn_sampler_params_check(p, NULL, 0))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->p = *p;
	s->rng = p->seed;
	if (p->n_logit_bias) {
		s->bias = malloc(p->n_logit_bias * sizeof(*s->bias));
		if (!s->bias)
			goto fail;
		memcpy(s->bias, p->logit_bias, p->n_logit_bias * sizeof(*s->bias));
		s->p.logit_bias = s->bias;
	}
	s->hist_cap = p->repeat_last_n < 0 ? MAX_HISTORY : (uint32_t)p->repeat_last_n;
	if (s->hist_cap) {
		/* grows lazily for "all": start small */
		uint32_t first = s->hist_cap < 4096 ? s->hist_cap : 4096;

		s->hist = malloc(first * sizeof(int32_t));
		s->scratch_ids = malloc(first * sizeof(int32_t));
		if (!s->hist || !s->scratch_ids)
			goto fail;
		s->hist_cap = first;
	}
	return s;
fail:
	bn_sampler_free(s);
	return NULL;
}

void bn_sampler_free(struct bn_sampler *s)
{
	if (!s)
		return;
	free(s->bias);
	free(s->hist);
	free(s->scratch_ids);
	free(s->cands);
	free(s);
}

static uint32_t history_limit(const struct bn_sampler *s)
{
	return s->p.repeat_last_n < 0 ? MAX_HISTORY : (uint32_t)s->p.repeat_last_n;
}

/* Grows the ring (keeping order) when "all tokens" outgrows it. */
static void history_grow(struct bn_sampler *s)
{
	uint32_t cap = s->hist_cap * 2, i;
	int32_t *h, *t;

	if (cap > history_limit(s))
		cap = history_limit(s);
	h = malloc(cap * sizeof(int32_t));
	t = malloc(cap * sizeof(int32_t));
	if (!h || !t) {
		free(h);
		free(t);
		return; /* keep the smaller window */
	}
	for (i = 0; i < s->hist_len; i++)
		h[i] = s->hist[(s->hist_head + i) % s->hist_cap];
	free(s->hist);
	free(s->scratch_ids);
	s->hist = h;
	s->scratch_ids = t;
	s->hist_head = 0;
	s->hist_cap = cap;
}

void bn_sampler_accept(struct bn_sampler *s, int32_t id)
{
	if (!s || !s->hist_cap)
		return;
	if (s->hist_len == s->hist_cap && s->hist_cap < history_limit(s))
		history_grow(s);
	if (s->hist_len < s->hist_cap) {
		s->hist[(s->hist_head + s->hist_len++) % s->hist_cap] = id;
	} else {
		s->hist[s->hist_head] = id;
		s->hist_head = (s->hist_head + 1) % s->hist_cap;
	}
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static void apply_penalties(struct bn_sampler *s, float *logits, uint32_t n_vocab)
{
	const struct bn_sampler_params *p = &s->p;
	uint32_t i, j, n = s->hist_len;

	if (!n ||
	    (p->repeat_penalty == 1.0f && p->presence_penalty == 0 && p->frequency_penalty == 0))
		return;
	for (i = 0; i < n; i++)
		s->scratch_ids[i] = s->hist[(s->hist_head + i) % s->hist_cap];
	qsort(s->scratch_ids, n, sizeof(int32_t), cmp_i32);
	for (i = 0; i < n; i = j) {
		int32_t id = s->scratch_ids[i];
		float *l;

		for (j = i; j < n && s->scratch_ids[j] == id; j++)
			;
		if (id < 0 || (uint32_t)id >= n_vocab)
			continue;
		l = &logits[id];
		*l = *l > 0 ? *l / p->repeat_penalty : *l * p->repeat_penalty;
		*l -= (float)(j - i) * p->frequency_penalty + p->presence_penalty;
	}
}

static double next_uniform(struct bn_sampler *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_cand_desc(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit < y->logit ? 1 : -1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Candidates sorted by logit, descending, cut to top_k when set. */
static uint32_t collect(struct bn_sampler *s, const float *logits, uint32_t n_vocab)
{
	uint32_t i, n = 0, k = s->p.top_k > 0 ? (uint32_t)s->p.top_k : n_vocab;
	float floor = -INFINITY;

	if (k > n_vocab)
		k = n_vocab;
	if (k < n_vocab) {
		struct cand *c = s->cands;

		for (i = 0; i < n_vocab; i++) {
			c[i].id = (int32_t)i;
			c[i].logit = logits[i];
		}
		qsort(c, n_vocab, sizeof(*c), cmp_cand_desc);
		n = k;
		while (n > 1 && c[n - 1].logit == -INFINITY)
			n--;
		return n;
	}
	for (i = 0; i < n_vocab; i++) {
		if (logits[i] <= floor)
			continue;
		s->cands[n].id = (int32_t)i;
		s->cands[n].logit = logits[i];
		n++;
	}
	if (!n) {
		s->cands[0].id = 0;
		s->cands[0].logit = 0;
		return 1;
	}
	qsort(s->cands, n, sizeof(*s->cands), cmp_cand_desc);
	return n;
}

static void softmax_cands(struct cand *c, uint32_t n, float temp)
{
	double sum = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		c[i].p = expf((c[i].logit - c[0].logit) / temp);
		sum += c[i].p;
	}
	for (i = 0; i < n; i++)
		c[i].p = (float)(c[i].p / sum);
}

struct dev_idx {
	float dev;
	uint32_t i;
};

static int cmp_dev(const void *a, const void *b)
{
	const struct dev_idx *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Keeps the tokens whose surprise is closest to the entropy, up to mass p. */
static uint32_t typical_cut(struct cand *c, uint32_t n, float typical_p)
{
	struct dev_idx *d = malloc(n * sizeof(*d));
	unsigned char *keep;
	double ent = 0, cum = 0;
	uint32_t i, j, k;

	keep = calloc(n, 1);
	if (!d || !keep) {
		free(d);
		free(keep);
		return n;
	}
	for (i = 0; i < n; i++)
		if (c[i].p > 0)
			ent -= c[i].p * log(c[i].p);
	for (i = 0; i < n; i++) {
		d[i].dev = c[i].p > 0 ? (float)fabs(-log(c[i].p) - ent) : INFINITY;
		d[i].i = i;
	}
	qsort(d, n, sizeof(*d), cmp_dev);
	for (k = 0; k < n; k++) {
		keep[d[k].i] = 1;
		cum += c[d[k].i].p;
		if (cum >= typical_p)
			break;
	}
	for (i = 0, j = 0; i < n; i++)
		if (keep[i])
			c[j++] = c[i];
	free(d);
	free(keep);
	return j ? j : 1;
}

int32_t bn_sampler_sample(struct bn_sampler *s, float *logits, uint32_t n_vocab)
{
	const struct bn_sampler_params *p = &s->p;
	uint32_t i, n;
	double cum, r;

	if (!n_vocab)
		return -EINVAL;
	for (i = 0; i < p->n_logit_bias; i++)
		if ((uint32_t)p->logit_bias[i].id < n_vocab)
			logits[p->logit_bias[i].id] += p->logit_bias[i].bias;
	apply_penalties(s, logits, n_vocab);
	if (p->temperature == 0)
		return (int32_t)bn_argmax(logits, n_vocab);

	if (s->cands_cap < n_vocab) {
		free(s->cands);
		s->cands = malloc(n_vocab * sizeof(*s->cands));
		s->cands_cap = s->cands ? n_vocab : 0;
		if (!s->cands)
			return (int32_t)bn_argmax(logits, n_vocab);
	}
	n = collect(s, logits, n_vocab);
	softmax_cands(s->cands, n, 1.0f);
	if (p->typical_p < 1)
		n = typical_cut(s->cands, n, p->typical_p);
	if (p->top_p < 1) {
		cum = 0;
		for (i = 0; i < n; i++) {
			cum += s->cands[i].p;
			if (cum >= p->top_p) {
				n = i + 1;
				break;
			}
		}
	}
	if (p->min_p > 0) {
		float lim = s->cands[0].p * p->min_p;

		for (i = 1; i < n && s->cands[i].p >= lim; i++)
			;
		n = i;
	}
	softmax_cands(s->cands, n, p->temperature);
	r = next_uniform(s);
	cum = 0;
	for (i = 0; i < n; i++) {
		cum += s->cands[i].p;
		if (r < cum)
			return s->cands[i].id;
	}
	return s->cands[n - 1].id;
}
