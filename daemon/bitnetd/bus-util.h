/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the sd-bus object files (*-bus.c).
 */
#ifndef BITNETD_BUS_UTIL_H
#define BITNETD_BUS_UTIL_H

#include <systemd/sd-bus.h>

#include "daemon/bitnetd/list.h"

/*
 * NULL-terminated strdup'd paths of the entries of @head for which @path_of
 * gives one (NULL: leave the entry out), as sd-bus node enumerators return.
 */
int bnetd_enumerate_paths(struct bnetd_list *head,
			  const char *(*path_of)(struct bnetd_list *pos, void *ctx), void *ctx,
			  char ***nodes);

/*
 * Serves @iface with @vtable on every object below @prefix that @find
 * resolves, and lists what @enumerate returns as the prefix's children.
 */
int bnetd_bus_add_objects(sd_bus *bus, const char *prefix, const char *iface,
			  const sd_bus_vtable *vtable, sd_bus_object_find_t find,
			  sd_bus_node_enumerator_t enumerate, void *userdata);

/*
 * Reads an a{sv} dictionary from @m: @entry gets each key with the message
 * at its variant, reads the value and returns >= 0, or < 0 (an error set in
 * @err) to stop there. Returns 0 or the first error.
 */
int bnetd_bus_read_dict(sd_bus_message *m,
			int (*entry)(sd_bus_message *m, const char *key, void *ctx,
				     sd_bus_error *err),
			void *ctx, sd_bus_error *err);

#endif /* BITNETD_BUS_UTIL_H */
