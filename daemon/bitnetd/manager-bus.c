// SPDX-License-Identifier: GPL-2.0
/*
 * The Manager object at /org/bitnet/Inference1: models, sessions, the
 * tokenizer, counters and limits (manager.h holds the manager).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/bus-util.h"
#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/manager-bus.h"
#include "daemon/bitnetd/manager.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/polkit.h"
#include "daemon/bitnetd/session.h"

static int model_or_error(struct bnetd *d, const char *name, bool need_ready,
			  struct bnetd_model **out, sd_bus_error *err)
{
	struct bnetd_model *mo = bnetd_model_find(&d->models, name);

	if (!mo)
		return sd_bus_error_setf(err, BNETD_ERR_NO_SUCH_MODEL, "no model '%s'", name);
	if (need_ready && mo->state == BNETD_MODEL_LOADING)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' is still loading", name);
	if (need_ready && mo->state == BNETD_MODEL_FAILED)
		return sd_bus_error_setf(err, BNETD_ERR_LOAD_FAILED, "'%s' failed to load: %s",
					 name, mo->error ? mo->error : "unknown error");
	*out = mo;
	return 0;
}

static int method_list_models(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	sd_bus_message *reply = NULL;
	struct bnetd_list *pos, *tmp;
	int r;

	(void)err;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(soss)");
	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (r >= 0)
			r = sd_bus_message_append(reply, "(soss)", mo->name, mo->path,
						  mo->info ? mo->info->arch : "",
						  bnetd_model_state_name(mo->state));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int load_option(sd_bus_message *m, const char *key, void *ctx, sd_bus_error *err)
{
	enum bn_backend_kind *backend = ctx;
	const char *val;

	if (strcmp(key, "backend"))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: '%s' is not a known option", key);
	if (sd_bus_message_read(m, "v", "s", &val) < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: 'backend' must be a string");
	if (bn_backend_kind_parse(val, backend))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: 'backend' must be auto, cpu or kmod");
	return 0;
}

static int do_load_model(void *userdata, sd_bus_message *m, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	enum bn_backend_kind backend = d->backend;
	const char *name, *path;
	struct bnetd_model *mo;
	int r;

	r = sd_bus_message_read(m, "ss", &name, &path);
	if (r < 0)
		return r;
	r = bnetd_bus_read_dict(m, load_option, &backend, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	r = bnetd_manager_load_model(d, name, path, backend, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	return sd_bus_reply_method_return(m, "o", mo->path);
}

static int method_load_model(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;

	return bnetd_authorize(d->polkit_bus, m, BNETD_ACTION_MANAGE, do_load_model, d, err);
}

static int do_unload_model(void *userdata, sd_bus_message *m, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo = NULL;
	const char *name;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = model_or_error(d, name, false, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	r = bnetd_manager_unload_model(d, mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	return sd_bus_reply_method_return(m, "");
}

static int method_unload_model(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;

	return bnetd_authorize(d->polkit_bus, m, BNETD_ACTION_MANAGE, do_unload_model, d, err);
}

static int method_list_sessions(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	sd_bus_message *reply = NULL;
	struct bnetd_list *pos, *tmp;
	uid_t uid;
	int r;

	(void)err;
	r = bnetd_sender_uid(m, &uid);
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(ossus)");
	bnetd_list_for_each_safe(pos, tmp, &d->sessions.list) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (s->closed || (uid != 0 && !bnetd_session_visible(s, m)))
			continue;
		if (r >= 0)
			r = sd_bus_message_append(reply, "(ossus)", s->path, s->model->name,
						  s->owner, (uint32_t)s->uid,
						  bnetd_session_state(s));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int session_option(sd_bus_message *m, const char *key, void *ctx, sd_bus_error *err)
{
	if (strcmp(key, "n_ctx"))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: '%s' is not a known option", key);
	if (sd_bus_message_read(m, "v", "u", ctx) < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: 'n_ctx' must be of type 'u'");
	return 0;
}

static int method_create_session(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo = NULL;
	struct bnetd_session *s;
	uint32_t n_ctx = 0;
	const char *name;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = bnetd_bus_read_dict(m, session_option, &n_ctx, err);
	if (r < 0)
		return r;
	if (d->queue.stopping)
		return sd_bus_error_setf(err, SD_BUS_ERROR_NO_SERVER, "bitnetd is stopping");
	r = model_or_error(d, name, true, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	r = bnetd_manager_create_session(d, m, mo, n_ctx, &s, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	return sd_bus_reply_method_return(m, "o", s->path);
}

static int do_kill_session(void *userdata, sd_bus_message *m, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_session *s;
	const char *path;
	int r;

	r = sd_bus_message_read(m, "o", &path);
	if (r < 0)
		return r;
	s = bnetd_sessions_find(&d->sessions, path);
	if (!s)
		return sd_bus_error_setf(err, BNETD_ERR_NO_SUCH_SESSION, "no session %s", path);
	bnetd_manager_close_session(d, s);
	return sd_bus_reply_method_return(m, "");
}

static int method_kill_session(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_session *s;
	const char *path;
	int r;

	r = sd_bus_message_read(m, "o", &path);
	if (r < 0)
		return r;
	s = bnetd_sessions_find(&d->sessions, path);
	if (s && bnetd_session_visible(s, m)) {
		bnetd_manager_close_session(d, s);
		return sd_bus_reply_method_return(m, "");
	}
	r = sd_bus_message_rewind(m, true);
	if (r < 0)
		return r;
	/* another's session, or none: only an administrator learns which */
	return bnetd_authorize(d->polkit_bus, m, BNETD_ACTION_MANAGE, do_kill_session, d, err);
}

