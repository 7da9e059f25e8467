// SPDX-License-Identifier: GPL-2.0
/*
 * Child object paths for sd-bus node enumerators (models, sessions).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/bitnetd/bus-util.h"

int bnetd_enumerate_paths(struct bnetd_list *head,
			  const char *(*path_of)(struct bnetd_list *pos, void *ctx), void *ctx,
			  char ***nodes)
{
	struct bnetd_list *pos, *tmp;
	size_t n = 0, i = 0;
	const char *path;
	char **v;

	bnetd_list_for_each_safe(pos, tmp, head)
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	bnetd_list_for_each_safe(pos, tmp, head) {
		path = path_of(pos, ctx);
		if (!path)
			continue;
		v[i] = strdup(path);
		if (!v[i]) {
			while (i)
				free(v[--i]);
			free(v);
			return -ENOMEM;
		}
		i++;
	}
	*nodes = v;
	return 0;
}
