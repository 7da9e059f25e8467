// SPDX-License-Identifier: GPL-2.0
/*
 * The vocab: tokenizer.ggml.* read from a GGUF into memory the vocab owns
 * (token texts, the bytes each token stands for, scores, types, special
 * ids), with lookups the tokenizers share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab_priv.h"

static int verr(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int verr(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* "<0xNN>" -> NN, or -1 */
static int byte_token_value(const char *s, size_t len)
{
	unsigned int v;
	char tail;

	if (len != 6 || memcmp(s, "<0x", 3) || s[5] != '>')
		return -1;
	if (sscanf(s + 3, "%2x%c", &v, &tail) != 2 || tail != '>')
		return -1;
	return v;
}

/* Writes the bytes token @t stands for to @out (room for t->len bytes). */
static uint32_t make_piece(const struct bn_vocab *v, const struct bn_token *t, char *out)
{
	const uint8_t *s = (const uint8_t *)t->text;
	uint32_t i = 0, n = 0;

	if (t->type == BN_TOK_UNUSED)
		return 0;
	if (t->type == BN_TOK_CONTROL ||
	    (v->kind == BN_VOCAB_BPE && t->type != BN_TOK_NORMAL && t->type != BN_TOK_UNDEFINED)) {
		memcpy(out, t->text, t->len);
		return t->len;
	}
	if (v->kind == BN_VOCAB_SPM) {
		int b = byte_token_value(t->text, t->len);

		if (t->type == BN_TOK_BYTE && b >= 0) {
			out[0] = b;
			return 1;
		}
		if (t->type == BN_TOK_UNKNOWN) {
			memcpy(out, "\xe2\x96\x85", 3); /* as llama.cpp shows it */
			return 3;
		}
		while (i < t->len) {
			if (t->len - i >= 3 && !memcmp(s + i, "\xe2\x96\x81", 3)) {
				out[n++] = ' ';
				i += 3;
			} else {
				out[n++] = s[i++];
			}
		}
		return n;
	}
	/* byte-level BPE: each character stands for one byte */
	while (i < t->len) {
		uint32_t cp;
		int k = utf8_decode(s + i, t->len - i, &cp);
		int b = gpt2_cp_to_byte(cp);

		if (b >= 0 && utf8_char_len(s + i, t->len - i) > 0) {
			out[n++] = b;
		} else {
			memcpy(out + n, s + i, k);
			n += k;
		}
		i += k;
	}
	return n;
}

static int cmp_special(const void *a, const void *b, void *arg)
{
	const struct bn_token *tokens = arg;
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	if (tokens[x].len != tokens[y].len)
		return tokens[x].len < tokens[y].len ? 1 : -1;
	return (x > y) - (x < y);
}

static int collect_specials(struct bn_vocab *v)
{
	uint32_t i, n = 0;

	v->specials = malloc((v->n_tokens ? v->n_tokens : 1) * sizeof(*v->specials));
	if (!v->specials)
		return -ENOMEM;
	for (i = 0; i < v->n_tokens; i++) {
		int32_t type = v->tokens[i].type;

		if (v->tokens[i].len && (type == BN_TOK_CONTROL || type == BN_TOK_USER_DEFINED ||
					 type == BN_TOK_UNKNOWN))
			v->specials[n++] = i;
	}
	qsort_r(v->specials, n, sizeof(*v->specials), cmp_special, v->tokens);
	v->n_specials = n;
	return 0;
}

static int32_t find_text(const struct bn_vocab *v, const char *s)
{
	return bn_str_map_get(&v->map, v->tokens, s, strlen(s));
}

