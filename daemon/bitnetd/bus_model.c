// SPDX-License-Identifier: GPL-2.0
/*
 * Loaded models: one Model object each under /org/bitnet/Inference1/model.
 * Loading runs on its own thread so LoadModel answers at once; the thread
 * reports back through the daemon's completion eventfd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/bitnetd/bitnetd.h"

const char *bnetd_model_state_name(enum bnetd_model_state s)
{
	switch (s) {
	case BNETD_MODEL_LOADING:
		return "loading";
	case BNETD_MODEL_READY:
		return "ready";
	case BNETD_MODEL_FAILED:
		return "failed";
	}
	return "failed";
}

struct bnetd_model *bnetd_model_find(struct bnetd *d, const char *name)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (!strcmp(mo->name, name))
			return mo;
	}
	return NULL;
}

uint64_t bnetd_memory_used(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;
	uint64_t sum = 0;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (mo->state == BNETD_MODEL_READY)
			sum += mo->info->weight_bytes;
	}
	bnetd_list_for_each_safe(pos, tmp, &d->sessions) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (s->seq)
			sum += bn_seq_bytes(s->seq);
	}
	return sum;
}

static void on_progress(double fraction, void *userdata)
{
	struct bnetd_model *mo = userdata;

	mo->progress = fraction;
}

static void *loader_main(void *arg)
{
	struct bnetd_model *mo = arg;
	struct bn_load_opts o = {
		.backend = mo->backend,
		.threads = mo->threads,
		.head = mo->head,
		.progress = on_progress,
		.userdata = mo,
	};
	struct bn_model *m = NULL;
	char err[256] = "";
	int r;

	r = bn_model_load(mo->file, &o, &m, err, sizeof(err));
	pthread_mutex_lock(&mo->d->done_lock);
	mo->load_rc = r;
	mo->loaded = m;
	snprintf(mo->load_err, sizeof(mo->load_err), "%s", err[0] ? err : strerror(-r));
	mo->loader_done = true;
	pthread_mutex_unlock(&mo->d->done_lock);
	bnetd_notify_done(mo->d);
	return NULL;
}

static void model_free(struct bnetd_model *mo)
{
	if (mo->m)
		bn_model_free(mo->m);
	free(mo->name);
	free(mo->file);
	free(mo->path);
	free(mo->error);
	free(mo);
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    name[i]))
			return false;
	return true;
}

int bnetd_model_load(struct bnetd *d, const char *name, const char *file, struct bnetd_model **out,
		     sd_bus_error *err)
{
	struct bnetd_model *mo = bnetd_model_find(d, name);
	pthread_t t;
	int r;

	if (!valid_name(name))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "name: 1-64 characters of A-Z a-z 0-9 . _ -");
	if (file[0] != '/' || strlen(file) > 4096)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "path: must be absolute and at most 4096 bytes");
	if (mo && mo->state != BNETD_MODEL_FAILED)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "a model named '%s' is %s",
					 name, bnetd_model_state_name(mo->state));
	if (mo) {
		/* a failed model is replaced by a new attempt */
		bnetd_list_del(&mo->link);
		model_free(mo);
	}
	mo = calloc(1, sizeof(*mo));
	if (!mo)
		return -ENOMEM;
	mo->d = d;
	mo->name = strdup(name);
	mo->file = strdup(file);
	r = sd_bus_path_encode(BNETD_MODEL_PREFIX, name, &mo->path);
	if (!mo->name || !mo->file || r < 0) {
		model_free(mo);
		return -ENOMEM;
	}
	mo->state = BNETD_MODEL_LOADING;
	mo->backend = d->backend;
	mo->head = d->head;
	mo->threads = d->cfg.threads;
	r = -pthread_create(&t, NULL, loader_main, mo);
	if (r < 0) {
		model_free(mo);
		return r;
	}
	pthread_detach(t);
	bnetd_list_add_tail(&mo->link, &d->models);
	bnetd_log(LOG_INFO, name, NULL, "loading %s", file);
	bnetd_status_update(d);
	if (out)
		*out = mo;
	return 0;
}