static int method_tokenize(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo = NULL;
	sd_bus_message *reply = NULL;
	const struct bn_vocab *v;
	const char *name, *text;
	int add_special;
	int32_t *ids;
	uint32_t n;
	int r;

	r = sd_bus_message_read(m, "ssb", &name, &text, &add_special);
	if (r < 0)
		return r;
	r = model_or_error(d, name, true, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	v = bn_model_vocab(mo->m);
	r = bnetd_model_tokenize(mo, text, add_special && bn_vocab_add_bos(v), add_special, &ids,
				 &n);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "text: cannot tokenize (%s)", strerror(-r));
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', ids, (size_t)n * sizeof(*ids));
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	free(ids);
	return r;
}

/* bounds the reply: a token is at most a few dozen bytes of text */
#define BNETD_MAX_DETOKENIZE (1u << 20)

static int method_detokenize(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo = NULL;
	const int32_t *ids;
	size_t size, n, len = 0, cap;
	struct bn_detok dt;
	char *out;
	const char *name;
	int r, w;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = sd_bus_message_read_array(m, 'i', (const void **)&ids, &size);
	if (r < 0)
		return r;
	r = model_or_error(d, name, true, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	n = size / sizeof(int32_t);
	if (n > BNETD_MAX_DETOKENIZE)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "ids: more than %u",
					 BNETD_MAX_DETOKENIZE);
	for (size_t i = 0; i < n; i++)
		if (ids[i] < 0 || (uint32_t)ids[i] >= mo->info->n_vocab)
			return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
						 "ids: %d is out of range", ids[i]);
	cap = 64 * n + 64;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	bn_detok_init(&dt, bn_model_vocab(mo->m));
	for (size_t i = 0; i <= n; i++) {
		w = i < n ? bn_detok_push(&dt, ids[i], out + len, cap - len) :
			    bn_detok_flush(&dt, out + len, cap - len);
		if (w == -ENOSPC) {
			char *t = realloc(out, cap * 2);

			if (!t) {
				free(out);
				return -ENOMEM;
			}
			out = t;
			cap *= 2;
			i--;
			continue;
		}
		if (w < 0) {
			free(out);
			return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
						 "ids: cannot detokenize (%s)", strerror(-w));
		}
		len += (size_t)w;
	}
	out[len] = '\0';
	r = sd_bus_reply_method_return(m, "s", out);
	free(out);
	return r;
}