/* End-of-generation: EOS, EOT, and tokens llama.cpp knows by their text. */
static int mark_eog(struct bn_vocab *v)
{
	static const char *const eog_texts[] = {
		"<|eot_id|>",	 "<|im_end|>", "<|end|>", "<end_of_turn>",
		"<|endoftext|>", "<|eom_id|>", "<EOT>",	  "<|end_of_text|>",
	};
	size_t i;

	v->is_eog = calloc(v->n_tokens, 1);
	if (!v->is_eog)
		return -ENOMEM;
	if (v->eot < 0)
		v->eot = find_text(v, "<|eot_id|>");
	if (v->eos >= 0)
		v->is_eog[v->eos] = 1;
	if (v->eot >= 0)
		v->is_eog[v->eot] = 1;
	for (i = 0; i < sizeof(eog_texts) / sizeof(eog_texts[0]); i++) {
		int32_t id = find_text(v, eog_texts[i]);

		if (id >= 0 && v->tokens[id].type == BN_TOK_CONTROL)
			v->is_eog[id] = 1;
	}
	return 0;
}

static int read_special_id(const struct gguf_file *f, const char *key, int32_t def, int32_t *id,
			   uint32_t n_tokens, char *err, size_t errlen)
{
	uint32_t v;
	int ret = gguf_get_u32(f, key, &v);

	if (ret == -ENOENT) {
		*id = def;
		return 0;
	}
	if (ret)
		return verr(err, errlen, -EINVAL, "%s is not an unsigned integer", key);
	if (v >= n_tokens)
		return verr(err, errlen, -EINVAL, "%s = %u is not a token (vocab has %u)", key, v,
			    n_tokens);
	*id = v;
	return 0;
}

static int read_flag(const struct gguf_file *f, const char *key, bool def, bool *flag, char *err,
		     size_t errlen)
{
	int ret = gguf_get_bool(f, key, flag);

	if (ret == -ENOENT) {
		*flag = def;
		return 0;
	}
	if (ret)
		return verr(err, errlen, -EINVAL, "%s is not a bool", key);
	return 0;
}

static int read_kind(struct bn_vocab *v, const struct gguf_file *f, char *err, size_t errlen)
{
	struct gguf_str s;
	int ret = gguf_get_str(f, "tokenizer.ggml.model", &s);

	if (ret)
		return verr(err, errlen, -EINVAL, "tokenizer.ggml.model is %s",
			    ret == -ENOENT ? "missing" : "not a string");
	if (s.len == 5 && !memcmp(s.ptr, "llama", 5)) {
		v->kind = BN_VOCAB_SPM;
		v->pre = BN_PRE_NONE;
		return 0;
	}
	if (!(s.len == 4 && !memcmp(s.ptr, "gpt2", 4)))
		return verr(err, errlen, -ENOTSUP,
			    "tokenizer model '%.*s' is not supported (only llama and gpt2)",
			    (int)(s.len > 64 ? 64 : s.len), s.ptr);
	v->kind = BN_VOCAB_BPE;
	ret = gguf_get_str(f, "tokenizer.ggml.pre", &s);
	/* the official BitNet 2B-4T file has no pre: it is LLaMA-3's */
	if (ret == -ENOENT) {
		v->pre = BN_PRE_LLAMA3;
		return 0;
	}
	if (ret)
		return verr(err, errlen, -EINVAL, "tokenizer.ggml.pre is not a string");
#define PRE_IS(lit) (s.len == sizeof(lit) - 1 && !memcmp(s.ptr, lit, s.len))
	if (PRE_IS("llama-bpe") || PRE_IS("llama3") || PRE_IS("llama-v3") || PRE_IS("default")) {
		v->pre = BN_PRE_LLAMA3;
	} else if (PRE_IS("gpt-2") || PRE_IS("gpt2")) {
		v->pre = BN_PRE_GPT2;
	} else {
		return verr(err, errlen, -ENOTSUP,
			    "pre-tokenizer '%.*s' is not supported (llama-bpe, gpt-2)",
			    (int)(s.len > 64 ? 64 : s.len), s.ptr);
	}
#undef PRE_IS
	return 0;
}

