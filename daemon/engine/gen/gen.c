// SPDX-License-Identifier: GPL-2.0
/*
 * One generation (engine.h: bn_gen): sample, accept, detokenize, match stop
 * strings, count. Everything but the forward pass, which the caller runs so
 * that bitnetd can batch many generations into one.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon/engine/engine.h"
#include "daemon/engine/gen/stop.h"

struct bn_gen {
	const struct bn_vocab *vocab;
	uint32_t n_vocab;
	uint32_t max_tokens;
	bool ignore_eos;
	uint32_t n_tokens;
	float *logits;
	struct bn_sampler *sampler;
	struct bn_detok detok;
	struct bn_stop stop;
};

struct bn_gen *bn_gen_new(const struct bn_model *m, const struct bn_gen_params *p)
{
	struct bn_gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->vocab = bn_model_vocab(m);
	g->n_vocab = bn_model_info(m)->n_vocab;
	g->max_tokens = p->max_tokens;
	g->ignore_eos = p->ignore_eos;
	bn_detok_init(&g->detok, g->vocab);
	bn_stop_init(&g->stop, p->stops, p->n_stops);
	g->logits = malloc((size_t)g->n_vocab * sizeof(float));
	g->sampler = bn_sampler_new(p->sp);
	if (!g->logits || !g->sampler) {
		bn_gen_free(g);
		return NULL;
	}
	return g;
}

void bn_gen_free(struct bn_gen *g)
{
	if (!g)
		return;
	if (g->sampler)
		bn_sampler_free(g->sampler);
	bn_stop_free(&g->stop);
	free(g->logits);
	free(g);
}

void bn_gen_prompt(struct bn_gen *g, const int32_t *ids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		bn_sampler_accept(g->sampler, ids[i]);
}

float *bn_gen_logits(struct bn_gen *g)
{
	return g->logits;
}

int bn_gen_step(struct bn_gen *g, int32_t *token)
{
	/* a token longer than this has its text dropped, as bitnetd always did */
	char piece[256];
	int32_t tok;
	int n;

	tok = bn_sampler_sample(g->sampler, g->logits, g->n_vocab);
	if (tok < 0)
		return -EINVAL;
	*token = tok;
	if (bn_vocab_is_eog(g->vocab, tok) && !g->ignore_eos)
		return BN_GEN_EOS;
	bn_sampler_accept(g->sampler, tok);
	g->n_tokens++;
	n = bn_detok_push(&g->detok, tok, piece, sizeof(piece));
	if (n > 0 && bn_stop_append(&g->stop, piece, n) < 0)
		return -ENOMEM;
	if (g->stop.hit)
		return BN_GEN_STOP;
	if (g->n_tokens < g->max_tokens)
		return BN_GEN_MORE;
	/* the last token: incomplete UTF-8 comes out as U+FFFD, and may still stop */
	n = bn_detok_flush(&g->detok, piece, sizeof(piece));
	if (n > 0)
		bn_stop_append(&g->stop, piece, n);
	return g->stop.hit ? BN_GEN_STOP : BN_GEN_LENGTH;
}

uint32_t bn_gen_n_tokens(const struct bn_gen *g)
{
	return g->n_tokens;
}

size_t bn_gen_take_text(struct bn_gen *g, bool all, const char **text)
{
	size_t end = bn_stop_releasable(&g->stop, all);
	size_t from = g->stop.released;

	*text = g->stop.text ? g->stop.text + from : "";
	if (end <= from)
		return 0;
	g->stop.released = end;
	return end - from;
}