static int method_device_counters(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bn_backend_stats st;

	(void)err;
	if (bnetd_manager_device_stats(userdata, &st) < 0)
		return sd_bus_reply_method_return(m, "a{st}", 0);
	return sd_bus_reply_method_return(m, "a{st}", 6, "abi_version", (uint64_t)st.abi_version,
					  "features", st.features, "pinned_bytes", st.pinned_bytes,
					  "max_global_bytes", st.max_global_bytes, "nr_workers",
					  (uint64_t)st.nr_workers, "isa", (uint64_t)st.isa);
}

static int limit_option(sd_bus_message *m, const char *key, void *ctx, sd_bus_error *err)
{
	struct bnetd_limits *l = ctx;
	const char *contents;
	uint64_t v64 = 0;
	uint32_t v32 = 0;
	char type;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (!strcmp(contents, "u")) {
		r = sd_bus_message_read(m, "v", "u", &v32);
		v64 = v32;
	} else if (!strcmp(contents, "t")) {
		r = sd_bus_message_read(m, "v", "t", &v64);
	} else {
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "limits: '%s' must be of type 'u' or 't'", key);
	}
	if (r < 0)
		return r;
	r = bnetd_limits_set(l, key, v64);
	if (r == -ENOENT)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "limits: '%s' is not a known limit", key);
	if (r < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "limits: '%s' is out of range", key);
	return 0;
}

static int do_set_limits(void *userdata, sd_bus_message *m, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_limits l = d->cfg.limits;
	int r;

	r = bnetd_bus_read_dict(m, limit_option, &l, err);
	if (r < 0)
		return r;
	d->cfg.limits = l;
	bnetd_log(LOG_INFO, NULL, NULL, "limits changed by %s", sd_bus_message_get_sender(m));
	bnetd_sched_kick_later(&d->sched);
	return sd_bus_reply_method_return(m, "");
}

static int method_set_limits(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;

	return bnetd_authorize(d->polkit_bus, m, BNETD_ACTION_MANAGE, do_set_limits, d, err);
}

