// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-mkmodel: writes a GGUF model of any shape with random ternary
 * weights (I2_S, TQ2_0, TQ1_0, or F16 values t * s) and a working
 * SentencePiece-style vocab, for benchmarks and big-model tests. The
 * default shape is microsoft/bitnet-b1.58-2B-4T's. See man/bitnet-mkmodel.1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/quant_k.h"
#include "kmod/core/bitnet_core.h"
#include "kmod/core/bnc_quant.h"
#include "tools/mkmodel/requant.h"
#include "tools/mkmodel/vocab_bpe.h"
#include "tools/opts.h"

struct shape {
	const char *arch;
	uint32_t embd, layers, heads, kv_heads, ff, vocab, ctx;
	float rope_theta;
	uint32_t type;	    /* GGUF type of the linears */
	uint32_t embd_type; /* F16, F32, or a block type (Q8_0, Q4_K, Q5_K, Q6_K) */
	uint64_t seed;
	const char *from;  /* --from: re-encode this file's embedding instead */
	bool llama3_vocab; /* --vocab-kind llama3: gpt2 BPE, llama-bpe */
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- vocab: <unk> <s> </s>, 256 byte tokens, <|eot_id|>, then pieces ---- */

#define N_FIXED 260
static const char letters[] = "etaoinshrdlcumwfgypbvkjxqz";

/*
 * Piece number @i: "▁" (U+2581) prefixed or not, 1-4 lowercase letters,
 * shortest first so every piece's prefixes come before it.
 */
static void piece_text(uint64_t i, char *out)
{
	uint64_t per = 26, len = 1;
	char *p = out;

	while (i >= 2 * per) {
		i -= 2 * per;
		per *= 26;
		len++;
	}
	if (i >= per) {
		i -= per;
	} else {
		memcpy(p, "\xe2\x96\x81", 3);
		p += 3;
	}
	while (len--) {
		*p++ = letters[i % 26];
		i /= 26;
	}
	*p = 0;
}

static int write_vocab(struct gguf_writer *w, uint32_t n)
{
	char **toks = calloc(n, sizeof(char *));
	float *scores = malloc(n * sizeof(float));
	int32_t *types = malloc(n * sizeof(int32_t));
	uint32_t i;
	int rc = -ENOMEM;

	if (!toks || !scores || !types)
		goto out;
	for (i = 0; i < n; i++) {
		char buf[32];

		if (i == 0)
			snprintf(buf, sizeof(buf), "<unk>");
		else if (i == 1)
			snprintf(buf, sizeof(buf), "<s>");
		else if (i == 2)
			snprintf(buf, sizeof(buf), "</s>");
		else if (i < 259)
			snprintf(buf, sizeof(buf), "<0x%02X>", i - 3);
		else if (i == 259)
			snprintf(buf, sizeof(buf), "<|eot_id|>");
		else
			piece_text(i - N_FIXED, buf);
		toks[i] = strdup(buf);
		if (!toks[i])
			goto out;
		scores[i] = i < N_FIXED ? 0.0f : -(float)(i - N_FIXED);
		types[i] = i == 0 ? 2 : i < 3 || i == 259 ? 3 : i < 259 ? 6 : 1;
	}
	/* model, pre, tokens, scores, types, n, no merges, bos, eos, unk, eot */
	rc = mkmodel_put_vocab(w, &(struct mkmodel_vocab){ "llama", "default", toks, scores, types,
							   n, NULL, 0, 1, 2, 0, 259 });
out:
	if (toks)
		for (i = 0; i < n; i++)
			free(toks[i]);
	free(toks);
	free(scores);
	free(types);
	return rc;
}

/* ---- tensors ---- */

static int put_f32(struct gguf_writer *w, const char *name, uint32_t n, float v)
{
	float *x = malloc(n * sizeof(float));
	uint64_t ne[1] = { n };
	uint32_t i;
	int rc;

	if (!x)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		x[i] = v;
	rc = gguf_writer_tensor(w, name, 1, ne, GGUF_T_F32, x, (uint64_t)n * 4);
	free(x);
	return rc;
}

static int put_linear(struct gguf_writer *w, const struct shape *s, uint64_t *rng, const char *name,
		      uint32_t rows, uint32_t cols)
{
	size_t n = (size_t)rows * cols, i, bytes;
	uint64_t ne[2] = { cols, rows };
	float scale = 0.01f + (float)(rng_next(rng) % 1000) * 1e-5f;
	uint32_t bits;
	int8_t *t = malloc(n);
	void *data = NULL;
	int rc = -ENOMEM;

	/* a scale exactly representable in F16, like exported BitNet models */
	scale = bnc_fp16_to_fp32(bnc_fp32_to_fp16(scale));
	memcpy(&bits, &scale, 4);
	if (!t)
		return rc;
	for (i = 0; i < n; i += 32) {
		uint64_t r = rng_next(rng);
		size_t j;

		/* 2 random bits per weight; 3 maps to 0 so P(0) = 1/2 */
		for (j = 0; j < 32 && i + j < n; j++, r >>= 2)
			t[i + j] = (r & 3) == 1 ? 1 : (r & 3) == 2 ? -1 : 0;
	}
	if (s->type == GGUF_T_F16) {
		uint16_t *h = malloc(n * 2);
		uint16_t hs = bnc_fp32_to_fp16(scale), hn = hs | 0x8000;

		if (h) {
			for (i = 0; i < n; i++)
				h[i] = t[i] > 0 ? hs : t[i] < 0 ? hn : 0;
			rc = gguf_writer_tensor(w, name, 2, ne, GGUF_T_F16, h, n * 2);
		}
		free(h);
		free(t);
		return rc;
	}
	unsigned int fmt = s->type == GGUF_T_I2_S  ? BNC_FMT_I2_S :
			   s->type == GGUF_T_TQ2_0 ? BNC_FMT_TQ2_0 :
						     BNC_FMT_TQ1_0;

	bytes = bnc_packed_size(fmt, rows, cols);
	data = bytes ? malloc(bytes) : NULL;
	if (!bytes)
		rc = -EINVAL;
	else if (data)
		rc = bnc_pack(fmt, t, rows, cols, bits, data, bytes);
	if (!rc)
		rc = gguf_writer_tensor(w, name, 2, ne, s->type, data, bytes);
	free(data);
	free(t);
	return rc;
}

/* Random values in [-0.05, 0.05): the scale of a trained model's embedding. */
static int put_embedding(struct gguf_writer *w, const struct shape *s, uint64_t *rng)
{
	size_t n = (size_t)s->vocab * s->embd, i, bytes;
	uint64_t ne[2] = { s->embd, s->vocab };
	float *x = malloc(n * sizeof(float));
	void *data = NULL;
	int rc = -ENOMEM;

	if (!x)
		return rc;
	for (i = 0; i < n; i++)
		x[i] = ((float)(rng_next(rng) >> 40) / (float)(1 << 24) - 0.5f) * 0.1f;
	if (s->embd_type == GGUF_T_F32) {
		data = x;
		x = NULL;
		bytes = n * 4;
	} else if (s->embd_type == GGUF_T_F16) {
		bytes = n * 2;
		data = malloc(bytes);
		for (i = 0; data && i < n; i++)
			((uint16_t *)data)[i] = bnc_fp32_to_fp16(x[i]);
	} else {
		bytes = n / bn_qblock_elems(s->embd_type) * bn_qblock_bytes(s->embd_type);
		data = malloc(bytes);
		if (data && bn_qblock_quantize(s->embd_type, x, (uint32_t)n, data)) {
			free(data);
			data = NULL;
		}
	}
	if (data)
		rc = gguf_writer_tensor(w, "token_embd.weight", 2, ne, s->embd_type, data, bytes);
	free(data);
	free(x);
	return rc;
}

static int put_layer(struct gguf_writer *w, const struct shape *s, uint64_t *rng, uint32_t l)
{
	uint32_t hd = s->embd / s->heads, q = s->heads * hd, kv = s->kv_heads * hd;
	bool sub = strcmp(s->arch, "llama") != 0;
	char name[64];
	int rc = 0;

#define NAME(x) (snprintf(name, sizeof(name), "blk.%u." x, l), name)
	rc = put_f32(w, NAME("attn_norm.weight"), s->embd, 1.0f);
	if (!rc)
		rc = put_f32(w, NAME("ffn_norm.weight"), s->embd, 1.0f);
	if (!rc && sub)
		rc = put_f32(w, NAME("attn_sub_norm.weight"), q, 1.0f);
	if (!rc && sub)
		rc = put_f32(w, NAME("ffn_sub_norm.weight"), s->ff, 1.0f);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("attn_q.weight"), q, s->embd);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("attn_k.weight"), kv, s->embd);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("attn_v.weight"), kv, s->embd);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("attn_output.weight"), s->embd, q);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("ffn_gate.weight"), s->ff, s->embd);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("ffn_up.weight"), s->ff, s->embd);
	if (!rc)
		rc = put_linear(w, s, rng, NAME("ffn_down.weight"), s->embd, s->ff);
