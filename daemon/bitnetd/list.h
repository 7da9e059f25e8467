/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal intrusive doubly linked list: the daemon's models, sessions and
 * request queues.
 */
#ifndef BITNETD_LIST_H
#define BITNETD_LIST_H

#include <stdbool.h>
#include <stddef.h>

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

struct bnetd_list {
	struct bnetd_list *prev, *next;
};

static inline void bnetd_list_init(struct bnetd_list *h)
{
	h->prev = h->next = h;
}

static inline bool bnetd_list_empty(const struct bnetd_list *h)
{
	return h->next == h;
}

static inline void bnetd_list_add_tail(struct bnetd_list *n, struct bnetd_list *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void bnetd_list_del(struct bnetd_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define bnetd_list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#endif /* BITNETD_LIST_H */
