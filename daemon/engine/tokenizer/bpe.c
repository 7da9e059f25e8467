// SPDX-License-Identifier: GPL-2.0
/*
 * Byte-level BPE (tokenizer.ggml.model = "gpt2"): each pre-tokenizer word
 * starts as one symbol per byte (the token of the byte's bytes_to_unicode
 * character); the adjacent pair with the lowest merge rank is merged until
 * no pair has a merge. Symbols are token ids, so a merge is one hash lookup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/heap.h"
#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab_priv.h"

int bn_bpe_load(struct bn_vocab *v, const struct gguf_file *f, char *err, size_t errlen)
{
	const struct gguf_kv *kv = gguf_find(f, "tokenizer.ggml.merges");
	char *buf = NULL;
	size_t cap = 0;
	uint64_t i;
	int b, ret;

	for (b = 0; b < 256; b++) {
		char s[4];
		int n = utf8_encode(gpt2_byte_to_cp(b), s);

		v->byte_symbols[b] = bn_str_map_get(&v->map, v->tokens, s, n);
	}
	if (!kv || kv->type != GGUF_V_ARRAY || kv->arr_type != GGUF_V_STRING) {
		snprintf(err, errlen, "tokenizer.ggml.merges is missing or not a string array");
		return -EINVAL;
	}
	if (kv->arr_n > UINT32_MAX / 2) {
		snprintf(err, errlen, "tokenizer.ggml.merges: too many merges");
		return -EINVAL;
	}
	ret = bn_merge_map_init(&v->merges, kv->arr_n);
	if (ret) {
		snprintf(err, errlen, "out of memory for %llu merges",
			 (unsigned long long)kv->arr_n);
		return ret;
	}
	for (i = 0; i < kv->arr_n; i++) {
		struct gguf_str s;
		const char *sp;
		int32_t l, r, res;
		size_t ll;

		gguf_arr_str(kv, i, &s);
		/* "left right"; the split is the first space after the start */
		sp = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
		if (!sp)
			continue;
		ll = sp - s.ptr;
		l = bn_str_map_get(&v->map, v->tokens, s.ptr, ll);
		r = bn_str_map_get(&v->map, v->tokens, sp + 1, s.len - ll - 1);
		if (l < 0 || r < 0)
			continue;
		if (s.len > cap) {
			char *nb = realloc(buf, s.len);

			if (!nb) {
				free(buf);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			buf = nb;
			cap = s.len;
		}
		memcpy(buf, s.ptr, ll);
		memcpy(buf + ll, sp + 1, s.len - ll - 1);
		res = bn_str_map_get(&v->map, v->tokens, buf, s.len - 1);
		if (res >= 0)
			bn_merge_map_put(&v->merges, l, r, i, res);
	}
	free(buf);
	return 0;
}

struct bigram {
	uint32_t rank;
	uint32_t left; /* symbol index */
	int32_t left_id, right_id;
};

struct bpe_ctx {
	const struct bn_vocab *v;
	struct bn_tok_out *out;
	/* scratch reused across words */
	int32_t *id;
	uint32_t *prev, *next;
	struct bn_heap heap; /* of struct bigram */
	char *mapped;
	size_t cap;
};

static bool bigram_less(const void *pa, const void *pb)
{
	const struct bigram *a = pa, *b = pb;

	return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

#define NONE UINT32_MAX

static void try_pair(struct bpe_ctx *c, uint32_t left)
{
	uint32_t right;
	const struct bn_merge *m;

	if (left == NONE || c->next[left] == NONE)
		return;
	right = c->next[left];
	if (c->id[left] < 0 || c->id[right] < 0)
		return;
	m = bn_merge_map_get(&c->v->merges, c->id[left], c->id[right]);
	if (m) {
		struct bigram g = { m->rank, left, c->id[left], c->id[right] };

		bn_heap_push(&c->heap, &g);
	}
}

static int grow(struct bpe_ctx *c, size_t n)
{
	void *a, *b, *d, *e, *f;

	if (n <= c->cap)
		return 0;
	a = realloc(c->id, n * sizeof(*c->id));
	if (a)
		c->id = a;
	b = realloc(c->prev, n * sizeof(*c->prev));
	if (b)
		c->prev = b;
	d = realloc(c->next, n * sizeof(*c->next));
	if (d)
		c->next = d;
	e = realloc(c->heap.base, 3 * n * sizeof(struct bigram));
	if (e)
		c->heap.base = e;
	f = realloc(c->mapped, 2 * n);
	if (f)
		c->mapped = f;
	if (!a || !b || !d || !e || !f)
		return -ENOMEM;
	c->cap = n;
	return 0;
}

/* LLaMA-3 keeps a word that is already a token whole. */
static int32_t whole_word(struct bpe_ctx *c, const uint8_t *w, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += utf8_encode(gpt2_byte_to_cp(w[i]), c->mapped + k);
	return bn_str_map_get(&c->v->map, c->v->tokens, c->mapped, k);
}

static int bpe_word(const char *word, size_t n, void *ctx)
{
	struct bpe_ctx *c = ctx;
	const uint8_t *w = (const uint8_t *)word;
	uint32_t i;
	int ret;

	if (!n)
		return 0;
	if (n > UINT32_MAX / 4)
		return -E2BIG;
	ret = grow(c, n);
	if (ret)
		return ret;
	if (c->v->ignore_merges) {
		int32_t id = whole_word(c, w, n);

		if (id >= 0) {
			bn_tok_emit(c->out, id);
			return 0;
		}
	}
	for (i = 0; i < n; i++) {
		c->id[i] = c->v->byte_symbols[w[i]];
		c->prev[i] = i ? i - 1 : NONE;
		c->next[i] = i + 1 < n ? i + 1 : NONE;
	}
	c->heap.n = 0;
	for (i = 0; i + 1 < n; i++)
		try_pair(c, i);
	while (c->heap.n) {
		struct bigram g;
		uint32_t r;

		bn_heap_pop(&c->heap, &g);
		r = c->next[g.left];

		/* stale: a side has been merged since the pair was queued */
		if (c->id[g.left] != g.left_id || r == NONE || c->id[r] != g.right_id)
			continue;
		c->id[g.left] = bn_merge_map_get(&c->v->merges, g.left_id, g.right_id)->result;
		c->id[r] = -1;
		c->next[g.left] = c->next[r];
		if (c->next[r] != NONE)
			c->prev[c->next[r]] = g.left;
		try_pair(c, c->prev[g.left]);
		try_pair(c, g.left);
	}
	for (i = 0; i != NONE; i = c->next[i])
		if (c->id[i] >= 0)
			bn_tok_emit(c->out, c->id[i]);
	return 0;
}

int bn_bpe_encode(const struct bn_vocab *v, const char *text, size_t len, struct bn_tok_out *o)
{
	struct bpe_ctx c = {
		.v = v,
		.out = o,
		.heap = { .size = sizeof(struct bigram), .less = bigram_less },
	};
	int ret;

	ret = bn_pretok_split(v->pretok, text, len, bpe_word, &c);
	free(c.id);
	free(c.prev);
	free(c.next);
	free(c.heap.base);
	free(c.mapped);
	return ret;
}
