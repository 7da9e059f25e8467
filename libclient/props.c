// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading a{sv} dictionaries (property sets, Finished stats) into structs
 * described by tables, so each caller lists fields instead of parsing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libclient/internal.h"

static const struct prop_desc *props_find(const struct prop_desc *desc, const char *name)
{
	for (; desc->name; desc++)
		if (strcmp(desc->name, name) == 0)
			return desc;
	return NULL;
}

static int props_read_value(sd_bus_message *m, const struct prop_desc *d, void *base)
{
	char sig[2] = { d->type, '\0' };
	void *field = (char *)base + d->offset;
	const char *s;
	int b, r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, sig);
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	switch (d->type) {
	case 's':
		r = sd_bus_message_read_basic(m, 's', &s);
		if (r > 0) {
			char *copy = strdup(s);

			if (!copy)
				return -ENOMEM;
			free(*(char **)field);
			*(char **)field = copy;
		}
		break;
	case 'b':
		r = sd_bus_message_read_basic(m, 'b', &b);
		if (r > 0)
			*(bool *)field = b;
		break;
	default:
		r = sd_bus_message_read_basic(m, d->type, field);
		break;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

int bcl_props_read(sd_bus_message *m, const struct prop_desc *desc, void *base)
{
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
		const struct prop_desc *d;
		const char *name;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		d = props_find(desc, name);
		if (d)
			r = props_read_value(m, d, base);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r == -ENXIO ? -EBADMSG : r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

void bcl_props_free_strings(const struct prop_desc *desc, void *base)
{
	for (; desc->name; desc++) {
		if (desc->type == 's') {
			char **field = (char **)((char *)base + desc->offset);

			free(*field);
			*field = NULL;
		}
	}
}

/* Missing string properties read as "" so callers never see NULL. */
static int props_default_strings(const struct prop_desc *desc, void *base)
{
	for (; desc->name; desc++) {
		char **field = (char **)((char *)base + desc->offset);

		if (desc->type == 's' && !*field) {
			*field = strdup("");
			if (!*field)
				return -ENOMEM;
		}
	}
	return 0;
}

int bcl_props_get_all(struct bitnet_client *client, const char *path, const char *iface,
		      const struct prop_desc *desc, void *base)
{
	sd_bus_message *reply = NULL;
	int r;

	r = bcl_client_call(client, path, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s",
			    iface);
	if (r < 0)
		return r;
	r = bcl_props_read(reply, desc, base);
	sd_bus_message_unref(reply);
	if (r >= 0)
		r = props_default_strings(desc, base);
	if (r < 0) {
		bcl_props_free_strings(desc, base);
		return bcl_client_fail(client, r, "reading the properties of %s", path);
	}
	return 0;
}