#undef NAME
	return rc;
}

static int put_hparams(struct gguf_writer *w, const struct shape *s)
{
	static const char tmpl[] =
		"{% for message in messages %}{{ message['role'] | capitalize }}: "
		"{{ message['content'] }}<|eot_id|>{% endfor %}"
		"{% if add_generation_prompt %}Assistant: {% endif %}";
	const struct {
		const char *key;
		uint32_t v;
	} u[] = {
		{ "context_length", s->ctx },
		{ "embedding_length", s->embd },
		{ "block_count", s->layers },
		{ "feed_forward_length", s->ff },
		{ "attention.head_count", s->heads },
		{ "attention.head_count_kv", s->kv_heads },
		{ "rope.dimension_count", s->embd / s->heads },
		{ "vocab_size", s->vocab },
	};
	float eps = 1e-5f;
	char key[128];
	size_t i;
	int rc;

	rc = gguf_writer_kv_str(w, "general.architecture", s->arch);
	if (!rc)
		rc = gguf_writer_kv_str(w, "general.name", "bitnet-mkmodel random ternary");
	for (i = 0; !rc && i < sizeof(u) / sizeof(u[0]); i++) {
		snprintf(key, sizeof(key), "%s.%s", s->arch, u[i].key);
		rc = gguf_writer_kv(w, key, GGUF_V_UINT32, &u[i].v);
	}
	snprintf(key, sizeof(key), "%s.rope.freq_base", s->arch);
	if (!rc)
		rc = gguf_writer_kv(w, key, GGUF_V_FLOAT32, &s->rope_theta);
	snprintf(key, sizeof(key), "%s.attention.layer_norm_rms_epsilon", s->arch);
	if (!rc)
		rc = gguf_writer_kv(w, key, GGUF_V_FLOAT32, &eps);
	if (!rc)
		rc = gguf_writer_kv_str(w, "tokenizer.chat_template", tmpl);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bitnet-mkmodel [options] OUTPUT.gguf\n"
		"  --arch bitnet-b1.58|bitnet|llama   (default bitnet-b1.58)\n"
		"  --type i2_s|tq2_0|tq1_0|f16        linear weights (default i2_s)\n"
		"  --embd-type f16|f32|q8_0|q6_k|q5_k|q4_k\n"
		"                                     token embedding and tied head (default f16)\n"
		"  --embd N --layers N --heads N --kv-heads N --ff N --vocab N --ctx N\n"
		"                                     (default: the 2B-4T shape 2560, 30,\n"
		"                                     20, 5, 6912, 128256, 4096)\n"
		"  --rope-theta X (default 500000)    --seed S (default 1)\n");
}

