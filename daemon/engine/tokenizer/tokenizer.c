// SPDX-License-Identifier: GPL-2.0
/*
 * bn_tokenize(): splits the text at special tokens (CONTROL ones only when
 * asked to parse them, USER_DEFINED ones always, as llama.cpp does), then
 * hands each stretch of plain text to the vocab's tokenizer.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab_priv.h"

struct fragment {
	size_t start, len;
	int32_t token; /* -1: plain text */
};

struct fragments {
	struct fragment *f;
	size_t n, cap;
};

static int frag_add(struct fragments *fs, size_t start, size_t len, int32_t token)
{
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? 2 * fs->cap : 16;
		struct fragment *nf = realloc(fs->f, cap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		fs->f = nf;
		fs->cap = cap;
	}
	fs->f[fs->n++] = (struct fragment){ start, len, token };
	return 0;
}

/* Splits every plain fragment of @in at the occurrences of token @id. */
static int split_at(const struct bn_vocab *v, const char *text, struct fragments *in,
		    struct fragments *out, int32_t id)
{
	const struct bn_token *t = &v->tokens[id];
	size_t i;
	int ret = 0;

	out->n = 0;
	for (i = 0; i < in->n && !ret; i++) {
		struct fragment fr = in->f[i];
		size_t pos = fr.start, end = fr.start + fr.len;
		const char *hit;

		if (fr.token >= 0 || fr.len < t->len) {
			ret = frag_add(out, fr.start, fr.len, fr.token);
			continue;
		}
		while (!ret && (hit = memmem(text + pos, end - pos, t->text, t->len))) {
			size_t at = hit - text;

			if (at > pos)
				ret = frag_add(out, pos, at - pos, -1);
			if (!ret)
				ret = frag_add(out, at, t->len, id);
			pos = at + t->len;
		}
		if (!ret && pos < end)
			ret = frag_add(out, pos, end - pos, -1);
	}
	return ret;
}

static int partition(const struct bn_vocab *v, const char *text, size_t len, bool parse_special,
		     struct fragments *fs)
{
	struct fragments other = { 0 }, tmp;
	uint32_t i;
	int ret;

	ret = frag_add(fs, 0, len, -1);
	for (i = 0; i < v->n_specials && !ret; i++) {
		int32_t id = v->specials[i];

		if (!parse_special && v->tokens[id].type != BN_TOK_USER_DEFINED)
			continue;
		ret = split_at(v, text, fs, &other, id);
		tmp = *fs;
		*fs = other;
		other = tmp;
	}
	free(other.f);
	return ret;
}

int bn_tokenize(const struct bn_vocab *v, const char *text, size_t len, bool add_bos,
		bool parse_special, int32_t *ids, size_t max)
{
	struct bn_tok_out o = { .ids = ids, .max = ids ? max : 0 };
	struct fragments fs = { 0 };
	bool prev_special = true;
	size_t i;
	int ret = 0;

	if (!v || (!text && len))
		return -EINVAL;
	if (len && !utf8_valid(text, len))
		return -EINVAL;
	if (add_bos && v->bos >= 0)
		bn_tok_emit(&o, v->bos);
	if (len)
		ret = partition(v, text, len, parse_special, &fs);
	for (i = 0; i < fs.n && !ret; i++) {
		struct fragment *fr = &fs.f[i];

		if (fr->token >= 0) {
			bn_tok_emit(&o, fr->token);
			prev_special = true;
		} else if (v->kind == BN_VOCAB_SPM) {
			ret = bn_spm_encode(v, text + fr->start, fr->len,
					    v->add_space_prefix && prev_special, &o);
			prev_special = false;
		} else {
			ret = bn_bpe_encode(v, text + fr->start, fr->len, &o);
		}
	}
	free(fs.f);
	if (ret)
		return ret;
	return o.n > INT_MAX ? -E2BIG : (int)o.n;
}
