// SPDX-License-Identifier: GPL-2.0
/* Hash maps of the vocab: token text -> id, and id pair -> merge. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/vocab_priv.h"

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Power-of-two slot count with load factor <= 1/2. */
static int slot_count(uint64_t n, uint32_t *mask)
{
	uint64_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	if (cap > (1ull << 31))
		return -E2BIG;
	*mask = cap - 1;
	return 0;
}

int bn_str_map_init(struct bn_str_map *m, const struct bn_token *tokens, uint32_t n)
{
	uint32_t i;
	int ret = slot_count(n, &m->mask);

	if (ret)
		return ret;
	m->slots = malloc(((size_t)m->mask + 1) * sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	memset(m->slots, 0xff, ((size_t)m->mask + 1) * sizeof(*m->slots));
	for (i = 0; i < n; i++) {
		const struct bn_token *t = &tokens[i];
		uint64_t hash = hash_bytes(t->text, t->len);
		uint32_t h = hash & m->mask, tag = hash >> 32;

		/* a repeated text maps to its last id, as in llama.cpp */
		while (m->slots[h].id >= 0) {
			const struct bn_token *o = &tokens[m->slots[h].id];

			if (m->slots[h].tag == tag && o->len == t->len &&
			    !memcmp(o->text, t->text, t->len))
				break;
			h = (h + 1) & m->mask;
		}
		m->slots[h].tag = tag;
		m->slots[h].id = i;
	}
	return 0;
}

void bn_str_map_free(struct bn_str_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

int32_t bn_str_map_get(const struct bn_str_map *m, const struct bn_token *tokens, const char *s,
		       size_t len)
{
	uint64_t hash;
	uint32_t h, tag;

	if (!m->slots)
		return -1;
	hash = hash_bytes(s, len);
	h = hash & m->mask;
	tag = hash >> 32;
	while (m->slots[h].id >= 0) {
		const struct bn_str_slot *sl = &m->slots[h];

		if (sl->tag == tag && tokens[sl->id].len == len &&
		    !memcmp(tokens[sl->id].text, s, len))
			return sl->id;
		h = (h + 1) & m->mask;
	}
	return -1;
}

int bn_merge_map_init(struct bn_merge_map *m, uint64_t n)
{
	int ret = slot_count(n, &m->mask);

	if (ret)
		return ret;
	m->slots = malloc(((size_t)m->mask + 1) * sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	memset(m->slots, 0xff, ((size_t)m->mask + 1) * sizeof(*m->slots));
	return 0;
}

void bn_merge_map_free(struct bn_merge_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

static uint64_t pair_key(int32_t left, int32_t right)
{
	return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

void bn_merge_map_put(struct bn_merge_map *m, int32_t left, int32_t right, uint32_t rank,
		      int32_t result)
{
	uint64_t key = pair_key(left, right);
	uint32_t h = hash_u64(key) & m->mask;

	while (m->slots[h].key != UINT64_MAX) {
		if (m->slots[h].key == key)
			return;
		h = (h + 1) & m->mask;
	}
	m->slots[h].key = key;
	m->slots[h].rank = rank;
	m->slots[h].result = result;
}

const struct bn_merge *bn_merge_map_get(const struct bn_merge_map *m, int32_t left, int32_t right)
{
	uint64_t key = pair_key(left, right);
	uint32_t h;

	if (!m->slots)
		return NULL;
	h = hash_u64(key) & m->mask;
	while (m->slots[h].key != UINT64_MAX) {
		if (m->slots[h].key == key)
			return &m->slots[h];
		h = (h + 1) & m->mask;
	}
	return NULL;
}
