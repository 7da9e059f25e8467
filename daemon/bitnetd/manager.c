// SPDX-License-Identifier: GPL-2.0
/*
 * The manager (manager.h): what ties models, sessions, requests and the
 * scheduler together, and what the daemon tells systemd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-daemon.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/manager.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/polkit.h"
#include "daemon/bitnetd/time-util.h"

void bnetd_manager_status_update(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;
	static char last[512];
	char models[256] = "", status[512];
	size_t len = 0;
	unsigned int n_sessions = 0;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);
		int w = snprintf(models + len, sizeof(models) - len, "%s%s (%s)", len ? ", " : "",
				 mo->name, bnetd_model_state_name(mo->state));

		if (w < 0 || (size_t)w >= sizeof(models) - len)
			break;
		len += (size_t)w;
	}
	bnetd_list_for_each_safe(pos, tmp, &d->sessions.list)
		n_sessions++;
	snprintf(status, sizeof(status), "STATUS=%s%s; %u sessions, %u running, %u queued",
		 d->queue.stopping ? "stopping; " : "", len ? models : "no model", n_sessions,
		 d->queue.n_running, d->queue.n_queue);
	/* called for every batch: tell systemd only what changed */
	if (!strcmp(status, last))
		return;
	snprintf(last, sizeof(last), "%s", status);
	sd_notify(0, status);
}

void bnetd_manager_maybe_exit(struct bnetd *d)
{
	if (!d->queue.stopping || bnetd_sched_busy(&d->sched))
		return;
	bnetd_queue_cancel_all(&d->queue);
	sd_bus_flush(d->bus);
	sd_event_exit(d->event, 0);
}

/* The Backend property follows the models. */
static void backend_changed(struct bnetd *d)
{
	sd_bus_emit_properties_changed(d->bus, BNETD_ROOT_PATH, BNETD_IFACE_MANAGER, "Backend",
				       NULL);
}

int bnetd_manager_load_model(struct bnetd *d, const char *name, const char *file,
			     enum bn_backend_kind backend, struct bnetd_model **out,
			     sd_bus_error *err)
{
	struct bnetd_model *mo = bnetd_model_find(&d->models, name);
	int r;

	r = bnetd_model_check_args(name, file, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	if (mo && mo->state != BNETD_MODEL_FAILED)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "a model named '%s' is %s",
					 name, bnetd_model_state_name(mo->state));
	if (mo) {
		/* a failed model is replaced by a new attempt */
		bnetd_list_del(&mo->link);
		bnetd_model_free(mo);
	}
	r = bnetd_model_new(name, file, backend, d->head, d->pack, d->cfg.threads, &d->wake, &mo);
	if (r < 0)
		return r;
	bnetd_list_add_tail(&mo->link, &d->models);
	bnetd_log(LOG_INFO, name, NULL, "loading %s", file);
	bnetd_manager_status_update(d);
	if (out)
		*out = mo;
	return 0;
}

static void poll_loaders(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);
		uint64_t budget = d->cfg.limits.memory_budget;
		int r = bnetd_model_take_loaded(mo);

		if (!r)
			continue;
		if (r > 0) {
			if (budget &&
			    bnetd_memory_used(&d->sessions) + mo->info->weight_bytes > budget)
				bnetd_model_fail(mo, "the model does not fit the memory budget");
			else
				bnetd_model_ready(mo);
		}
		sd_bus_emit_properties_changed(d->bus, mo->path, BNETD_IFACE_MODEL, "State",
					       "Error", "LoadProgress", NULL);
		bnetd_manager_status_update(d);
		backend_changed(d);
	}
}

int bnetd_manager_unload_model(struct bnetd *d, struct bnetd_model *mo, sd_bus_error *err)
{
	if (mo->state == BNETD_MODEL_LOADING)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' is still loading",
					 mo->name);
	if (mo->n_sessions)
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' has %u sessions",
					 mo->name, mo->n_sessions);
	if (bnetd_sched_computing(&d->sched, mo))
		return sd_bus_error_setf(err, BNETD_ERR_MODEL_BUSY, "'%s' is computing", mo->name);
	bnetd_log(LOG_INFO, mo->name, NULL, "unloaded");
	bnetd_list_del(&mo->link);
	bnetd_model_free(mo);
	bnetd_manager_status_update(d);
	backend_changed(d);
	return 0;
}

void bnetd_manager_preload(struct bnetd *d)
{
	for (size_t i = 0; i < d->cfg.n_models; i++) {
		const struct bnetd_preload *p = &d->cfg.models[i];
		sd_bus_error err = SD_BUS_ERROR_NULL;
		int r;

		if (bnetd_model_find(&d->models, p->name))
			continue;
		r = bnetd_manager_load_model(d, p->name, p->path, d->backend, NULL, &err);
		if (r < 0 || sd_bus_error_is_set(&err))
			bnetd_log(LOG_ERR, p->name, NULL, "cannot preload %s: %s", p->path,
				  err.message ? err.message : strerror(-r));
		sd_bus_error_free(&err);
	}
}

