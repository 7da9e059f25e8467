// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Manager and Model objects: status, device counters, models, the
 * tokenizer and the session list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libclient/internal.h"

#define STATUS_FIELD(name, type, member)                           \
	{                                                          \
		name, type, offsetof(struct bitnet_status, member) \
	}

static const struct prop_desc status_props[] = {
	STATUS_FIELD("Version", 's', version),
	STATUS_FIELD("Backend", 's', backend),
	STATUS_FIELD("DeviceAvailable", 'b', device_available),
	STATUS_FIELD("Requests", 't', requests),
	STATUS_FIELD("TokensIn", 't', tokens_in),
	STATUS_FIELD("TokensOut", 't', tokens_out),
	STATUS_FIELD("QueueLength", 'u', queue_length),
	STATUS_FIELD("ActiveSessions", 'u', active_sessions),
	STATUS_FIELD("DecodeTokensPerSecond", 'd', decode_tokens_per_second),
	STATUS_FIELD("MaxQueue", 'u', max_queue),
	STATUS_FIELD("MaxSessionsPerUser", 'u', max_sessions_per_user),
	STATUS_FIELD("MaxTokensPerUser", 't', max_tokens_per_user),
	STATUS_FIELD("MemoryBudget", 't', memory_budget),
	STATUS_FIELD("MemoryUsed", 't', memory_used),
	STATUS_FIELD("IdleTimeoutSec", 'u', idle_timeout_sec),
	STATUS_FIELD("PrefillChunk", 'u', prefill_chunk),
	{ NULL, 0, 0 }
};

#define MODEL_FIELD(name, type, member)                                \
	{                                                              \
		name, type, offsetof(struct bitnet_model_info, member) \
	}

static const struct prop_desc model_props[] = { MODEL_FIELD("Name", 's', name),
						MODEL_FIELD("File", 's', file),
						MODEL_FIELD("Architecture", 's', architecture),
						MODEL_FIELD("WeightType", 's', weight_type),
						MODEL_FIELD("State", 's', state),
						MODEL_FIELD("Error", 's', error),
						MODEL_FIELD("VocabSize", 'u', vocab_size),
						MODEL_FIELD("ContextSize", 'u', context_size),
						MODEL_FIELD("LoadProgress", 'd', load_progress),
						MODEL_FIELD("MemoryBytes", 't', memory_bytes),
						MODEL_FIELD("Parameters", 't', parameters),
						{ NULL, 0, 0 } };

#define SESSION_FIELD(name, type, member)                                   \
	{                                                                   \
		name, type, offsetof(struct bitnet_session_details, member) \
	}

static const struct prop_desc session_props[] = { SESSION_FIELD("Model", 's', model),
						  SESSION_FIELD("Owner", 's', owner),
						  SESSION_FIELD("Uid", 'u', uid),
						  SESSION_FIELD("State", 's', state),
						  SESSION_FIELD("ContextUsed", 'u', context_used),
						  SESSION_FIELD("ContextSize", 'u', context_size),
						  SESSION_FIELD("TokensGenerated", 't',
								tokens_generated),
						  { NULL, 0, 0 } };

int bitnet_get_status(struct bitnet_client *client, struct bitnet_status *status)
{
	if (!client || !status)
		return -EINVAL;
	memset(status, 0, sizeof(*status));
	return bcl_props_get_all(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, status_props,
				 status);
}

void bitnet_status_clear(struct bitnet_status *status)
{
	if (status)
		bcl_props_free_strings(status_props, status);
}

int bitnet_set_limit(struct bitnet_client *client, const char *name, uint64_t value)
{
	const struct prop_desc *d;
	char type = 't';

	if (!client || !name)
		return -EINVAL;
	/* Send the property's own type; other names go as 't' (the daemon judges). */
	for (d = status_props; d->name; d++)
		if (!strcmp(d->name, name) && d->type == 'u')
			type = 'u';
	if (type == 'u' && value > UINT32_MAX)
		return bcl_client_fail(client, -EINVAL, "limit %s: %llu is out of range", name,
				       (unsigned long long)value);
	if (type == 'u')
		return bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE,
				       "SetLimits", NULL, "a{sv}", 1, name, "u", (uint32_t)value);
	return bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "SetLimits", NULL,
			       "a{sv}", 1, name, "t", value);
}

