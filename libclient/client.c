// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client handle: connecting, error reporting, event-loop integration and
 * the method-call helpers every other file uses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libclient/internal.h"

static const sd_bus_error_map bitnet_error_map[] = {
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.NoSuchModel", ENOENT),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.NoSuchSession", ENOENT),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.NoSuchRequest", ESRCH),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.ModelBusy", EBUSY),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.ModelLoadFailed", EBADMSG),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.QueueFull", EAGAIN),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.QuotaExceeded", EDQUOT),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.ContextFull", ENOSPC),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.OutOfMemory", ENOMEM),
	SD_BUS_ERROR_MAP("org.bitnet.Inference1.Error.NotOnDevice", ENODEV),
	SD_BUS_ERROR_MAP_END
};

static __thread char connect_error[256];
static pthread_once_t error_map_once = PTHREAD_ONCE_INIT;
static int error_map_result;

/* sd_bus_error_add_map() edits process-wide state without a lock: once. */
static void register_error_map(void)
{
	error_map_result = sd_bus_error_add_map(bitnet_error_map);
}

const char *bitnet_client_connect_error(void)
{
	return connect_error;
}

static int client_connect(struct bitnet_client **out, const char *address, bool user)
{
	struct bitnet_client *client;
	const char *what;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	connect_error[0] = '\0';
	client = calloc(1, sizeof(*client));
	if (!client) {
		snprintf(connect_error, sizeof(connect_error), "out of memory");
		return -ENOMEM;
	}
	pthread_once(&error_map_once, register_error_map);
	r = error_map_result;
	if (r < 0) {
		free(client);
		snprintf(connect_error, sizeof(connect_error), "registering error names: %s",
			 strerror(-r));
		return r;
	}

	if (address) {
		what = address;
		r = sd_bus_new(&client->bus);
		if (r >= 0)
			r = sd_bus_set_address(client->bus, address);
		if (r >= 0)
			r = sd_bus_set_bus_client(client->bus, 1);
		if (r >= 0)
			r = sd_bus_start(client->bus);
	} else if (user) {
		what = "the user bus";
		r = sd_bus_open_user(&client->bus);
	} else {
		what = "the system bus";
		r = sd_bus_open_system(&client->bus);
	}
	if (r < 0) {
		snprintf(connect_error, sizeof(connect_error), "connecting to %s: %s", what,
			 strerror(-r));
		sd_bus_unref(client->bus);
		free(client);
		return r;
	}
	*out = client;
	return 0;
}

int bitnet_client_new_system(struct bitnet_client **out)
{
	return client_connect(out, NULL, false);
}

int bitnet_client_new_user(struct bitnet_client **out)
{
	return client_connect(out, NULL, true);
}

int bitnet_client_new_address(struct bitnet_client **out, const char *address)
{
	if (!address || !*address) {
		snprintf(connect_error, sizeof(connect_error), "empty bus address");
		return -EINVAL;
	}
	return client_connect(out, address, false);
}

int bitnet_client_new_default(struct bitnet_client **out)
{
	const char *address = getenv("BITNET_BUS_ADDRESS");

	if (address && *address)
		return client_connect(out, address, false);
	return client_connect(out, NULL, false);
}

void bitnet_client_free(struct bitnet_client *client)
{
	if (!client)
		return;
	while (client->sessions)
		bitnet_session_close(client->sessions);
	sd_bus_slot_unref(client->owner_slot);
	if (client->bus)
		sd_bus_flush_close_unref(client->bus);
	free(client->error);
	free(client);
}

const char *bitnet_client_last_error(const struct bitnet_client *client)
{
	if (!client || !client->error)
		return "";
	return client->error;
}

static void client_set_error(struct bitnet_client *client, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	free(client->error);
	client->error = msg;
}

int bcl_client_fail(struct bitnet_client *client, int r, const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	free(client->error);
	client->error = NULL;
	if (what && asprintf(&client->error, "%s: %s", what, strerror(-r)) < 0)
		client->error = NULL;
	free(what);
	return r;
}