const char *bnetd_manager_backend(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;
	struct bn_backend_stats st;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (mo->state == BNETD_MODEL_READY && !bn_model_backend_stats(mo->m, &st))
			return st.name;
	}
	if (d->backend == BN_BACKEND_KMOD || (d->backend == BN_BACKEND_AUTO && d->device_available))
		return "kmod";
	return "cpu";
}

int bnetd_manager_device_stats(struct bnetd *d, struct bn_backend_stats *st)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		if (mo->state == BNETD_MODEL_READY && !bn_model_backend_stats(mo->m, st) &&
		    st->kind == BN_BACKEND_KMOD && st->has_device)
			return 0;
	}
	return -ENODEV;
}

void bnetd_manager_close_session(struct bnetd *d, struct bnetd_session *s)
{
	if (!s->closed)
		bnetd_log(LOG_INFO, s->model->name, s->path, "session of %s closed", s->owner);
	s->closed = true;
	if (!bnetd_queue_end_session(&d->queue, s))
		return;
	bnetd_session_free(s);
	bnetd_manager_status_update(d);
}

static int on_owner_gone(sd_bus_track *track, void *userdata)
{
	struct bnetd_session *s = userdata;

	(void)track;
	if (!s->closed)
		bnetd_manager_close_session(s->manager, s);
	return 0;
}

int bnetd_manager_create_session(struct bnetd *d, sd_bus_message *m, struct bnetd_model *mo,
				 uint32_t n_ctx, struct bnetd_session **out, sd_bus_error *err)
{
	uid_t uid;
	int r;

	r = bnetd_sender_uid(m, &uid);
	if (r < 0)
		return r;
	r = bnetd_session_new(&d->sessions, d, d->bus, mo, sd_bus_message_get_sender(m), uid, n_ctx,
			      on_owner_gone, out, err);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	bnetd_manager_status_update(d);
	return 0;
}

int bnetd_manager_submit(struct bnetd *d, struct bnetd_session *s, int32_t *tokens,
			 uint32_t n_tokens, bool replace_context, struct bnetd_params *p, int fd,
			 uint64_t *id, sd_bus_error *err)
{
	int r = bnetd_request_submit(&d->queue, s, tokens, n_tokens, replace_context, p, fd, id,
				     err);

	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	bnetd_sched_kick_later(&d->sched);
	return 0;
}

/* Scheduler hooks. */
static void sched_idle(void *userdata)
{
	bnetd_manager_status_update(userdata);
	bnetd_manager_maybe_exit(userdata);
}

static void sched_changed(void *userdata)
{
	bnetd_manager_status_update(userdata);
}

/* Sessions closed while their request was in the worker's hands. */
static void sched_batch_done(void *userdata)
{
	struct bnetd *d = userdata;
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &d->sessions.list) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (s->closed)
			bnetd_manager_close_session(d, s);
	}
}

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct bnetd *d = userdata;
	int r;

	(void)src;
	(void)fd;
	(void)revents;
	r = bnetd_wakeup_drain(&d->wake);
	if (r < 0 && r != -EAGAIN)
		return 0;
	poll_loaders(d);
	bnetd_sched_on_done(&d->sched);
	return 0;
}

void bnetd_manager_init(struct bnetd *d)
{
	d->config_path = BNETD_DEFAULT_CONFIG;
	bnetd_list_init(&d->models);
	bnetd_sessions_init(&d->sessions, &d->models, &d->cfg.limits);
	bnetd_queue_init(&d->queue, NULL, NULL, &d->cfg.limits);
	d->wake.fd = -1;
}

int bnetd_manager_start(struct bnetd *d)
{
	int r;

	d->queue.event = d->event;
	d->queue.bus = d->bus;
	r = bnetd_wakeup_init(&d->wake);
	if (r < 0)
		return r;
	r = sd_event_add_io(d->event, &d->done_source, d->wake.fd, EPOLLIN, on_done, d);
	if (r < 0)
		return r;
	d->sched = (struct bnetd_sched){
		.q = &d->queue,
		.event = d->event,
		.wake = &d->wake,
		.idle = sched_idle,
		.changed = sched_changed,
		.batch_done = sched_batch_done,
		.userdata = d,
	};
	return bnetd_sched_start(&d->sched);
}

void bnetd_manager_free(struct bnetd *d)
{
	struct bnetd_list *pos, *tmp;

	bnetd_sched_stop(&d->sched);
	bnetd_queue_cancel_all(&d->queue);
	bnetd_list_for_each_safe(pos, tmp, &d->sessions.list)
		bnetd_manager_close_session(d, container_of(pos, struct bnetd_session, link));
	bnetd_list_for_each_safe(pos, tmp, &d->models) {
		struct bnetd_model *mo = container_of(pos, struct bnetd_model, link);

		/* a loader thread still owns a loading model: leave it */
		if (mo->state == BNETD_MODEL_LOADING)
			continue;
		bnetd_list_del(&mo->link);
		bnetd_model_free(mo);
	}
	d->done_source = sd_event_source_disable_unref(d->done_source);
	bnetd_wakeup_fini(&d->wake);
}
