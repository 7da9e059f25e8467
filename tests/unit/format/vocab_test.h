/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference vocabs in ../shared/vocab, shared by the tokenizer and
 * detokenizer tests and the tokenizer fuzzer.
 */
#ifndef BITNET_VOCAB_TEST_H
#define BITNET_VOCAB_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab.h"

/* LLaMA-3 BPE, LLaMA-2 SentencePiece, GPT-2 */
#define TEST_N_VOCABS 3
static const char *const test_vocabs[TEST_N_VOCABS] = {
	"ggml-vocab-llama-bpe.gguf",
	"ggml-vocab-llama-spm.gguf",
	"ggml-vocab-gpt-2.gguf",
};

static inline void test_each_vocab(void (*run)(const char *name))
{
	size_t i;

	for (i = 0; i < TEST_N_VOCABS; i++)
		run(test_vocabs[i]);
}

/* Byte-level BPE loses nothing: the bytes of @ids are exactly @text. */
static inline bool test_decodes_to(const struct bn_vocab *v, const int32_t *ids, int n,
				   const char *text, size_t len)
{
	size_t pos = 0;
	int i;

	for (i = 0; i < n; i++) {
		const char *b;
		size_t bl;

		if (bn_token_bytes(v, ids[i], &b, &bl) || pos + bl > len ||
		    memcmp(text + pos, b, bl))
			return false;
		pos += bl;
	}
	return pos == len;
}

/*
 * Detokenizes @ids one at a time, then flushes: false if a piece is not
 * whole, valid UTF-8 or anything fails. With @text, the pieces are
 * collected there (@cap bytes, NUL-terminated), *@len bytes of them.
 */
static inline bool test_detok_stream(const struct bn_vocab *v, const int32_t *ids, int n,
				     char *text, size_t cap, size_t *len)
{
	struct bn_detok d;
	char piece[1024];
	size_t at = 0;
	int i, k;

	bn_detok_init(&d, v);
	for (i = 0; i <= n; i++) {
		k = i < n ? bn_detok_push(&d, ids[i], piece, sizeof(piece)) :
			    bn_detok_flush(&d, piece, sizeof(piece));
		if (k < 0 || !utf8_valid(piece, k) || (text && at + k >= cap))
			return false;
		if (text)
			memcpy(text + at, piece, k);
		at += k;
	}
	if (text)
		text[at] = '\0';
	if (len)
		*len = at;
	return true;
}

#endif /* BITNET_VOCAB_TEST_H */