/* Grows *array (of n elements of size) by one zeroed element. */
static void *array_grow(void **array, size_t *n, size_t size)
{
	char *bigger = realloc(*array, (*n + 1) * size);

	if (!bigger)
		return NULL;
	*array = bigger;
	memset(bigger + *n * size, 0, size);
	return bigger + (*n)++ * size;
}

static int dup_strings(char **a, const char *sa, char **b, const char *sb)
{
	*a = strdup(sa);
	if (b)
		*b = strdup(sb);
	return (!*a || (b && !*b)) ? -ENOMEM : 0;
}

/* A list a Manager method returns: an array of structs or dict entries. */
struct list_desc {
	const char *method;
	const char *array;    /* the array's element signature: "(soss)", "{st}" */
	char type;	      /* SD_BUS_TYPE_STRUCT or SD_BUS_TYPE_DICT_ENTRY */
	const char *contents; /* "soss", "st" */
	size_t size;	      /* of one element of the list */
	/* reads one element's fields into @elem (zeroed); < 0 on failure */
	int (*read)(sd_bus_message *reply, void *elem);
	void (*free)(void *list, size_t n);
	const char *what; /* "reading <what>" in the error */
};

/* Calls @d's method and reads its reply into *list, *n elements. */
static int read_list(struct bitnet_client *client, const struct list_desc *d, void **list,
		     size_t *n)
{
	sd_bus_message *reply = NULL;
	void *elems = NULL;
	size_t count = 0;
	int r;

	r = bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, d->method, &reply,
			    NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, d->array);
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, d->type, d->contents)) > 0) {
		void *elem = array_grow(&elems, &count, d->size);

		r = elem ? d->read(reply, elem) : -ENOMEM;
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		d->free(elems, count);
		return bcl_client_fail(client, r, "reading %s", d->what);
	}
	*list = elems;
	*n = count;
	return 0;
}

static int read_counter(sd_bus_message *reply, void *elem)
{
	struct bitnet_counter *c = elem;
	const char *name;
	int r;

	r = sd_bus_message_read(reply, "st", &name, &c->value);
	if (r < 0)
		return r;
	return dup_strings(&c->name, name, NULL, NULL);
}

static void free_counters(void *list, size_t n)
{
	bitnet_counters_free(list, n);
}

static const struct list_desc counter_list = {
	.method = "GetDeviceCounters",
	.array = "{st}",
	.type = SD_BUS_TYPE_DICT_ENTRY,
	.contents = "st",
	.size = sizeof(struct bitnet_counter),
	.read = read_counter,
	.free = free_counters,
	.what = "device counters",
};

int bitnet_get_device_counters(struct bitnet_client *client, struct bitnet_counter **counters,
			       size_t *n)
{
	if (!client || !counters || !n)
		return -EINVAL;
	return read_list(client, &counter_list, (void **)counters, n);
}

void bitnet_counters_free(struct bitnet_counter *counters, size_t n)
{
	for (size_t i = 0; counters && i < n; i++)
		free(counters[i].name);
	free(counters);
}

static int read_model(sd_bus_message *reply, void *elem)
{
	const char *name, *path, *arch, *state;
	struct bitnet_model *m = elem;
	int r;

	r = sd_bus_message_read(reply, "soss", &name, &path, &arch, &state);
	if (r < 0)
		return r;
	if (dup_strings(&m->name, name, &m->object_path, path) < 0 ||
	    dup_strings(&m->architecture, arch, &m->state, state) < 0)
		return -ENOMEM;
	return 0;
}

static void free_models(void *list, size_t n)
{
	bitnet_models_free(list, n);
}

static const struct list_desc model_list = {
	.method = "ListModels",
	.array = "(soss)",
	.type = SD_BUS_TYPE_STRUCT,
	.contents = "soss",
	.size = sizeof(struct bitnet_model),
	.read = read_model,
	.free = free_models,
	.what = "the model list",
};

int bitnet_list_models(struct bitnet_client *client, struct bitnet_model **models, size_t *n)
{
	if (!client || !models || !n)
		return -EINVAL;
	return read_list(client, &model_list, (void **)models, n);
}

void bitnet_models_free(struct bitnet_model *models, size_t n)
{
	for (size_t i = 0; models && i < n; i++) {
		free(models[i].name);
		free(models[i].object_path);
		free(models[i].architecture);
		free(models[i].state);
	}
	free(models);
}

