// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the sd-bus object files: child object paths for node
 * enumerators (models, sessions), their registration, a{sv} options.
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

int bnetd_bus_add_objects(sd_bus *bus, const char *prefix, const char *iface,
			  const sd_bus_vtable *vtable, sd_bus_object_find_t find,
			  sd_bus_node_enumerator_t enumerate, void *userdata)
{
	int r;

	r = sd_bus_add_fallback_vtable(bus, NULL, prefix, iface, vtable, find, userdata);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(bus, NULL, prefix, enumerate, userdata);
}

int bnetd_bus_read_dict(sd_bus_message *m,
			int (*entry)(sd_bus_message *m, const char *key, void *ctx,
				     sd_bus_error *err),
			void *ctx, sd_bus_error *err)
{
	const char *key;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		r = entry(m, key, ctx, err);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 0;
}
