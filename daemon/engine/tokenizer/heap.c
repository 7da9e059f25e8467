// SPDX-License-Identifier: GPL-2.0
/*
 * Binary min-heap over opaque elements. Sifting moves a hole rather than
 * swapping, so each level costs one element copy.
 */
#include <string.h>

#include "daemon/engine/tokenizer/heap.h"

static void *at(const struct bn_heap *h, size_t i)
{
	return (char *)h->base + i * h->size;
}

void bn_heap_push(struct bn_heap *h, const void *elem)
{
	size_t i = h->n++;

	while (i) {
		size_t parent = (i - 1) / 2;

		if (!h->less(elem, at(h, parent)))
			break;
		memcpy(at(h, i), at(h, parent), h->size);
		i = parent;
	}
	memcpy(at(h, i), elem, h->size);
}

void bn_heap_pop(struct bn_heap *h, void *top)
{
	/* The last element stays at index n while the hole sinks above it. */
	size_t i = 0, n = --h->n;
	const void *last = at(h, n);

	memcpy(top, at(h, 0), h->size);
	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= n)
			break;
		if (k + 1 < n && h->less(at(h, k + 1), at(h, k)))
			k++;
		if (!h->less(at(h, k), last))
			break;
		memcpy(at(h, i), at(h, k), h->size);
		i = k;
	}
	if (n)
		memcpy(at(h, i), last, h->size);
}
