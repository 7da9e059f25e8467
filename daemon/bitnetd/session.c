// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: state, lifetime, KV caches and their eviction (session.h).
 * sd_bus_track tells the manager when the owner leaves the bus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/engine/engine.h"
#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/session.h"
#include "daemon/bitnetd/time-util.h"

void bnetd_sessions_init(struct bnetd_sessions *all, struct bnetd_list *models,
			 const struct bnetd_limits *limits)
{
	bnetd_list_init(&all->list);
	all->models = models;
	all->limits = limits;
}

const char *bnetd_session_state(const struct bnetd_session *s)
{
	if (s->active)
		return "running";
	if (s->n_queued)
		return "queued";
	if (s->evicted)
		return "evicted";
	return "idle";
}

void bnetd_session_touch(struct bnetd_session *s)
{
	s->last_used = bnetd_now();
}

bool bnetd_session_visible(struct bnetd_session *s, sd_bus_message *m)
{
	const char *sender;

	if (!m)
		return true;
	sender = sd_bus_message_get_sender(m);
	return sender && !strcmp(sender, s->owner);
}

struct bnetd_session *bnetd_sessions_find(struct bnetd_sessions *all, const char *path)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &all->list) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (!s->closed && !strcmp(s->path, path))
			return s;
	}
	return NULL;
}

unsigned int bnetd_sessions_of_uid(struct bnetd_sessions *all, uid_t uid)
{
	struct bnetd_list *pos, *tmp;
	unsigned int n = 0;

	bnetd_list_for_each_safe(pos, tmp, &all->list) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		n += !s->closed && s->uid == uid;
	}
	return n;
}

uint32_t bnetd_sessions_count(struct bnetd_sessions *all)
{
	struct bnetd_list *pos, *tmp;
	uint32_t n = 0;

	bnetd_list_for_each_safe(pos, tmp, &all->list)
		n += !container_of(pos, struct bnetd_session, link)->closed;
	return n;
}

uint64_t bnetd_memory_used(struct bnetd_sessions *all)
{
	struct bnetd_list *pos, *tmp;
	uint64_t sum = bnetd_models_weight_bytes(all->models);

	bnetd_list_for_each_safe(pos, tmp, &all->list) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (s->seq)
			sum += bn_seq_bytes(s->seq);
	}
	return sum;
}

void bnetd_session_drop_kv(struct bnetd_session *s)
{
	if (s->seq) {
		bn_seq_free(s->seq);
		s->seq = NULL;
	}
}

void bnetd_sessions_evict_idle(struct bnetd_sessions *all, uint64_t now)
{
	uint64_t timeout = (uint64_t)all->limits->idle_timeout_sec * 1000000ULL;
	struct bnetd_list *pos, *tmp;

	if (!timeout)
		return;
	bnetd_list_for_each_safe(pos, tmp, &all->list) {
		struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

		if (s->seq && !s->active && !s->n_queued && now - s->last_used >= timeout) {
			bnetd_session_drop_kv(s);
			s->evicted = true;
			bnetd_log(LOG_INFO, s->model->name, s->path, "idle: KV cache evicted");
		}
	}
}

int bnetd_sessions_make_room(struct bnetd_sessions *all, size_t need, struct bnetd_session *keep)
{
	uint64_t budget = all->limits->memory_budget;

	while (budget && bnetd_memory_used(all) + need > budget) {
		struct bnetd_session *lru = NULL;
		struct bnetd_list *pos, *tmp;

		bnetd_list_for_each_safe(pos, tmp, &all->list) {
			struct bnetd_session *s = container_of(pos, struct bnetd_session, link);

			if (s != keep && s->seq && !s->active &&
			    (!lru || s->last_used < lru->last_used))
				lru = s;
		}
		if (!lru)
			return -ENOMEM;
		bnetd_session_drop_kv(lru);
		lru->evicted = true;
		bnetd_log(LOG_INFO, lru->model->name, lru->path, "KV cache evicted for memory");
	}
	return 0;
}

int bnetd_session_new_kv(struct bnetd_session *s)
{
	s->seq = bn_seq_new(s->model->m, s->n_ctx);
	if (!s->seq)
		return -ENOMEM;
	if (bnetd_sessions_make_room(s->all, 0, s) < 0) {
		bn_seq_free(s->seq);
		s->seq = NULL;
		return -EDQUOT;
	}
	return 0;
}

void bnetd_session_free(struct bnetd_session *s)
{
	bnetd_list_del(&s->link);
	bnetd_session_drop_kv(s);
	bnetd_model_release(s->model);
	sd_bus_track_unref(s->track);
	free(s->ctx);
	free(s->path);
	free(s->owner);
	free(s);
}

int bnetd_session_new(struct bnetd_sessions *all, struct bnetd *manager, sd_bus *bus,
		      struct bnetd_model *mo, const char *sender, uid_t uid, uint32_t n_ctx,
		      sd_bus_track_handler_t on_gone, struct bnetd_session **out, sd_bus_error *err)
{
	const struct bnetd_limits *l = all->limits;
	uint8_t rnd[16];
	char hex[33];
	struct bnetd_session *s;
	int r;

	if (l->max_sessions_per_user && bnetd_sessions_of_uid(all, uid) >= l->max_sessions_per_user)
		return sd_bus_error_setf(err, BNETD_ERR_QUOTA,
					 "uid %u has %u sessions, the most allowed", uid,
					 l->max_sessions_per_user);
	if (n_ctx > mo->info->n_ctx)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "options: 'n_ctx' exceeds the model's %u",
					 mo->info->n_ctx);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		sprintf(hex + 2 * i, "%02x", rnd[i]);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->all = all;
	s->manager = manager;
	s->model = mo;
	s->uid = uid;
	s->n_ctx = n_ctx ? n_ctx : mo->info->n_ctx;
	s->owner = strdup(sender);
	r = asprintf(&s->path, "%s/%s", BNETD_SESSION_PREFIX, hex);
	if (r < 0)
		s->path = NULL;
	if (!s->owner || !s->path) {
		free(s->owner);
		free(s->path);
		free(s);
		return -ENOMEM;
	}
	r = sd_bus_track_new(bus, &s->track, on_gone, s);
	if (r >= 0)
		r = sd_bus_track_add_name(s->track, s->owner);
	if (r < 0) {
		sd_bus_track_unref(s->track);
		free(s->owner);
		free(s->path);
		free(s);
		return r;
	}
	s->last_used = bnetd_now();
	bnetd_model_hold(mo);
	bnetd_list_add_tail(&s->link, &all->list);
	bnetd_log(LOG_INFO, mo->name, s->path, "session for %s (uid %u), %u positions", s->owner,
		  uid, s->n_ctx);
	*out = s;
	return 0;
}
