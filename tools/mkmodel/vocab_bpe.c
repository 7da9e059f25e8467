// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-mkmodel --vocab llama3: the tokenizer bitnet.cpp's Falcon3 and
 * Llama3-8B-1.58 exports carry (tokenizer.ggml.model = gpt2, pre =
 * llama-bpe), in miniature. Tokens are GPT-2's byte-to-unicode spelling;
 * each piece is an earlier token plus one letter, and its merge ranks
 * right after its parent's, so every piece can be built by the merges.
 * Also mkmodel_put_vocab(), the tokenizer keys both vocabs write.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "tools/mkmodel/vocab_bpe.h"

#define N_SPECIAL 3
#define MAX_PIECE 64

static const char *const specials[N_SPECIAL] = { "<|begin_of_text|>", "<|end_of_text|>",
						 "<|eot_id|>" };

static char *byte_token(uint8_t b)
{
	char s[8];
	int n = utf8_encode(gpt2_byte_to_cp(b), s);

	s[n] = 0;
	return strdup(s);
}

int mkmodel_put_vocab(struct gguf_writer *w, const struct mkmodel_vocab *v)
{
	const char *const *toks = (const char *const *)v->toks;
	bool add_bos = true;
	int rc;

	rc = gguf_writer_kv_str(w, "tokenizer.ggml.model", v->model);
	if (!rc)
		rc = gguf_writer_kv_str(w, "tokenizer.ggml.pre", v->pre);
	if (!rc)
		rc = gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", toks, v->n);
	if (!rc && v->scores)
		rc = gguf_writer_kv_arr(w, "tokenizer.ggml.scores", GGUF_V_FLOAT32, v->scores,
					v->n);
	if (!rc)
		rc = gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_V_INT32, v->types,
					v->n);
	if (!rc && v->merges)
		rc = gguf_writer_kv_arr_str(w, "tokenizer.ggml.merges",
					    (const char *const *)v->merges, v->n_merges);
	if (!rc)
		rc = gguf_writer_kv(w, "tokenizer.ggml.bos_token_id", GGUF_V_UINT32, &v->bos);
	if (!rc)
		rc = gguf_writer_kv(w, "tokenizer.ggml.eos_token_id", GGUF_V_UINT32, &v->eos);
	if (!rc && v->unk != UINT32_MAX)
		rc = gguf_writer_kv(w, "tokenizer.ggml.unknown_token_id", GGUF_V_UINT32, &v->unk);
	if (!rc)
		rc = gguf_writer_kv(w, "tokenizer.ggml.eot_token_id", GGUF_V_UINT32, &v->eot);
	if (!rc)
		rc = gguf_writer_kv(w, "tokenizer.ggml.add_bos_token", GGUF_V_BOOL, &add_bos);
	return rc;
}

int mkmodel_write_bpe_vocab(struct gguf_writer *w, uint32_t n)
{
	uint32_t n_pieces = n - 256 - N_SPECIAL, i, made = 0, parent;
	char **toks = calloc(n, sizeof(char *)), **merges = calloc(n_pieces, sizeof(char *));
	int32_t *types = malloc(n * sizeof(int32_t));
	int rc = -ENOMEM;

	if (n < 256 + N_SPECIAL)
		return -EINVAL;
	if (!toks || !merges || !types)
		goto out;
	for (i = 0; i < 256; i++) {
		toks[i] = byte_token((uint8_t)i);
		types[i] = 1;
		if (!toks[i])
			goto out;
	}
	/*
	 * Parents in order: the space byte ("Ġ"), the letters, then every
	 * piece made; each parent gets its 26 one-letter extensions.
	 */
	for (parent = 0; made < n_pieces; parent++) {
		uint32_t p = parent == 0  ? ' ' :
			     parent <= 26 ? 'a' + parent - 1 :
					    256 + parent - 27;
		char c;

		for (c = 'a'; c <= 'z' && made < n_pieces; c++) {
			char buf[MAX_PIECE * 2 + 2];
			size_t pl = strlen(toks[p]);

			if (pl + 2 > MAX_PIECE) {
				rc = -E2BIG;
				goto out;
			}
			snprintf(buf, sizeof(buf), "%s%c", toks[p], c);
			toks[256 + made] = strdup(buf);
			snprintf(buf, sizeof(buf), "%s %c", toks[p], c);
			merges[made] = strdup(buf);
			types[256 + made] = 1;
			if (!toks[256 + made] || !merges[made])
				goto out;
			made++;
		}
	}
	for (i = 0; i < N_SPECIAL; i++) {
		toks[n - N_SPECIAL + i] = strdup(specials[i]);
		types[n - N_SPECIAL + i] = 3;
		if (!toks[n - N_SPECIAL + i])
			goto out;
	}
	/* model, pre, tokens, no scores, types, n, merges, bos, eos, no unk, eot */
	rc = mkmodel_put_vocab(w, &(struct mkmodel_vocab){ "gpt2", "llama-bpe", toks, NULL, types,
							   n, merges, n_pieces, n - 3, n - 2,
							   UINT32_MAX, n - 1 });
out:
	for (i = 0; toks && i < n; i++)
		free(toks[i]);
	for (i = 0; merges && i < n_pieces; i++)
		free(merges[i]);
	free(toks);
	free(merges);
	free(types);
	return rc;
}
