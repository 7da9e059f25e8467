// SPDX-License-Identifier: GPL-2.0
/*
 * The generator (bn_gen) on ../shared/models/tiny-shakespeare-a, driven the
 * way bitnet-run drives it: how each way of ending comes out (length, stop
 * string, end of generation), that greedy steps take the argmax, and that
 * streamed text holds back only what may still become a stop string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/engine.h"
#include "tests/tap.h"

#define MAX_TEXT 8192

struct run {
	int end;
	uint32_t n_tokens;
	int32_t ids[64];
	char text[MAX_TEXT];   /* everything taken, the final take included */
	size_t len_before_end; /* taken before the final take (all of it) */
	bool argmax;	       /* every token was its logits' argmax */
};

static struct bn_model *model;
static int32_t prompt[256];
static int n_prompt;

static uint32_t argmax(const float *l, uint32_t n)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < n; i++)
		if (l[i] > l[best])
			best = i;
	return best;
}

static void take(struct bn_gen *g, bool all, struct run *r, size_t *len)
{
	const char *t;
	size_t n = bn_gen_take_text(g, all, &t);

	if (*len + n < MAX_TEXT) {
		memcpy(r->text + *len, t, n);
		*len += n;
		r->text[*len] = 0;
	}
}

/* Generates from the prompt like bitnet-run; false if the engine failed. */
static bool generate(const struct bn_gen_params *p, struct run *r)
{
	uint32_t n_vocab = bn_model_info(model)->n_vocab;
	struct bn_seq *seq = bn_seq_new(model, 0);
	struct bn_gen *g = bn_gen_new(model, p);
	struct bn_batch_item it;
	size_t len = 0;
	int32_t tok;
	int rc;

	memset(r, 0, sizeof(*r));
	r->argmax = true;
	if (!seq || !g)
		goto fail;
	bn_gen_prompt(g, prompt, (uint32_t)n_prompt);
	it = (struct bn_batch_item){ .seq = seq,
				     .tokens = prompt,
				     .n_tokens = (uint32_t)n_prompt,
				     .logits = bn_gen_logits(g) };
	rc = bn_forward(model, &it, 1);
	r->end = BN_GEN_MORE;
	while (!rc && r->end == BN_GEN_MORE) {
		uint32_t best = argmax(bn_gen_logits(g), n_vocab);

		r->end = bn_gen_step(g, &tok);
		if (r->end < 0)
			break;
		r->argmax = r->argmax && (uint32_t)tok == best;
		if (r->end == BN_GEN_EOS)
			break;
		if (r->n_tokens < 64)
			r->ids[r->n_tokens] = tok;
		r->n_tokens++;
		take(g, false, r, &len);
		if (r->end == BN_GEN_MORE) {
			it.tokens = &tok;
			it.n_tokens = 1;
			rc = bn_forward(model, &it, 1);
		}
	}
	r->len_before_end = len;
	take(g, true, r, &len);
	if (rc || r->end < 0 || r->n_tokens != bn_gen_n_tokens(g))
		goto fail;
	bn_gen_free(g);
	bn_seq_free(seq);
	return true;
fail:
	bn_gen_free(g);
	bn_seq_free(seq);
	return false;
}

int main(void)
{
	const char *src = getenv("SRC");
	struct bn_load_opts lo = { .backend = BN_BACKEND_CPU, .threads = 1 };
	struct bn_sampler_params sp;
	struct bn_logit_bias bias;
	struct bn_gen_params p = { .sp = &sp };
	const char *stops[2];
	char path[1024], err[512], stop[8];
	struct run full, r, r2;
	bool ok;

	snprintf(path, sizeof(path),
		 "%s/../shared/models/tiny-shakespeare-a/tiny-shakespeare-a-tq2_0.gguf",
		 src ? src : ".");
	if (bn_model_load(path, &lo, &model, err, sizeof(err))) {
		printf("1..0 # SKIP %s\n", err);
		return 0;
	}
	n_prompt = bn_tokenize(bn_model_vocab(model), "ROMEO:", 6, true, false, prompt, 256);
	tap_plan(7);

	bn_sampler_params_default(&sp);
	sp.temperature = 0;
	p.max_tokens = 40;
	p.ignore_eos = true;
	ok = generate(&p, &full);
	tap_ok(ok && full.end == BN_GEN_LENGTH && full.n_tokens == 40 && full.argmax,
	       "greedy: 40 tokens, each its logits' argmax, then length");

	p.max_tokens = 1;
	ok = generate(&p, &r);
	tap_ok(ok && r.end == BN_GEN_LENGTH && r.n_tokens == 1 && r.ids[0] == full.ids[0],
	       "max_tokens 1: one token, length");

	/* five bytes from the middle: most likely spanning tokens */
	memcpy(stop, full.text + strlen(full.text) / 2, 5);
	stop[5] = 0;
	stops[0] = stop;
	p.stops = stops;
	p.n_stops = 1;
	p.max_tokens = 40;
	ok = generate(&p, &r);
	tap_ok(ok && r.end == BN_GEN_STOP &&
		       strlen(r.text) == (size_t)(strstr(full.text, stop) - full.text) &&
		       !strncmp(r.text, full.text, strlen(r.text)),
	       "stop string '%s': the text ends right before its first occurrence", stop);

	/* a stop string that starts with the last character and never comes */
	stop[0] = full.text[strlen(full.text) - 1];
	stop[1] = '\x01';
	stop[2] = 0;
	ok = generate(&p, &r);
	tap_ok(ok && r.end == BN_GEN_LENGTH && !strcmp(r.text, full.text) &&
		       r.len_before_end + 1 == strlen(full.text),
	       "a tail that may start a stop string is held back, released at the end");
	p.n_stops = 0;

	/* the end-of-generation token made certain */
	bias = (struct bn_logit_bias){ .id = bn_model_info(model)->eos, .bias = 1000 };
	sp.logit_bias = &bias;
	sp.n_logit_bias = 1;
	p.ignore_eos = false;
	ok = generate(&p, &r);
	tap_ok(ok && r.end == BN_GEN_EOS && r.n_tokens == 0 && !r.text[0],
	       "end of generation: no token counted, no text");
	p.ignore_eos = true;
	p.max_tokens = 3;
	ok = generate(&p, &r);
	tap_ok(ok && r.end == BN_GEN_LENGTH && r.n_tokens == 3 &&
		       r.ids[0] == bn_model_info(model)->eos,
	       "ignore_eos: the end-of-generation token is a token like any other");
	sp.logit_bias = NULL;
	sp.n_logit_bias = 0;

	sp.temperature = 0.8f;
	sp.seed = 5;
	p.max_tokens = 24;
	ok = generate(&p, &r) && generate(&p, &r2);
	tap_ok(ok && r.n_tokens == 24 && !memcmp(r.ids, r2.ids, sizeof(r.ids)) &&
		       !strcmp(r.text, r2.text),
	       "sampling with a seed: the same tokens and text twice");

	bn_model_free(model);
	return tap_exit();
}