int bcl_manager_model_path(struct bitnet_client *client, const char *name, char **path)
{
	struct bitnet_model *models;
	size_t n, i;
	int r;

	r = bitnet_list_models(client, &models, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		if (strcmp(models[i].name, name) == 0)
			break;
	if (i == n) {
		bitnet_models_free(models, n);
		return bcl_client_fail(client, -ENOENT, "model \"%s\"", name);
	}
	*path = models[i].object_path;
	models[i].object_path = NULL;
	bitnet_models_free(models, n);
	return 0;
}

int bitnet_get_model_info(struct bitnet_client *client, const char *name,
			  struct bitnet_model_info *info)
{
	char *path;
	int r;

	if (!client || !name || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	r = bcl_manager_model_path(client, name, &path);
	if (r < 0)
		return r;
	r = bcl_props_get_all(client, path, BITNET_MODEL_IFACE, model_props, info);
	free(path);
	return r;
}

void bitnet_model_info_clear(struct bitnet_model_info *info)
{
	if (info)
		bcl_props_free_strings(model_props, info);
}

int bitnet_load_model(struct bitnet_client *client, const char *name, const char *path,
		      char **object_path)
{
	sd_bus_message *reply = NULL;
	const char *obj;
	int r;

	if (!client || !name || !path)
		return -EINVAL;
	r = bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "LoadModel", &reply,
			    "ssa{sv}", name, path, 0);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &obj);
	if (r >= 0 && object_path) {
		*object_path = strdup(obj);
		if (!*object_path)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	if (r < 0)
		return bcl_client_fail(client, r, "reading LoadModel's reply");
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits up to usec while still dispatching messages for other users. */
static int pump_for(struct bitnet_client *client, uint64_t usec)
{
	uint64_t end = now_usec() + usec;
	int r;

	for (;;) {
		uint64_t now;

		r = bitnet_client_process(client);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		now = now_usec();
		if (now >= end)
			return 0;
		r = bitnet_client_wait(client, end - now);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

int bitnet_wait_model_ready(struct bitnet_client *client, const char *name, uint64_t poll_usec,
			    uint64_t timeout_usec, bitnet_progress_fn progress, void *userdata)
{
	uint64_t start = now_usec();
	struct bitnet_model_info info;
	int r;

	if (!client || !name)
		return -EINVAL;
	if (!poll_usec)
		poll_usec = 50000;
	for (;;) {
		r = bitnet_get_model_info(client, name, &info);
		if (r < 0)
			return r;
		if (strcmp(info.state, "ready") == 0) {
			if (progress)
				progress(1.0, userdata);
			bitnet_model_info_clear(&info);
			return 0;
		}
		if (strcmp(info.state, "failed") == 0) {
			bcl_client_fail(client, -EBADMSG, "loading model \"%s\"", name);
			if (*info.error) {
				free(client->error);
				if (asprintf(&client->error, "loading model \"%s\": %s", name,
					     info.error) < 0)
					client->error = NULL;
			}
			bitnet_model_info_clear(&info);
			return -EBADMSG;
		}
		if (progress)
			progress(info.load_progress, userdata);
		bitnet_model_info_clear(&info);
		if (timeout_usec != UINT64_MAX && now_usec() - start >= timeout_usec)
			return bcl_client_fail(client, -ETIMEDOUT, "loading model \"%s\"", name);
		r = pump_for(client, poll_usec);
		if (r < 0)
			return r;
	}
}

int bitnet_unload_model(struct bitnet_client *client, const char *name)
{
	if (!client || !name)
		return -EINVAL;
	return bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "UnloadModel",
			       NULL, "s", name);
}

int bitnet_model_share_weights(struct bitnet_client *client, const char *model, int *fd)
{
	sd_bus_message *reply = NULL;
	int r, h;

	if (!client || !model || !fd)
		return -EINVAL;
	r = bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "ShareWeights",
			    &reply, "s", model);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "h", &h);
	if (r >= 0) {
		/* the reply owns h */
		*fd = fcntl(h, F_DUPFD_CLOEXEC, 3);
		r = *fd < 0 ? -errno : 0;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

int bitnet_tokenize(struct bitnet_client *client, const char *model, const char *text,
		    bool add_special, int32_t **ids, size_t *n)
{
	sd_bus_message *reply = NULL;
	const void *data;
	size_t size;
	int r;

	if (!client || !model || !text || !ids || !n)
		return -EINVAL;
	r = bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "Tokenize", &reply,
			    "ssb", model, text, (int)add_special);
	if (r < 0)
		return r;
	r = sd_bus_message_read_array(reply, 'i', &data, &size);
	if (r >= 0) {
		*ids = malloc(size ? size : 1);
		if (*ids) {
			memcpy(*ids, data, size);
			*n = size / sizeof(int32_t);
		} else {
			r = -ENOMEM;
		}
	}
	sd_bus_message_unref(reply);
	if (r < 0)
		return bcl_client_fail(client, r, "reading Tokenize's reply");
	return 0;
}

int bitnet_detokenize(struct bitnet_client *client, const char *model, const int32_t *ids, size_t n,
		      char **text)
{
	sd_bus_message *m = NULL, *reply = NULL;
	const char *s;
	int r;

	if (!client || !model || (!ids && n) || !text)
		return -EINVAL;
	r = bcl_client_new_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "Detokenize",
				&m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "s", model);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'i', ids, n * sizeof(int32_t));
	if (r < 0) {
		sd_bus_message_unref(m);
		return bcl_client_fail(client, r, "Detokenize: building the call");
	}
	r = bcl_client_send(client, m, &reply);
	sd_bus_message_unref(m);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &s);
	if (r >= 0) {
		*text = strdup(s);
		if (!*text)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	if (r < 0)
		return bcl_client_fail(client, r, "reading Detokenize's reply");
	return 0;
}

