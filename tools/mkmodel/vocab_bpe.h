/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BITNET_TOOLS_MKMODEL_VOCAB_BPE_H
#define BITNET_TOOLS_MKMODEL_VOCAB_BPE_H

#include <stdint.h>

struct gguf_writer;

/*
 * A LLaMA-3-style tokenizer of @n tokens (gpt2 byte-level BPE, llama-bpe
 * pre-tokenizer): 256 byte tokens, merged lowercase pieces, then
 * <|begin_of_text|>, <|end_of_text|>, <|eot_id|> as the last three.
 */
int mkmodel_write_bpe_vocab(struct gguf_writer *w, uint32_t n);

#endif /* BITNET_TOOLS_MKMODEL_VOCAB_BPE_H */