/* A ready model whose weights are on /dev/bitnet: public facts, no authorization. */
static int shareable_model(struct bnetd *d, const char *name, struct bnetd_model **out,
			   sd_bus_error *err)
{
	struct bnetd_model *mo = NULL;
	struct bn_backend_stats st;
	int r;

	r = model_or_error(d, name, true, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r ? r : -EINVAL;
	r = bn_model_backend_stats(mo->m, &st);
	if (r < 0)
		return sd_bus_error_set_errnof(err, -r, "'%s': reading its backend: %s", name,
					       strerror(-r));
	if (st.kind != BN_BACKEND_KMOD)
		return sd_bus_error_setf(
			err, BNETD_ERR_NOT_ON_DEVICE,
			"'%s' runs on the %s backend, not on /dev/bitnet: no weights to share",
			name, mo->info->backend);
	*out = mo;
	return 0;
}

static int do_share_weights(void *userdata, sd_bus_message *m, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo;
	const char *name;
	uid_t uid = (uid_t)-1;
	int fd = -1, r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	/* polkit may have taken a while: the model may be gone */
	r = shareable_model(d, name, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	r = bnetd_model_share_weights(mo, &fd);
	if (r == -ENODEV)
		return sd_bus_error_setf(err, BNETD_ERR_NOT_ON_DEVICE, "'%s' is not on /dev/bitnet",
					 name);
	if (r == -EOPNOTSUPP)
		return sd_bus_error_setf(err, SD_BUS_ERROR_NOT_SUPPORTED,
					 "/dev/bitnet cannot export the weights of '%s'", name);
	if (r < 0)
		return sd_bus_error_set_errnof(err, -r, "sharing the weights of '%s' failed: %s",
					       name, strerror(-r));
	bnetd_sender_uid(m, &uid);
	bnetd_log(LOG_INFO, name, NULL, "weights shared with %s (uid %d), read-only",
		  sd_bus_message_get_sender(m), (int)uid);
	r = sd_bus_reply_method_return(m, "h", fd);
	close(fd);
	return r;
}

static int method_share_weights(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo;
	const char *name;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = shareable_model(d, name, &mo, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	r = sd_bus_message_rewind(m, true);
	if (r < 0)
		return r;
	return bnetd_authorize(d->polkit_bus, m, BNETD_ACTION_SHARE, do_share_weights, d, err);
}

static int manager_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct bnetd *d = userdata;

	(void)bus;
	(void)path;
	(void)iface;
	(void)err;
	if (!strcmp(prop, "Version"))
		return sd_bus_message_append(reply, "s", BITNET_VERSION);
	if (!strcmp(prop, "Backend"))
		return sd_bus_message_append(reply, "s", bnetd_manager_backend(d));
	if (!strcmp(prop, "DeviceAvailable"))
		return sd_bus_message_append(reply, "b", bn_backend_kmod_available());
	if (!strcmp(prop, "ActiveSessions"))
		return sd_bus_message_append(reply, "u", bnetd_sessions_count(&d->sessions));
	if (!strcmp(prop, "MemoryUsed"))
		return sd_bus_message_append(reply, "t", bnetd_memory_used(&d->sessions));
	return -ENOENT;
}

#define MPROP(name, sig) SD_BUS_PROPERTY(name, sig, manager_prop, 0, 0)
/* A plain field of struct bnetd: sd-bus reads it (no getter). */
#define FPROP(name, sig, field) SD_BUS_PROPERTY(name, sig, NULL, offsetof(struct bnetd, field), 0)
_Static_assert(sizeof(((struct bnetd *)0)->queue.n_queue) == sizeof(uint32_t),
	       "QueueLength is 'u'");

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("ListModels", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(soss)", models),
				method_list_models, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("LoadModel", SD_BUS_ARGS("s", name, "s", path, "a{sv}", options),
				SD_BUS_RESULT("o", model), method_load_model,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UnloadModel", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_unload_model, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListSessions", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ossus)", sessions),
				method_list_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CreateSession", SD_BUS_ARGS("s", model, "a{sv}", options),
				SD_BUS_RESULT("o", session), method_create_session,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("KillSession", SD_BUS_ARGS("o", session), SD_BUS_NO_RESULT,
				method_kill_session, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Tokenize", SD_BUS_ARGS("s", model, "s", text, "b", add_special),
				SD_BUS_RESULT("ai", ids), method_tokenize,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Detokenize", SD_BUS_ARGS("s", model, "ai", ids),
				SD_BUS_RESULT("s", text), method_detokenize,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetDeviceCounters", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a{st}", counters), method_device_counters,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ShareWeights", SD_BUS_ARGS("s", model),
				SD_BUS_RESULT("h", weights), method_share_weights,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetLimits", SD_BUS_ARGS("a{sv}", limits), SD_BUS_NO_RESULT,
				method_set_limits, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("Version", "s", manager_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Backend", "s", manager_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	MPROP("DeviceAvailable", "b"),
	FPROP("Requests", "t", queue.requests),
	FPROP("TokensIn", "t", queue.tokens_in),
	FPROP("TokensOut", "t", queue.tokens_out),
	FPROP("QueueLength", "u", queue.n_queue),
	MPROP("ActiveSessions", "u"),
	FPROP("DecodeTokensPerSecond", "d", sched.decode_tps),
	FPROP("MaxQueue", "u", cfg.limits.max_queue),
	FPROP("MaxSessionsPerUser", "u", cfg.limits.max_sessions_per_user),
	FPROP("MaxTokensPerUser", "t", cfg.limits.max_tokens_per_user),
	FPROP("MemoryBudget", "t", cfg.limits.memory_budget),
	MPROP("MemoryUsed", "t"),
	FPROP("IdleTimeoutSec", "u", cfg.limits.idle_timeout_sec),
	FPROP("PrefillChunk", "u", cfg.limits.prefill_chunk),
	SD_BUS_VTABLE_END
};

int bnetd_manager_bus_register(struct bnetd *d)
{
	return sd_bus_add_object_vtable(d->bus, NULL, BNETD_ROOT_PATH, BNETD_IFACE_MANAGER,
					manager_vtable, d);
}
