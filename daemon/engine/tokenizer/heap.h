/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A binary min-heap of fixed-size elements in caller-owned storage: the
 * merge queues of both tokenizers (BPE by rank, SentencePiece by score).
 */
#ifndef BITNET_ENGINE_HEAP_H
#define BITNET_ENGINE_HEAP_H

#include <stdbool.h>
#include <stddef.h>

struct bn_heap {
	void *base; /* room for as many elements as get pushed */
	size_t n;
	size_t size; /* bytes of one element */
	bool (*less)(const void *a, const void *b);
};

/* The caller guarantees room for one more element. */
void bn_heap_push(struct bn_heap *h, const void *elem);
/* Removes the least element into @top; h->n must be non-zero. */
void bn_heap_pop(struct bn_heap *h, void *top);

#endif /* BITNET_ENGINE_HEAP_H */