void bnetd_models_poll_loaders(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);
		bool done;

		if (mo->state != BNETD_MODEL_LOADING)
			continue;
		pthread_mutex_lock(&d->done_lock);
		done = mo->loader_done;
		pthread_mutex_unlock(&d->done_lock);
		if (!done)
			continue;
		if (mo->load_rc < 0) {
			mo->state = BNETD_MODEL_FAILED;
			mo->error = strdup(mo->load_err);
			bnetd_log(LOG_ERR, mo->name, NULL, "loading %s failed: %s", mo->file,
				  mo->load_err);
		} else {
			mo->m = mo->loaded;
			mo->info = bn_model_info(mo->m);
			mo->progress = 1.0;
			if (d->cfg.limits.memory_budget &&
			    bnetd_memory_used(d) + mo->info->weight_bytes >
				    d->cfg.limits.memory_budget) {
				bn_model_free(mo->m);
				mo->m = NULL;
				mo->info = NULL;
				mo->state = BNETD_MODEL_FAILED;
				mo->error = strdup("the model does not fit the memory budget");
				bnetd_log(LOG_ERR, mo->name, NULL, "%s", mo->error);
			} else {
				mo->state = BNETD_MODEL_READY;
				bnetd_log(LOG_INFO, mo->name, NULL,
					  "ready: %s, %s weights, %u layers, backend %s",
					  mo->info->arch, mo->info->weight_type, mo->info->n_layer,
					  mo->info->backend);
			}
		}
		sd_bus_emit_properties_changed(d->bus, mo->path, BNETD_IFACE_MODEL, "State",
					       "Error", "LoadProgress", NULL);
		bnetd_status_update(d);
		bnetd_manager_changed(d);
	}
}

int bnetd_model_unload(struct bnetd *d, struct bnetd_model *mo, sd_bus_error *err)
{
	if (mo->state == BNETD_MODEL_LOADING)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' is still loading",
					 mo->name);
	if (mo->n_sessions)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' has %u sessions",
					 mo->name, mo->n_sessions);
	if (d->batch && d->last_batch_model == mo)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' is computing", mo->name);
	bnetd_log(LOG_INFO, mo->name, NULL, "unloaded");
	bnetd_list_del(&mo->link);
	model_free(mo);
	bnetd_status_update(d);
	bnetd_manager_changed(d);
	return 0;
}

void bnetd_models_free(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		/* a loader thread still owns a loading model: leave it */
		if (mo->state == BNETD_MODEL_LOADING)
			continue;
		bnetd_list_del(&mo->link);
		model_free(mo);
	}
}

static int model_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		      void **found, sd_bus_error *err)
{
	struct bnetd *d = userdata;
	struct bnetd_model *mo;
	char *name = NULL;
	int r;

	(void)bus;
	(void)iface;
	(void)err;
	r = sd_bus_path_decode(path, BNETD_MODEL_PREFIX, &name);
	if (r <= 0)
		return r;
	mo = bnetd_model_find(d, name);
	free(name);
	if (!mo)
		return 0;
	*found = mo;
	return 1;
}

static const char *model_path_of(struct bnetd_list *pos, void *ctx)
{
	(void)ctx;
	return container_of(pos, struct bnetd_model, link)->path;
}

static int model_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
			   sd_bus_error *err)
{
	struct bnetd *d = userdata;

	(void)bus;
	(void)prefix;
	(void)err;
	return bnetd_enumerate_paths(&d->models, model_path_of, NULL, nodes);
}

static int model_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct bnetd_model *mo = userdata;
	const struct bn_model_info *i = mo->info;

	(void)bus;
	(void)path;
	(void)iface;
	(void)err;
	if (!strcmp(prop, "Name"))
		return sd_bus_message_append(reply, "s", mo->name);
	if (!strcmp(prop, "File"))
		return sd_bus_message_append(reply, "s", mo->file);
	if (!strcmp(prop, "Architecture"))
		return sd_bus_message_append(reply, "s", i ? i->arch : "");
	if (!strcmp(prop, "VocabSize"))
		return sd_bus_message_append(reply, "u", i ? i->n_vocab : 0);
	if (!strcmp(prop, "ContextSize"))
		return sd_bus_message_append(reply, "u", i ? i->n_ctx : 0);
	if (!strcmp(prop, "WeightType"))
		return sd_bus_message_append(reply, "s", i ? i->weight_type : "");
	if (!strcmp(prop, "State"))
		return sd_bus_message_append(reply, "s", bnetd_model_state_name(mo->state));
	if (!strcmp(prop, "Error"))
		return sd_bus_message_append(reply, "s", mo->error ? mo->error : "");
	if (!strcmp(prop, "LoadProgress"))
		return sd_bus_message_append(reply, "d", (double)mo->progress);
	if (!strcmp(prop, "MemoryBytes"))
		return sd_bus_message_append(reply, "t", i ? i->weight_bytes : (uint64_t)0);
	if (!strcmp(prop, "Parameters"))
		return sd_bus_message_append(reply, "t", i ? i->n_params : (uint64_t)0);
	return -ENOENT;
}

static const sd_bus_vtable model_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", model_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("File", "s", model_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Architecture", "s", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("VocabSize", "u", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ContextSize", "u", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("WeightType", "s", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("State", "s", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Error", "s", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("LoadProgress", "d", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("MemoryBytes", "t", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Parameters", "t", model_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

int bnetd_models_register(struct bnetd *d)
{
	int r;

	r = sd_bus_add_fallback_vtable(d->bus, NULL, BNETD_MODEL_PREFIX, BNETD_IFACE_MODEL,
				       model_vtable, model_find, d);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(d->bus, NULL, BNETD_MODEL_PREFIX, model_enumerate, d);
}