static void client_set_errorf(struct bitnet_client *client, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_set_error(client, fmt, ap);
	va_end(ap);
}

int bcl_client_fail_bus(struct bitnet_client *client, int r, const sd_bus_error *error,
			const char *what)
{
	if (error && error->message && *error->message)
		client_set_errorf(client, "%s: %s", what, error->message);
	else if (r == -EHOSTDOWN || r == -ENXIO)
		client_set_errorf(client, "%s: bitnetd is not running on this bus", what);
	else
		client_set_errorf(client, "%s: %s", what, strerror(-r));
	return r;
}

int bcl_client_new_call(struct bitnet_client *client, const char *path, const char *iface,
			const char *member, sd_bus_message **m)
{
	int r = sd_bus_message_new_method_call(client->bus, m, BITNET_SERVICE, path, iface, member);

	if (r < 0)
		return bcl_client_fail(client, r, "%s", member);
	return 0;
}

int bcl_client_send(struct bitnet_client *client, sd_bus_message *m, sd_bus_message **reply)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call(client->bus, m, 0, &error, reply);
	if (r < 0) {
		const char *member = sd_bus_message_get_member(m);

		bcl_client_fail_bus(client, r, &error, member ? member : "call");
	}
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

int bcl_client_call(struct bitnet_client *client, const char *path, const char *iface,
		    const char *member, sd_bus_message **reply, const char *types, ...)
{
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = bcl_client_new_call(client, path, iface, member, &m);
	if (r < 0)
		return r;
	if (types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		if (r < 0) {
			sd_bus_message_unref(m);
			return bcl_client_fail(client, r, "%s: building the call", member);
		}
	}
	r = bcl_client_send(client, m, reply);
	sd_bus_message_unref(m);
	return r;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct bitnet_client *client = userdata;
	const char *name, *old_owner, *new_owner;

	(void)ret_error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (strcmp(name, BITNET_SERVICE) == 0 && *old_owner)
		bcl_client_fail_pending(client, "bitnetd left the bus");
	return 0;
}

int bcl_client_watch_daemon(struct bitnet_client *client)
{
	int r;

	if (client->owner_slot)
		return 0;
	r = sd_bus_add_match(client->bus, &client->owner_slot,
			     "type='signal',sender='org.freedesktop.DBus',"
			     "path='/org/freedesktop/DBus',"
			     "interface='org.freedesktop.DBus',"
			     "member='NameOwnerChanged',arg0='" BITNET_SERVICE "'",
			     on_name_owner_changed, client);
	if (r < 0)
		return bcl_client_fail(client, r, "watching bitnetd's bus name");
	return 0;
}

void bcl_client_fail_pending(struct bitnet_client *client, const char *why)
{
	struct bitnet_session *s;

	for (s = client->sessions; s; s = s->next)
		bcl_session_finish_all(s, "error", why);
}

int bitnet_client_get_fd(struct bitnet_client *client)
{
	if (!client)
		return -EINVAL;
	return sd_bus_get_fd(client->bus);
}

int bitnet_client_get_events(struct bitnet_client *client)
{
	if (!client)
		return -EINVAL;
	return sd_bus_get_events(client->bus);
}

int bitnet_client_get_timeout(struct bitnet_client *client, uint64_t *usec)
{
	if (!client || !usec)
		return -EINVAL;
	return sd_bus_get_timeout(client->bus, usec);
}

int bitnet_client_process(struct bitnet_client *client)
{
	int r;

	if (!client)
		return -EINVAL;
	r = sd_bus_process(client->bus, NULL);
	if (r < 0) {
		bcl_client_fail(client, r, "processing bus messages");
		bcl_client_fail_pending(client, "connection to the bus lost");
	}
	return r;
}

int bitnet_client_wait(struct bitnet_client *client, uint64_t timeout_usec)
{
	int r;

	if (!client)
		return -EINVAL;
	r = sd_bus_wait(client->bus, timeout_usec);
	if (r < 0 && r != -EINTR)
		return bcl_client_fail(client, r, "waiting for the bus");
	return r;
}
