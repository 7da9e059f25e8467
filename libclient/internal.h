/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to libbitnet-client: the handle, sessions and shared helpers. */
#ifndef BITNET_CLIENT_INTERNAL_H
#define BITNET_CLIENT_INTERNAL_H

#include <stdarg.h>
#include <systemd/sd-bus.h>

#include "libclient/include/bitnet-client.h"

#define BITNET_SERVICE "org.bitnet.Inference1"
#define BITNET_MANAGER_PATH "/org/bitnet/Inference1"
#define BITNET_MANAGER_IFACE "org.bitnet.Inference1.Manager"
#define BITNET_MODEL_IFACE "org.bitnet.Inference1.Model"
#define BITNET_SESSION_IFACE "org.bitnet.Inference1.Session"

/* A request submitted through this library whose Finished has not arrived. */
struct pending_request {
	uint64_t id;
	const struct bitnet_stream_ops *ops;
	void *userdata;
	struct pending_request *next;
};

struct bitnet_session {
	struct bitnet_client *client;
	char *path;
	char *daemon; /* unique bus name that created the session */
	sd_bus_slot *tokens_slot;
	sd_bus_slot *finished_slot;
	struct pending_request *pending;
	struct bitnet_session *next;
};

struct bitnet_client {
	sd_bus *bus;
	char *error;
	struct bitnet_session *sessions;
	sd_bus_slot *owner_slot; /* NameOwnerChanged of the daemon */
};

/* Records "what: strerror(-r)" as the last error; returns r. */
int bcl_client_fail(struct bitnet_client *client, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records the D-Bus error (its message, else strerror) after "what: ". */
int bcl_client_fail_bus(struct bitnet_client *client, int r, const sd_bus_error *error,
			const char *what);

int bcl_client_new_call(struct bitnet_client *client, const char *path, const char *iface,
			const char *member, sd_bus_message **m);
/* Sends m, waits for the reply; on failure records "member: why". */
int bcl_client_send(struct bitnet_client *client, sd_bus_message *m, sd_bus_message **reply);
/* Calls a method whose arguments are all simple (sd_bus_message_append types). */
int bcl_client_call(struct bitnet_client *client, const char *path, const char *iface,
		    const char *member, sd_bus_message **reply, const char *types, ...);
/* Watches the daemon's bus name so pending requests end when it exits. */
int bcl_client_watch_daemon(struct bitnet_client *client);
/* Ends every pending request of every session with reason "error". */
void bcl_client_fail_pending(struct bitnet_client *client, const char *why);

/* Describes a property (or a{sv} key) to copy into a struct at offset. */
struct prop_desc {
	const char *name;
	char type; /* one of s b u i t d */
	size_t offset;
};

/*
 * Reads an a{sv} into base by desc; keys not in desc are skipped, a known
 * key with an unexpected type is -EBADMSG.
 */
int bcl_props_read(sd_bus_message *m, const struct prop_desc *desc, void *base);
/* Frees the 's' members of base described by desc. */
void bcl_props_free_strings(const struct prop_desc *desc, void *base);
/* GetAll of iface on path into base. */
int bcl_props_get_all(struct bitnet_client *client, const char *path, const char *iface,
		      const struct prop_desc *desc, void *base);

/* Appends params (may be NULL) as the a{sv} of Submit/Chat. */
int bcl_params_append(sd_bus_message *m, const struct bitnet_params *params);

/* The object path of model name from ListModels, -ENOENT when absent. */
int bcl_manager_model_path(struct bitnet_client *client, const char *name, char **path);

void bcl_session_free(struct bitnet_session *session);
/* Drops a pending request without calling its callbacks. */
void bcl_session_forget(struct bitnet_session *session, uint64_t request);
void bcl_session_finish_all(struct bitnet_session *session, const char *reason, const char *error);

#endif /* BITNET_CLIENT_INTERNAL_H */
