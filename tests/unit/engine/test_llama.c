// SPDX-License-Identifier: GPL-2.0
/*
 * The shape of bitnet.cpp's Falcon3-1.58bit / Llama3-8B-1.58 exports, small:
 * llama architecture (no sub-norms, adjacent-pair RoPE), I2_S linears, a
 * LLaMA-3 tokenizer (gpt2 BPE, llama-bpe) and a Q6_K tied head, written by
 * bitnet-mkmodel. It loads with that metadata, tokenizes with the merges,
 * generates the same tokens on every load, computes exactly what the same
 * weights stored as F16 values compute, and stays near the float forward
 * of those weights (dense mode, no activation quantization).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/engine.h"
#include "tests/tap.h"
#include "tests/unit/engine/engine_test.h"

#define SHAPE                                                                                \
	"--arch llama --vocab-kind llama3 --embd-type q6_k --embd 256 --layers 2 --heads 4 " \
	"--kv-heads 2 --ff 512 --vocab 1000 --ctx 256"
#define NV 1000
#define N_GEN 16

static char dir[] = "/tmp/bn-test-llama-XXXXXX";

static int mk(const char *args, const char *name)
{
	return test_mkmodel(dir, SHAPE, args, name);
}

static struct bn_model *load(const char *name, bool dense)
{
	return test_load(dir, name, BN_HEAD_FILE, dense, NULL, 0);
}

/* "the cat sat" tokenized, its last logits into @first, N_GEN greedy tokens. */
static int run(struct bn_model *m, float *first, int32_t *toks)
{
	const char *text = "the cat sat";
	struct bn_seq *s = bn_seq_new(m, 64);
	int32_t ids[32];
	float l[NV];
	int n = bn_tokenize(bn_model_vocab(m), text, strlen(text), true, false, ids, 32), i, k;
	struct bn_batch_item it = { .seq = s, .tokens = ids, .n_tokens = (uint32_t)n, .logits = l };
	int rc = s && n > 0 ? bn_forward(m, &it, 1) : -EINVAL;

	if (!rc)
		memcpy(first, l, sizeof(l));
	for (i = 0; !rc && i < N_GEN; i++) {
		int best = 0;

		for (k = 1; k < NV; k++)
			best = l[k] > l[best] ? k : best;
		toks[i] = best;
		it.tokens = &toks[i];
		it.n_tokens = 1;
		rc = bn_forward(m, &it, 1);
	}
	bn_seq_free(s);
	return rc;
}

int main(void)
{
	static float a[NV], b[NV], c[NV], d[NV];
	int32_t ta[N_GEN], tb[N_GEN], tc[N_GEN], td[N_GEN], ids[32];
	struct bn_model *m1, *m2, *f16, *dense;
	const struct bn_model_info *in;
	double diff = 0, scale = 0;
	char cmd[512];
	int n, k;

	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	printf("1..6\n");
	tap_ok(!mk("--type i2_s", "i2s.gguf") && !mk("--type f16", "f16.gguf"),
	       "bitnet-mkmodel writes llama-arch I2_S and F16 models with a LLaMA-3 tokenizer");
	m1 = load("i2s.gguf", false);
	m2 = load("i2s.gguf", false);
	f16 = load("f16.gguf", false);
	dense = load("f16.gguf", true);
	if (!m1 || !m2 || !f16 || !dense)
		return 1;
	in = bn_model_info(m1);
	n = bn_tokenize(bn_model_vocab(m1), "the cat", 7, true, false, ids, 32);
	/*
	 * 741 pieces: "Ġa".."Ġz" (ids 256..), "aa".."zz" (282..), then "Ġaa"..:
	 * "the cat" is BOS, "t" (byte 0x74), "he" (282 + 7 * 26 + 4: ranked
	 * before "th", whose parent comes later), "Ġc" (256 + 2), "at" (282 +
	 * 19); "the" and "Ġcat" are not in the vocab.
	 */
	tap_ok(!strcmp(in->arch, "llama") && !strcmp(in->weight_type, "I2_S") &&
		       !strcmp(in->head, "Q6_K") && in->bos == NV - 3 && n == 5 &&
		       ids[0] == NV - 3 && ids[1] == 0x74 && ids[2] == 468 && ids[3] == 258 &&
		       ids[4] == 301,
	       "loads as llama, I2_S, Q6_K head; BPE merges tokenize 'the cat' (%d ids)", n);
	tap_ok(!run(m1, a, ta) && !run(m2, b, tb) && !memcmp(a, b, sizeof(a)) &&
		       !memcmp(ta, tb, sizeof(ta)),
	       "two loads generate the same %d tokens and logits", N_GEN);
	tap_ok(!run(f16, c, tc) && !memcmp(a, c, sizeof(a)) && !memcmp(ta, tc, sizeof(ta)),
	       "the F16 file (values t * s) computes exactly what the I2_S one does");
	tap_ok(!run(dense, d, td), "dense mode (float matmuls of the same weights) runs");
	for (k = 0; k < NV; k++) {
		diff = fmax(diff, fabs(a[k] - d[k]));
		scale = fmax(scale, fabs(d[k]));
	}
	/*
	 * The ternary forward quantizes activations to int8 per token
	 * (absmax / 127): through 2 layers that moves the logits by a few
	 * percent of their range, measured ~1%; a layout or RoPE-pairing error
	 * gives differences of the order of the logits themselves.
	 */
	tap_ok(diff <= 0.05 * scale,
	       "int8-activation forward within 5%% of the float forward's logit range "
	       "(max |diff| %.4f of %.4f)",
	       diff, scale);
	bn_model_free(m1);
	bn_model_free(m2);
	bn_model_free(f16);
	bn_model_free(dense);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? 1 : tap_exit();
}