static int read_session(sd_bus_message *reply, void *elem)
{
	const char *path, *model, *owner, *state;
	struct bitnet_session_info *s = elem;
	int r;

	r = sd_bus_message_read(reply, "ossus", &path, &model, &owner, &s->uid, &state);
	if (r < 0)
		return r;
	if (dup_strings(&s->object_path, path, &s->model, model) < 0 ||
	    dup_strings(&s->owner, owner, &s->state, state) < 0)
		return -ENOMEM;
	return 0;
}

static void free_sessions(void *list, size_t n)
{
	bitnet_sessions_free(list, n);
}

static const struct list_desc session_list = {
	.method = "ListSessions",
	.array = "(ossus)",
	.type = SD_BUS_TYPE_STRUCT,
	.contents = "ossus",
	.size = sizeof(struct bitnet_session_info),
	.read = read_session,
	.free = free_sessions,
	.what = "the session list",
};

int bitnet_list_sessions(struct bitnet_client *client, struct bitnet_session_info **sessions,
			 size_t *n)
{
	if (!client || !sessions || !n)
		return -EINVAL;
	return read_list(client, &session_list, (void **)sessions, n);
}

void bitnet_sessions_free(struct bitnet_session_info *sessions, size_t n)
{
	for (size_t i = 0; sessions && i < n; i++) {
		free(sessions[i].object_path);
		free(sessions[i].model);
		free(sessions[i].owner);
		free(sessions[i].state);
	}
	free(sessions);
}

int bitnet_session_get_info(struct bitnet_client *client, const char *object_path,
			    struct bitnet_session_details *details)
{
	int r;

	if (!client || !object_path || !details)
		return -EINVAL;
	memset(details, 0, sizeof(*details));
	if (!sd_bus_object_path_is_valid(object_path))
		return bcl_client_fail(client, -EINVAL, "\"%s\" is not a session object path",
				       object_path);
	r = bcl_props_get_all(client, object_path, BITNET_SESSION_IFACE, session_props, details);
	/* No object there (sd-bus: UnknownObject): the same as no such session. */
	if (r == -EBADR)
		r = bcl_client_fail(client, -ENOENT, "session %s", object_path);
	if (r < 0)
		return r;
	details->object_path = strdup(object_path);
	if (!details->object_path) {
		bitnet_session_details_clear(details);
		return bcl_client_fail(client, -ENOMEM, "session %s", object_path);
	}
	return 0;
}

void bitnet_session_details_clear(struct bitnet_session_details *details)
{
	if (!details)
		return;
	bcl_props_free_strings(session_props, details);
	free(details->object_path);
	details->object_path = NULL;
}

int bitnet_kill_session(struct bitnet_client *client, const char *object_path)
{
	if (!client || !object_path)
		return -EINVAL;
	if (!sd_bus_object_path_is_valid(object_path))
		return bcl_client_fail(client, -EINVAL, "\"%s\" is not a session object path",
				       object_path);
	return bcl_client_call(client, BITNET_MANAGER_PATH, BITNET_MANAGER_IFACE, "KillSession",
			       NULL, "o", object_path);
}
