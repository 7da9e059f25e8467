// SPDX-License-Identifier: GPL-2.0
/*
 * Sequences: one float KV cache per sequence, n_layer x n_head_kv x
 * capacity x head_dim for K and for V, so that attention streams each
 * head's positions from consecutive memory. calloc'd memory is only backed
 * by pages as positions are written, so a big capacity costs address space
 * rather than RSS until it is used.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon/engine/model/model_internal.h"

#define MAX_KV_BYTES (64ull << 30)

struct bn_seq *bn_seq_new(struct bn_model *m, uint32_t n_ctx)
{
	struct bn_seq *s;
	size_t n;

	if (!m)
		return NULL;
	if (!n_ctx)
		n_ctx = m->info.n_ctx;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->model = m;
	s->cap = n_ctx;
	s->kv_row = (size_t)m->info.n_head_kv * m->head_dim;
	n = (size_t)m->info.n_layer * n_ctx * s->kv_row;
	if ((unsigned long long)n * 2 * sizeof(float) > MAX_KV_BYTES) {
		free(s);
		return NULL;
	}
	s->k = calloc(n, sizeof(float));
	s->v = calloc(n, sizeof(float));
	s->tokens = calloc(n_ctx, sizeof(int32_t));
	if (!s->k || !s->v || !s->tokens) {
		bn_seq_free(s);
		return NULL;
	}
	return s;
}

void bn_seq_free(struct bn_seq *s)
{
	if (!s)
		return;
	free(s->k);
	free(s->v);
	free(s->tokens);
	free(s);
}

uint32_t bn_seq_len(const struct bn_seq *s)
{
	return s->len;
}

uint32_t bn_seq_capacity(const struct bn_seq *s)
{
	return s->cap;
}

const int32_t *bn_seq_tokens(const struct bn_seq *s)
{
	return s->tokens;
}

void bn_seq_truncate(struct bn_seq *s, uint32_t n)
{
	if (n < s->len)
		s->len = n;
}

size_t bn_seq_bytes(const struct bn_seq *s)
{
	return (size_t)s->model->info.n_layer * s->cap * s->kv_row * 2 * sizeof(float);
}
