/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BITNET_TOOLS_MKMODEL_VOCAB_BPE_H
#define BITNET_TOOLS_MKMODEL_VOCAB_BPE_H

#include <stdint.h>

struct gguf_writer;

/* A vocab's tokenizer.ggml.* keys; NULL arrays are left out, and unk too if -1. */
struct mkmodel_vocab {
	const char *model, *pre;
	char **toks;
	float *scores; /* or NULL */
	int32_t *types;
	uint32_t n;
	char **merges; /* or NULL */
	uint32_t n_merges;
	uint32_t bos, eos, unk, eot;
};

/* Writes @v's keys, add_bos_token true, in llama.cpp's order. */
int mkmodel_put_vocab(struct gguf_writer *w, const struct mkmodel_vocab *v);

/*
 * A LLaMA-3-style tokenizer of @n tokens (gpt2 byte-level BPE, llama-bpe
 * pre-tokenizer): 256 byte tokens, merged lowercase pieces, then
 * <|begin_of_text|>, <|end_of_text|>, <|eot_id|> as the last three.
 */
int mkmodel_write_bpe_vocab(struct gguf_writer *w, uint32_t n);

#endif /* BITNET_TOOLS_MKMODEL_VOCAB_BPE_H */
