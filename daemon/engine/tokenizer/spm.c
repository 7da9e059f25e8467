// SPDX-License-Identifier: GPL-2.0
/*
 * SentencePiece (tokenizer.ggml.model = "llama"), as llama.cpp runs it:
 * spaces become U+2581, the text starts as one symbol per character, and
 * the adjacent pair whose concatenation is the best-scoring token is merged
 * until none is a token. A symbol left that is no token falls back to its
 * bytes (<0xNN> tokens).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/heap.h"
#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab_priv.h"

struct spm_sym {
	uint32_t start, len; /* len 0: merged into its left neighbour */
	uint32_t prev, next;
};

struct spm_pair {
	float score;
	uint32_t left;
	uint32_t size; /* bytes of both symbols when queued */
};

struct spm_ctx {
	const struct bn_vocab *v;
	const char *s;
	struct spm_sym *sym;
	struct bn_heap heap; /* of struct spm_pair */
};

#define NONE UINT32_MAX

static bool pair_before(const void *pa, const void *pb)
{
	const struct spm_pair *a = pa, *b = pb;

	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void try_pair(struct spm_ctx *c, uint32_t left)
{
	uint32_t right, size;
	int32_t id;

	if (left == NONE || c->sym[left].next == NONE)
		return;
	right = c->sym[left].next;
	size = c->sym[left].len + c->sym[right].len;
	id = bn_str_map_get(&c->v->map, c->v->tokens, c->s + c->sym[left].start, size);
	if (id >= 0) {
		struct spm_pair p = { c->v->tokens[id].score, left, size };

		bn_heap_push(&c->heap, &p);
	}
}

static void emit_symbol(const struct spm_ctx *c, const struct spm_sym *sym, struct bn_tok_out *o)
{
	const struct bn_vocab *v = c->v;
	const char *p = c->s + sym->start;
	int32_t id = bn_str_map_get(&v->map, v->tokens, p, sym->len);
	uint32_t i;

	if (id >= 0) {
		bn_tok_emit(o, id);
		return;
	}
	for (i = 0; i < sym->len; i++) {
		uint8_t b = p[i];

		id = v->byte_tokens[b];
		if (id < 0)
			id = bn_str_map_get(&v->map, v->tokens, p + i, 1);
		if (id < 0)
			id = v->unk;
		if (id >= 0)
			bn_tok_emit(o, id);
	}
}

static int spm_run(struct spm_ctx *c, size_t len, struct bn_tok_out *o)
{
	const uint8_t *s = (const uint8_t *)c->s;
	uint32_t n = 0, i;
	size_t pos = 0;

	while (pos < len) {
		int k = utf8_char_len(s + pos, len - pos);

		if (k <= 0)
			k = 1; /* validated by the caller; be safe anyway */
		c->sym[n].start = pos;
		c->sym[n].len = k;
		c->sym[n].prev = n ? n - 1 : NONE;
		c->sym[n].next = NONE;
		if (n)
			c->sym[n - 1].next = n;
		n++;
		pos += k;
	}
	for (i = 0; i + 1 < n; i++)
		try_pair(c, i);
	while (c->heap.n) {
		struct spm_pair p;
		struct spm_sym *l, *r;

		bn_heap_pop(&c->heap, &p);
		l = &c->sym[p.left];

		if (!l->len || l->next == NONE)
			continue;
		r = &c->sym[l->next];
		if (!r->len || l->len + r->len != p.size)
			continue;
		l->len += r->len;
		r->len = 0;
		l->next = r->next;
		if (r->next != NONE)
			c->sym[r->next].prev = p.left;
		try_pair(c, l->prev);
		try_pair(c, p.left);
	}
	for (i = 0; n && i != NONE; i = c->sym[i].next)
		emit_symbol(c, &c->sym[i], o);
	return 0;
}

int bn_spm_encode(const struct bn_vocab *v, const char *text, size_t len, bool space_prefix,
		  struct bn_tok_out *o)
{
	struct spm_ctx c = {
		.v = v,
		.heap = { .size = sizeof(struct spm_pair), .less = pair_before },
	};
	size_t i, n = 0, max;
	char *esc;
	int ret = -ENOMEM;

	if (len > (SIZE_MAX - 3) / 3 || len > UINT32_MAX / 4)
		return -E2BIG;
	max = 3 * len + 3;
	esc = malloc(max ? max : 1);
	c.sym = malloc((len + 1) * sizeof(*c.sym));
	c.heap.base = malloc(3 * (len + 1) * sizeof(struct spm_pair));
	if (!esc || !c.sym || !c.heap.base)
		goto out;
	if (space_prefix) {
		memcpy(esc, "\xe2\x96\x81", 3);
		n = 3;
	}
	for (i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(esc + n, "\xe2\x96\x81", 3);
			n += 3;
		} else {
			esc[n++] = text[i];
		}
	}
	c.s = esc;
	ret = spm_run(&c, n, o);
out:
	free(esc);
	free(c.sym);
	free(c.heap.base);
	return ret;
}
