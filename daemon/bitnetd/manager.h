/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The manager: the daemon's top object. It owns the models, the sessions,
 * the request queue and the scheduler, the bus and event loop they use, and
 * the configuration. The sd-event loop thread owns all of it; the worker
 * thread touches only the batch it was handed (scheduler.c) and loader
 * threads only their model's loader fields (model.c).
 */
#ifndef BITNETD_MANAGER_H
#define BITNETD_MANAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon/engine/engine.h"
#include "daemon/bitnetd/config.h"
#include "daemon/bitnetd/list.h"
#include "daemon/bitnetd/params.h"
#include "daemon/bitnetd/request.h"
#include "daemon/bitnetd/scheduler.h"
#include "daemon/bitnetd/session.h"
#include "daemon/bitnetd/wakeup.h"

struct bnetd_model;

struct bnetd {
	sd_event *event;
	sd_bus *bus;
	sd_bus *polkit_bus; /* where org.freedesktop.PolicyKit1 is */
	struct bnetd_config cfg;
	const char *config_path;
	bool under_systemd;
	enum bn_backend_kind backend; /* forced by --backend, or auto */
	enum bn_head_kind head;	      /* the config's Head=, or auto */
	enum bn_pack_kind pack;	      /* the config's Pack=, or auto */
	bool device_available;
	struct bnetd_list models;
	struct bnetd_sessions sessions;
	struct bnetd_queue queue;
	struct bnetd_sched sched;
	/* completions from worker and loader threads */
	struct bnetd_wakeup wake;
	sd_event_source *done_source;
	sd_event_source *idle_timer;
};

void bnetd_manager_init(struct bnetd *d);
/* Once the bus and event loop are set: the queue, the wakeup, the worker. */
int bnetd_manager_start(struct bnetd *d);
/* Stops the worker, ends every request, session and (loaded) model. */
void bnetd_manager_free(struct bnetd *d);

/* Tells systemd (STATUS=) what changed. */
void bnetd_manager_status_update(struct bnetd *d);
/* Exits the loop once stopping and no batch is out. */
void bnetd_manager_maybe_exit(struct bnetd *d);
/* Loads the configuration's models that are not there yet. */
void bnetd_manager_preload(struct bnetd *d);

int bnetd_manager_load_model(struct bnetd *d, const char *name, const char *file,
			     enum bn_backend_kind backend, struct bnetd_model **out,
			     sd_bus_error *err);
int bnetd_manager_unload_model(struct bnetd *d, struct bnetd_model *mo, sd_bus_error *err);
/* The backend the ready models use (or would use): "cpu" or "kmod". */
const char *bnetd_manager_backend(struct bnetd *d);
/* /dev/bitnet's counters through a ready model on kmod; -ENODEV without one. */
int bnetd_manager_device_stats(struct bnetd *d, struct bn_backend_stats *st);

int bnetd_manager_create_session(struct bnetd *d, sd_bus_message *m, struct bnetd_model *mo,
				 uint32_t n_ctx, struct bnetd_session **out, sd_bus_error *err);
void bnetd_manager_close_session(struct bnetd *d, struct bnetd_session *s);
/* bnetd_request_submit(), then the scheduler runs it. */
int bnetd_manager_submit(struct bnetd *d, struct bnetd_session *s, int32_t *tokens,
			 uint32_t n_tokens, bool replace_context, struct bnetd_params *p, int fd,
			 uint64_t *id, sd_bus_error *err);

#endif /* BITNETD_MANAGER_H */