static bool parse_arch(const char *name, void *dst)
{
	*(const char **)dst = name;
	return !strcmp(name, "bitnet-b1.58") || !strcmp(name, "bitnet") || !strcmp(name, "llama");
}

static bool parse_type(const char *name, void *dst)
{
	uint32_t *type = dst;

	*type = !strcmp(name, "i2_s")  ? GGUF_T_I2_S :
		!strcmp(name, "tq2_0") ? GGUF_T_TQ2_0 :
		!strcmp(name, "tq1_0") ? GGUF_T_TQ1_0 :
		!strcmp(name, "f16")   ? GGUF_T_F16 :
					 0;
	return *type != 0;
}

/* F32 is type 0: look names up rather than test for 0 */
static bool parse_embd_type(const char *name, void *dst)
{
	static const struct {
		const char *name;
		uint32_t type;
	} types[] = {
		{ "f16", GGUF_T_F16 },	 { "f32", GGUF_T_F32 },	  { "q8_0", GGUF_T_Q8_0 },
		{ "q6_k", GGUF_T_Q6_K }, { "q5_k", GGUF_T_Q5_K }, { "q4_k", GGUF_T_Q4_K },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(name, types[i].name)) {
			*(uint32_t *)dst = types[i].type;
			return true;
		}
	}
	return false;
}

static bool parse_rope_theta(const char *arg, void *dst)
{
	float *theta = dst;
	char *end;

	*theta = strtof(arg, &end);
	return end != arg && !*end && *theta > 0;
}

