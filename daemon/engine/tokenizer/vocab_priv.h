/* SPDX-License-Identifier: GPL-2.0 */
/* The vocab's internals, shared by the tokenizer and detokenizer files. */
#ifndef BITNET_VOCAB_PRIV_H
#define BITNET_VOCAB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/engine/tokenizer/vocab.h"

/* tokenizer.ggml.token_type values (llama.cpp's) */
enum bn_token_type {
	BN_TOK_UNDEFINED = 0,
	BN_TOK_NORMAL = 1,
	BN_TOK_UNKNOWN = 2,
	BN_TOK_CONTROL = 3,
	BN_TOK_USER_DEFINED = 4,
	BN_TOK_UNUSED = 5,
	BN_TOK_BYTE = 6,
};

enum bn_vocab_kind {
	BN_VOCAB_SPM, /* "llama": SentencePiece with scores */
	BN_VOCAB_BPE, /* "gpt2": byte-level BPE with merges */
};

enum bn_pre_kind {
	BN_PRE_NONE, /* SentencePiece has no pre-tokenizer */
	BN_PRE_LLAMA3,
	BN_PRE_GPT2,
};

struct bn_token {
	const char *text; /* as stored, NUL-terminated */
	uint32_t len;
	const char *piece; /* the bytes it stands for */
	uint32_t piece_len;
	float score;
	int32_t type;
};

/* Open-addressing map from token text to id. */
struct bn_str_slot {
	uint32_t tag; /* high bits of the hash: skips most compares */
	int32_t id;   /* -1: empty */
};

struct bn_str_map {
	struct bn_str_slot *slots;
	uint32_t mask;
};

/* Open-addressing map from a pair of token ids to its merge. */
struct bn_merge {
	uint64_t key; /* left << 32 | right; UINT64_MAX: empty */
	uint32_t rank;
	int32_t result; /* the merged token */
};

struct bn_merge_map {
	struct bn_merge *slots;
	uint32_t mask;
};

struct bn_pretok;

struct bn_vocab {
	enum bn_vocab_kind kind;
	enum bn_pre_kind pre;
	uint32_t n_tokens;
	struct bn_token *tokens;
	char *text_arena;
	char *piece_arena;
	struct bn_str_map map;

	int32_t bos, eos, eot, unk;
	bool add_bos;
	bool add_space_prefix;
	bool ignore_merges; /* LLaMA-3: a word that is a token stays whole */
	uint8_t *is_eog;    /* n_tokens flags */

	/* special tokens matched in text, longest first */
	int32_t *specials;
	uint32_t n_specials;

	/* SentencePiece: <0xNN> tokens, -1 if missing */
	int32_t byte_tokens[256];

	/* BPE: the token of each byte's bytes_to_unicode character */
	int32_t byte_symbols[256];
	struct bn_merge_map merges;
	struct bn_pretok *pretok;
};

int bn_str_map_init(struct bn_str_map *m, const struct bn_token *tokens, uint32_t n);
void bn_str_map_free(struct bn_str_map *m);
int32_t bn_str_map_get(const struct bn_str_map *m, const struct bn_token *tokens, const char *s,
		       size_t len);

int bn_merge_map_init(struct bn_merge_map *m, uint64_t n);
void bn_merge_map_free(struct bn_merge_map *m);
/* Keeps the first (best) rank if a pair is given twice. */
void bn_merge_map_put(struct bn_merge_map *m, int32_t left, int32_t right, uint32_t rank,
		      int32_t result);
const struct bn_merge *bn_merge_map_get(const struct bn_merge_map *m, int32_t left, int32_t right);

/* Pre-tokenizer (PCRE2): splits text into words. */
int bn_pretok_new(enum bn_pre_kind kind, struct bn_pretok **out, char *err, size_t errlen);
void bn_pretok_free(struct bn_pretok *p);
/* Calls @fn for each word of @text; stops at the first non-zero return. */
int bn_pretok_split(const struct bn_pretok *p, const char *text, size_t len,
		    int (*fn)(const char *word, size_t len, void *ctx), void *ctx);

/* Output sink shared by the tokenizers: counts past @max, stores below. */
struct bn_tok_out {
	int32_t *ids;
	size_t max;
	size_t n;
};

static inline void bn_tok_emit(struct bn_tok_out *o, int32_t id)
{
	if (o->n < o->max)
		o->ids[o->n] = id;
	o->n++;
}

/* @space_prefix: prepend the dummy "▁" (text starts or follows a special) */
int bn_spm_encode(const struct bn_vocab *v, const char *text, size_t len, bool space_prefix,
		  struct bn_tok_out *o);
int bn_bpe_encode(const struct bn_vocab *v, const char *text, size_t len, struct bn_tok_out *o);
/* Builds the merge map and byte symbols at load time. */
int bn_bpe_load(struct bn_vocab *v, const struct gguf_file *f, char *err, size_t errlen);

#endif /* BITNET_VOCAB_PRIV_H */
