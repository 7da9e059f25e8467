/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model the daemon serves: loaded on its own thread (so LoadModel answers
 * at once), held by its sessions, unloaded when none holds it.
 */
#ifndef BITNETD_MODEL_H
#define BITNETD_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "daemon/engine/engine.h"
#include "daemon/bitnetd/list.h"

struct bnetd_wakeup;

enum bnetd_model_state {
	BNETD_MODEL_LOADING,
	BNETD_MODEL_READY,
	BNETD_MODEL_FAILED,
};

struct bnetd_model {
	struct bnetd_list link; /* the manager's models */
	char *name;
	char *file;
	char *path; /* D-Bus object path */
	enum bnetd_model_state state;
	char *error;
	struct bn_model *m; /* NULL until ready */
	const struct bn_model_info *info;
	unsigned int n_sessions; /* sessions holding it */
	/* loader thread: writes progress/result, then wakes the loop */
	_Atomic double progress;
	struct bnetd_wakeup *wake;
	bool loader_done; /* under wake->lock */
	int load_rc;
	char load_err[256];
	struct bn_model *loaded;
	enum bn_backend_kind backend;
	enum bn_head_kind head;
	enum bn_pack_kind pack;
	int threads;
};

const char *bnetd_model_state_name(enum bnetd_model_state s);
/* InvalidArgs for a name or file LoadModel does not take. */
int bnetd_model_check_args(const char *name, const char *file, sd_bus_error *err);
/* A LOADING model whose loader thread runs; it wakes @wake when done. */
int bnetd_model_new(const char *name, const char *file, enum bn_backend_kind backend,
		    enum bn_head_kind head, enum bn_pack_kind pack, int threads,
		    struct bnetd_wakeup *wake, struct bnetd_model **out);
/*
 * Takes a finished loader's result: 1 when the model is loaded (still
 * LOADING until bnetd_model_ready() or bnetd_model_fail()), -1 when the load
 * failed (now FAILED), 0 when the loader is not done.
 */
int bnetd_model_take_loaded(struct bnetd_model *mo);
void bnetd_model_ready(struct bnetd_model *mo);
/* Drops the loaded model: FAILED with @why. */
void bnetd_model_fail(struct bnetd_model *mo, const char *why);
/* Not while loading: the loader thread owns the model then. */
void bnetd_model_free(struct bnetd_model *mo);

void bnetd_model_hold(struct bnetd_model *mo);
void bnetd_model_release(struct bnetd_model *mo);

struct bnetd_model *bnetd_model_find(struct bnetd_list *models, const char *name);
/* Weights of the ready models of @models. */
uint64_t bnetd_models_weight_bytes(struct bnetd_list *models);

/*
 * A unix socket whose peer end carries the model's weights pinned on
 * /dev/bitnet (bn_model_share_weights()): the caller hands *@fd to another
 * process, which attaches to them read-only. -ENODEV when the weights are
 * not on the device.
 */
int bnetd_model_share_weights(struct bnetd_model *mo, int *fd);

/* Text to a malloc'd id array; -EINVAL for text the vocab cannot encode. */
int bnetd_model_tokenize(const struct bnetd_model *mo, const char *text, bool add_bos,
			 bool parse_special, int32_t **out, uint32_t *n_out);

#endif /* BITNETD_MODEL_H */