static int read_tokens(struct bn_vocab *v, const struct gguf_file *f, char *err, size_t errlen)
{
	const struct gguf_kv *tok = gguf_find(f, "tokenizer.ggml.tokens");
	const struct gguf_kv *scores = gguf_find(f, "tokenizer.ggml.scores");
	const struct gguf_kv *types = gguf_find(f, "tokenizer.ggml.token_type");
	size_t total = 0, pos = 0, ppos = 0;
	uint32_t i;

	if (!tok || tok->type != GGUF_V_ARRAY || tok->arr_type != GGUF_V_STRING)
		return verr(err, errlen, -EINVAL,
			    "tokenizer.ggml.tokens is missing or not a string array");
	if (tok->arr_n == 0 || tok->arr_n > INT32_MAX)
		return verr(err, errlen, -EINVAL, "tokenizer.ggml.tokens has %llu tokens",
			    (unsigned long long)tok->arr_n);
	v->n_tokens = tok->arr_n;
	if (scores && (scores->type != GGUF_V_ARRAY || scores->arr_type != GGUF_V_FLOAT32 ||
		       scores->arr_n != v->n_tokens))
		return verr(err, errlen, -EINVAL, "tokenizer.ggml.scores is not %u float32 values",
			    v->n_tokens);
	if (types && (types->type != GGUF_V_ARRAY || types->arr_type != GGUF_V_INT32 ||
		      types->arr_n != v->n_tokens))
		return verr(err, errlen, -EINVAL,
			    "tokenizer.ggml.token_type is not %u int32 values", v->n_tokens);
	v->tokens = calloc(v->n_tokens, sizeof(*v->tokens));
	if (!v->tokens)
		return verr(err, errlen, -ENOMEM, "out of memory for %u tokens", v->n_tokens);
	/* the strings lie in the file, so their total is bounded by it */
	for (i = 0; i < v->n_tokens; i++) {
		struct gguf_str s;

		gguf_arr_str(tok, i, &s);
		total += s.len + 1;
	}
	v->text_arena = malloc(total);
	/* a piece is no longer than its text, but for "<unk>" shown as 3 bytes */
	v->piece_arena = malloc(total + 3 * (size_t)v->n_tokens);
	if (!v->text_arena || !v->piece_arena)
		return verr(err, errlen, -ENOMEM, "out of memory for token texts");
	for (i = 0; i < v->n_tokens; i++) {
		struct bn_token *t = &v->tokens[i];
		struct gguf_str s;

		gguf_arr_str(tok, i, &s);
		memcpy(v->text_arena + pos, s.ptr, s.len);
		v->text_arena[pos + s.len] = '\0';
		t->text = v->text_arena + pos;
		t->len = s.len;
		pos += s.len + 1;
		t->type = BN_TOK_NORMAL;
		if (types)
			gguf_arr_i32(types, i, &t->type);
		if (scores)
			gguf_arr_f32(scores, i, &t->score);
		t->piece = v->piece_arena + ppos;
		t->piece_len = make_piece(v, t, v->piece_arena + ppos);
		ppos += t->piece_len;
	}
	return 0;
}

static int read_specials(struct bn_vocab *v, const struct gguf_file *f, char *err, size_t errlen)
{
	bool spm = v->kind == BN_VOCAB_SPM;
	int ret;

	ret = read_special_id(f, "tokenizer.ggml.bos_token_id", spm ? 1 : -1, &v->bos, v->n_tokens, err, errlen) ?:
		      read_special_id(f, "tokenizer.ggml.eos_token_id", spm ? 2 : -1, &v->eos, v->n_tokens, err, errlen) ?:
		      read_special_id(f, "tokenizer.ggml.eot_token_id", -1, &v->eot, v->n_tokens, err, errlen) ?:
		      read_special_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1, &v->unk, v->n_tokens, err, errlen) ?:
		      read_flag(f, "tokenizer.ggml.add_bos_token", spm || v->pre == BN_PRE_LLAMA3, &v->add_bos, err, errlen) ?:
		      read_flag(f, "tokenizer.ggml.add_space_prefix", spm, &v->add_space_prefix,
				err, errlen);
	if (ret)
		return ret;
	/* defaults may point past a small vocab */
	if (v->bos >= (int32_t)v->n_tokens)
		v->bos = -1;
	if (v->eos >= (int32_t)v->n_tokens)
		v->eos = -1;
	if (v->unk >= (int32_t)v->n_tokens)
		v->unk = -1;
	return 0;
}

