/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the sd-bus object files (*-bus.c).
 */
#ifndef BITNETD_BUS_UTIL_H
#define BITNETD_BUS_UTIL_H

#include "daemon/bitnetd/list.h"

/*
 * NULL-terminated strdup'd paths of the entries of @head for which @path_of
 * gives one (NULL: leave the entry out), as sd-bus node enumerators return.
 */
int bnetd_enumerate_paths(struct bnetd_list *head,
			  const char *(*path_of)(struct bnetd_list *pos, void *ctx), void *ctx,
			  char ***nodes);

#endif /* BITNETD_BUS_UTIL_H */