static bool parse_seed(const char *arg, void *dst)
{
	char *end;

	*(uint64_t *)dst = strtoull(arg, &end, 0);
	return end != arg && !*end;
}

static bool parse_vocab_kind(const char *arg, void *dst)
{
	*(bool *)dst = !strcmp(arg, "llama3");
	return !strcmp(arg, "spm") || !strcmp(arg, "llama3");
}

static int parse(int argc, char **argv, struct shape *s, const char **out)
{
	const struct tool_opt opts[] = {
		TOOL_OPT_PARSE("arch", &s->arch, parse_arch),
		TOOL_OPT_PARSE("type", &s->type, parse_type),
		TOOL_OPT_PARSE("embd-type", &s->embd_type, parse_embd_type),
		TOOL_OPT_RANGE("embd", &s->embd, 128, 65536),
		TOOL_OPT_RANGE("layers", &s->layers, 1, 1024),
		TOOL_OPT_RANGE("heads", &s->heads, 1, 1024),
		TOOL_OPT_RANGE("kv-heads", &s->kv_heads, 1, 1024),
		TOOL_OPT_RANGE("ff", &s->ff, 128, 1 << 20),
		TOOL_OPT_RANGE("vocab", &s->vocab, N_FIXED, 1 << 22),
		TOOL_OPT_RANGE("ctx", &s->ctx, 1, 1 << 20),
		TOOL_OPT_PARSE("rope-theta", &s->rope_theta, parse_rope_theta),
		TOOL_OPT_PARSE("seed", &s->seed, parse_seed),
		TOOL_OPT("from", TOOL_OPT_STR, &s->from),
		TOOL_OPT_PARSE("vocab-kind", &s->llama3_vocab, parse_vocab_kind),
		TOOL_OPT_END,
	};
	int rc;

	rc = tool_opts_parse(argc, argv, opts, 1, "bitnet-mkmodel", usage);
	if (rc)
		return rc;
	*out = argv[optind];
	if (s->embd % s->heads || s->heads % s->kv_heads || (s->embd / s->heads) % 2 ||
	    s->embd % BNC_K_ALIGN || s->ff % BNC_K_ALIGN ||
	    (s->type != GGUF_T_I2_S && s->type != GGUF_T_F16 && (s->embd % 256 || s->ff % 256)) ||
	    (bn_qblock_type_ok(s->embd_type) && s->embd % bn_qblock_elems(s->embd_type))) {
		fprintf(stderr,
			"bitnet-mkmodel: inconsistent shape: embd and ff must be "
			"multiples of %d (256 for TQ types and k-quant embeddings), heads "
			"divide embd, kv-heads "
			"divide heads\n",
			BNC_K_ALIGN);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct shape s = {
		.arch = "bitnet-b1.58",
		.embd = 2560,
		.layers = 30,
		.heads = 20,
		.kv_heads = 5,
		.ff = 6912,
		.vocab = 128256,
		.ctx = 4096,
		.rope_theta = 500000.0f,
		.type = GGUF_T_I2_S,
		.embd_type = GGUF_T_F16,
		.seed = 1,
	};
	struct gguf_writer *w;
	const char *out;
	uint64_t rng;
	uint32_t l;
	int rc;

	rc = parse(argc, argv, &s, &out);
	if (rc)
		return rc;
	if (s.from) {
		rc = mkmodel_requant(s.from, out, s.embd_type);
		if (rc)
			fprintf(stderr, "bitnet-mkmodel: %s: %s\n", out, strerror(-rc));
		return rc ? 1 : 0;
	}
	rng = s.seed;
	w = gguf_writer_new(32);
	if (!w)
		return 1;
	rc = put_hparams(w, &s);
	if (!rc)
		rc = s.llama3_vocab ? mkmodel_write_bpe_vocab(w, s.vocab) : write_vocab(w, s.vocab);
	if (!rc)
		rc = put_embedding(w, &s, &rng);
	if (!rc)
		rc = put_f32(w, "output_norm.weight", s.embd, 1.0f);
	for (l = 0; !rc && l < s.layers; l++)
		rc = put_layer(w, &s, &rng, l);
	if (!rc)
		rc = gguf_writer_write(w, out);
	gguf_writer_free(w);
	if (rc) {
		fprintf(stderr, "bitnet-mkmodel: %s: %s\n", out, strerror(-rc));
		return 1;
	}
	return 0;
}