static void byte_tokens(struct bn_vocab *v)
{
	char buf[8];
	int b;

	for (b = 0; b < 256; b++) {
		snprintf(buf, sizeof(buf), "<0x%02X>", b);
		v->byte_tokens[b] = v->kind == BN_VOCAB_SPM ? find_text(v, buf) : -1;
	}
}

int bn_vocab_from_gguf(const struct gguf_file *f, struct bn_vocab **out, char *err, size_t errlen)
{
	struct bn_vocab *v;
	int ret;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return verr(err, errlen, -ENOMEM, "out of memory");
	ret = read_kind(v, f, err, errlen)	     ?:
		      read_tokens(v, f, err, errlen) ?:
						       read_specials(v, f, err, errlen);
	if (ret)
		goto fail;
	ret = bn_str_map_init(&v->map, v->tokens, v->n_tokens);
	if (ret) {
		verr(err, errlen, ret, "out of memory for the token map");
		goto fail;
	}
	byte_tokens(v);
	ret = collect_specials(v) ?: mark_eog(v);
	if (ret) {
		verr(err, errlen, ret, "out of memory");
		goto fail;
	}
	if (v->kind == BN_VOCAB_BPE) {
		v->ignore_merges = v->pre == BN_PRE_LLAMA3;
		ret = bn_bpe_load(v, f, err, errlen) ?:
						       bn_pretok_new(v->pre, &v->pretok, err, errlen);
		if (ret)
			goto fail;
	}
	*out = v;
	return 0;
fail:
	bn_vocab_free(v);
	return ret;
}

int bn_vocab_load(const char *path, struct bn_vocab **out, char *err, size_t errlen)
{
	struct gguf_file *f;
	char msg[256];
	int ret;

	*out = NULL;
	ret = gguf_open(path, &f, err, errlen);
	if (ret)
		return ret;
	ret = bn_vocab_from_gguf(f, out, msg, sizeof(msg));
	if (ret)
		verr(err, errlen, ret, "%s: %s", path, msg);
	gguf_close(f);
	return ret;
}

void bn_vocab_free(struct bn_vocab *v)
{
	if (!v)
		return;
	bn_pretok_free(v->pretok);
	bn_merge_map_free(&v->merges);
	bn_str_map_free(&v->map);
	free(v->specials);
	free(v->is_eog);
	free(v->text_arena);
	free(v->piece_arena);
	free(v->tokens);
	free(v);
}

uint32_t bn_vocab_size(const struct bn_vocab *v)
{
	return v->n_tokens;
}

bool bn_vocab_add_bos(const struct bn_vocab *v)
{
	return v->add_bos && v->bos >= 0;
}

bool bn_vocab_is_eog(const struct bn_vocab *v, int32_t id)
{
	return id >= 0 && (uint32_t)id < v->n_tokens && v->is_eog[id];
}

int32_t bn_vocab_bos(const struct bn_vocab *v)
{
	return v->bos;
}

int32_t bn_vocab_eos(const struct bn_vocab *v)
{
	return v->eos;
}

int32_t bn_vocab_eot(const struct bn_vocab *v)
{
	return v->eot;
}

int32_t bn_vocab_unk(const struct bn_vocab *v)
{
	return v->unk;
}

const char *bn_vocab_model(const struct bn_vocab *v)
{
	return v->kind == BN_VOCAB_SPM ? "llama" : "gpt2";
}

const char *bn_vocab_text(const struct bn_vocab *v, int32_t id)
{
	if (id < 0 || (uint32_t)id >= v->n_tokens)
		return NULL;
	return v->tokens[id].text;
}

int32_t bn_vocab_find(const struct bn_vocab *v, const char *text, size_t len)
{
	return bn_str_map_get(&v->map, v->tokens, text, len);
}

int bn_token_bytes(const struct bn_vocab *v, int32_t id, const char **bytes, size_t *len)
{
	if (id < 0 || (uint32_t)id >= v->n_tokens)
		return -EINVAL;
	*bytes = v->tokens[id].piece;
	*len = v->tokens[id].piece_len;
	return 0;
}
