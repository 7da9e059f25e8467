// SPDX-License-Identifier: GPL-2.0
/*
 * Models: state, the loader thread, the sessions' hold, freeing (model.h).
 * The thread only writes its model's loader fields and progress, then wakes
 * the event loop, which takes the result with bnetd_model_take_loaded().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/wakeup.h"

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

struct bnetd_model *bnetd_model_find(struct bnetd_list *models, const char *name)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (!strcmp(mo->name, name))
			return mo;
	}
	return NULL;
}

uint64_t bnetd_models_weight_bytes(struct bnetd_list *models)
{
	struct bnetd_list *pos, *tmp;
	uint64_t sum = 0;

	bnetd_list_for_each_safe(pos, tmp, models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (mo->state == BNETD_MODEL_READY)
			sum += mo->info->weight_bytes;
	}
	return sum;
}

void bnetd_model_hold(struct bnetd_model *mo)
{
	mo->n_sessions++;
}

void bnetd_model_release(struct bnetd_model *mo)
{
	mo->n_sessions--;
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
		.pack = mo->pack,
		.progress = on_progress,
		.userdata = mo,
	};
	struct bn_model *m = NULL;
	char err[256] = "";
	int r;

	r = bn_model_load(mo->file, &o, &m, err, sizeof(err));
	pthread_mutex_lock(&mo->wake->lock);
	mo->load_rc = r;
	mo->loaded = m;
	snprintf(mo->load_err, sizeof(mo->load_err), "%s", err[0] ? err : strerror(-r));
	mo->loader_done = true;
	pthread_mutex_unlock(&mo->wake->lock);
	bnetd_wakeup_notify(mo->wake);
	return NULL;
}

void bnetd_model_free(struct bnetd_model *mo)
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

int bnetd_model_check_args(const char *name, const char *file, sd_bus_error *err)
{
	if (!valid_name(name))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "name: 1-64 characters of A-Z a-z 0-9 . _ -");
	if (file[0] != '/' || strlen(file) > 4096)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "path: must be absolute and at most 4096 bytes");
	return 0;
}

int bnetd_model_new(const char *name, const char *file, enum bn_backend_kind backend,
		    enum bn_head_kind head, enum bn_pack_kind pack, int threads,
		    struct bnetd_wakeup *wake, struct bnetd_model **out)
{
	struct bnetd_model *mo = calloc(1, sizeof(*mo));
	pthread_t t;
	int r;

	if (!mo)
		return -ENOMEM;
	mo->name = strdup(name);
	mo->file = strdup(file);
	r = sd_bus_path_encode(BNETD_MODEL_PREFIX, name, &mo->path);
	if (!mo->name || !mo->file || r < 0) {
		bnetd_model_free(mo);
		return -ENOMEM;
	}
	mo->state = BNETD_MODEL_LOADING;
	mo->wake = wake;
	mo->backend = backend;
	mo->head = head;
	mo->pack = pack;
	mo->threads = threads;
	r = -pthread_create(&t, NULL, loader_main, mo);
	if (r < 0) {
		bnetd_model_free(mo);
		return r;
	}
	pthread_detach(t);
	*out = mo;
	return 0;
}

int bnetd_model_take_loaded(struct bnetd_model *mo)
{
	bool done;

	if (mo->state != BNETD_MODEL_LOADING)
		return 0;
	pthread_mutex_lock(&mo->wake->lock);
	done = mo->loader_done;
	pthread_mutex_unlock(&mo->wake->lock);
	if (!done)
		return 0;
	if (mo->load_rc < 0) {
		mo->state = BNETD_MODEL_FAILED;
		mo->error = strdup(mo->load_err);
		bnetd_log(LOG_ERR, mo->name, NULL, "loading %s failed: %s", mo->file, mo->load_err);
		return -1;
	}
	mo->m = mo->loaded;
	mo->info = bn_model_info(mo->m);
	mo->progress = 1.0;
	return 1;
}

void bnetd_model_ready(struct bnetd_model *mo)
{
	mo->state = BNETD_MODEL_READY;
	bnetd_log(LOG_INFO, mo->name, NULL, "ready: %s, %s weights, %u layers, backend %s",
		  mo->info->arch, mo->info->weight_type, mo->info->n_layer, mo->info->backend);
}

void bnetd_model_fail(struct bnetd_model *mo, const char *why)
{
	bn_model_free(mo->m);
	mo->m = NULL;
	mo->info = NULL;
	mo->state = BNETD_MODEL_FAILED;
	mo->error = strdup(why);
	bnetd_log(LOG_ERR, mo->name, NULL, "%s", mo->error);
}

int bnetd_model_tokenize(const struct bnetd_model *mo, const char *text, bool add_bos,
			 bool parse_special, int32_t **out, uint32_t *n_out)
{
	const struct bn_vocab *v = bn_model_vocab(mo->m);
	size_t len = strlen(text), cap = len + 2;
	int32_t *ids = malloc(cap * sizeof(*ids));
	int n;

	if (!ids)
		return -ENOMEM;
	n = bn_tokenize(v, text, len, add_bos, parse_special, ids, cap);
	if (n >= 0 && (size_t)n > cap) {
		int32_t *t = realloc(ids, (size_t)n * sizeof(*ids));

		if (!t) {
			free(ids);
			return -ENOMEM;
		}
		ids = t;
		n = bn_tokenize(v, text, len, add_bos, parse_special, ids, (size_t)n);
	}
	if (n < 0) {
		free(ids);
		return n;
	}
	*out = ids;
	*n_out = (uint32_t)n;
	return 0;
}

int bnetd_model_share_weights(struct bnetd_model *mo, int *fd)
{
	int sv[2], r;

	if (mo->state != BNETD_MODEL_READY)
		return -EBUSY;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	/* the event loop never waits for the peer: all is queued at once */
	r = fcntl(sv[0], F_SETFL, O_NONBLOCK) ? -errno : 0;
	if (!r)
		r = bn_model_share_weights(mo->m, sv[0]);
	close(sv[0]);
	if (r) {
		close(sv[1]);
		return r;
	}
	*fd = sv[1];
	return 0;
}
