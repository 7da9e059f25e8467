/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building a vocab from an opened GGUF, and what the model loader needs to
 * know about it beyond engine.h's tokenizer API.
 */
#ifndef BITNET_VOCAB_H
#define BITNET_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/engine/engine.h"
#include "daemon/engine/gguf/gguf.h"

/*
 * Reads tokenizer.ggml.* from @f. The vocab copies what it needs, so @f
 * may be closed afterwards. On error fills @err and returns -errno.
 */
int bn_vocab_from_gguf(const struct gguf_file *f, struct bn_vocab **out, char *err, size_t errlen);

/* Special token ids, -1 when the vocab has none. */
int32_t bn_vocab_bos(const struct bn_vocab *v);
int32_t bn_vocab_eos(const struct bn_vocab *v);
int32_t bn_vocab_eot(const struct bn_vocab *v);
int32_t bn_vocab_unk(const struct bn_vocab *v);
/* tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece) */
const char *bn_vocab_model(const struct bn_vocab *v);
/* The token's text as stored in the vocab (NUL-terminated), or NULL. */
const char *bn_vocab_text(const struct bn_vocab *v, int32_t id);
/* Id of the token whose stored text is exactly @text, or -1. */
int32_t bn_vocab_find(const struct bn_vocab *v, const char *text, size_t len);

#endif /* BITNET_VOCAB_H */
