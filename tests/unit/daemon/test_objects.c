// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of bitnetd's objects without a bus (TAP): a model loaded on its
 * loader thread and taken through the wakeup, sessions and their KV caches
 * under a memory budget (least recently used evicted first, idle eviction),
 * and the state names the D-Bus properties show. Uses the shared tiny model.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/session.h"
#include "daemon/bitnetd/time-util.h"
#include "daemon/bitnetd/wakeup.h"
#include "tests/tap.h"

#define N_TESTS 22

/* Waits for the loader (at most 60 s) and takes its result. */
static int wait_loaded(struct bnetd_wakeup *w, struct bnetd_model *mo)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int r = 0;

	for (int i = 0; i < 600 && !r; i++) {
		poll(&p, 1, 100);
		bnetd_wakeup_drain(w);
		r = bnetd_model_take_loaded(mo);
	}
	return r;
}

static struct bnetd_session *session(struct bnetd_sessions *all, struct bnetd_model *mo,
				     const char *path, uid_t uid, uint32_t n_ctx)
{
	struct bnetd_session *s = calloc(1, sizeof(*s));

	if (!s)
		exit(1);
	s->all = all;
	s->model = mo;
	s->path = strdup(path);
	s->owner = strdup(":1.1");
	s->uid = uid;
	s->n_ctx = n_ctx;
	bnetd_model_hold(mo);
	bnetd_list_add_tail(&s->link, &all->list);
	return s;
}

int main(void)
{
	const char *src = getenv("SRC") ? getenv("SRC") : ".";
	struct bnetd_limits limits = { 0 };
	struct bnetd_list models;
	struct bnetd_sessions all;
	struct bnetd_session *a, *b, *c;
	struct bnetd_model *mo = NULL;
	struct bnetd_wakeup w;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	uint64_t weights, kv;
	char file[4096];
	int r;

	snprintf(file, sizeof(file),
		 "%s/../shared/models/tiny-shakespeare-a/"
		 "tiny-shakespeare-a-tq2_0.gguf",
		 src);
	if (access(file, R_OK)) {
		printf("1..0 # SKIP ../shared/models/tiny-shakespeare-a missing\n");
		return 0;
	}
	tap_plan(N_TESTS);

	r = bnetd_model_check_args("bad/name", "/x", &err);
	tap_ok(r < 0 && sd_bus_error_has_name(&err, SD_BUS_ERROR_INVALID_ARGS),
	       "model: a name with '/' is InvalidArgs");
	sd_bus_error_free(&err);
	r = bnetd_model_check_args("tiny", "relative.gguf", &err);
	tap_ok(r < 0 && sd_bus_error_has_name(&err, SD_BUS_ERROR_INVALID_ARGS),
	       "model: a relative path is InvalidArgs");
	sd_bus_error_free(&err);
	tap_ok(bnetd_model_check_args("tiny-1.b_2", "/x.gguf", &err) == 0,
	       "model: name and absolute path accepted");

	bnetd_list_init(&models);
	r = bnetd_wakeup_init(&w);
	if (r >= 0)
		r = bnetd_model_new("tiny", file, BN_BACKEND_CPU, BN_HEAD_AUTO, BN_PACK_AUTO, 1, &w,
				    &mo);
	if (!tap_ok(r == 0 && !strcmp(bnetd_model_state_name(mo->state), "loading"),
		    "model: the loader thread starts, the model is 'loading'"))
		return tap_exit();
	bnetd_list_add_tail(&mo->link, &models);
	tap_ok(bnetd_models_weight_bytes(&models) == 0, "model: a loading model weighs nothing");
	r = wait_loaded(&w, mo);
	tap_ok(r == 1 && mo->m && mo->info && mo->progress == 1.0,
	       "model: the loader's result is taken through the wakeup (r=%d)", r);
	if (r != 1)
		return tap_exit();
	bnetd_model_ready(mo);
	tap_ok(!strcmp(bnetd_model_state_name(mo->state), "ready") &&
		       bnetd_model_find(&models, "tiny") == mo && !bnetd_model_find(&models, "x"),
	       "model: ready, found by name");
	weights = bnetd_models_weight_bytes(&models);
	tap_ok(weights == mo->info->weight_bytes && weights > 0,
	       "model: the ready model's weights are counted (%llu bytes)",
	       (unsigned long long)weights);

	bnetd_sessions_init(&all, &models, &limits);
	a = session(&all, mo, "/s/a", 1000, 64);
	b = session(&all, mo, "/s/b", 1000, 64);
	c = session(&all, mo, "/s/c", 1001, 64);
	tap_ok(mo->n_sessions == 3 && bnetd_sessions_count(&all) == 3 &&
		       bnetd_sessions_of_uid(&all, 1000) == 2 &&
		       bnetd_sessions_find(&all, "/s/b") == b,
	       "sessions: the model is held 3 times, counted per uid, found by path");
	c->closed = true;
	tap_ok(bnetd_sessions_count(&all) == 2 && bnetd_sessions_of_uid(&all, 1001) == 0 &&
		       !bnetd_sessions_find(&all, "/s/c"),
	       "sessions: a closed session is neither counted nor found");
	tap_ok(!strcmp(bnetd_session_state(a), "idle"), "session: 'idle'");
	a->n_queued = 1;
	tap_ok(!strcmp(bnetd_session_state(a), "queued"), "session: 'queued'");
	a->n_queued = 0;

	tap_ok(bnetd_session_new_kv(a) == 0 && bnetd_session_new_kv(b) == 0 && a->seq && b->seq,
	       "kv: two caches without a budget");
	kv = bn_seq_bytes(a->seq);
	tap_ok(bnetd_memory_used(&all) == weights + 2 * kv,
	       "kv: memory used is weights + both caches (%llu + 2 x %llu)",
	       (unsigned long long)weights, (unsigned long long)kv);
	a->last_used = 100;
	b->last_used = 200;
	limits.memory_budget = weights + 2 * kv - 1;
	r = bnetd_sessions_make_room(&all, 0, NULL);
	tap_ok(r == 0 && !a->seq && a->evicted && b->seq && !b->evicted,
	       "kv: one byte over budget evicts the least recently used cache only");
	tap_ok(!strcmp(bnetd_session_state(a), "evicted"), "session: 'evicted'");
	b->last_used = 300;
	r = bnetd_session_new_kv(a);
	tap_ok(r == 0 && a->seq && !b->seq && b->evicted,
	       "kv: a new cache over budget evicts the other session's, never its own");
	limits.memory_budget = weights + 1;
	r = bnetd_session_new_kv(b);
	tap_ok(r == -EDQUOT && !b->seq && !a->seq,
	       "kv: a cache that cannot fit at all is refused with -EDQUOT (r=%d)", r);

	limits.memory_budget = 0;
	limits.idle_timeout_sec = 1;
	bnetd_session_new_kv(a);
	bnetd_session_new_kv(b);
	a->last_used = bnetd_now() - 2000000;
	b->last_used = bnetd_now() - 2000000;
	b->active = (struct bnetd_request *)1; /* running: never idle */
	bnetd_sessions_evict_idle(&all, bnetd_now());
	tap_ok(!a->seq && a->evicted && b->seq,
	       "kv: idle eviction drops an idle cache, not a running session's");
	tap_ok(!strcmp(bnetd_session_state(b), "running"), "session: 'running'");
	b->active = NULL;
	limits.idle_timeout_sec = 0;
	b->last_used = 0;
	bnetd_sessions_evict_idle(&all, bnetd_now());
	tap_ok(b->seq != NULL, "kv: IdleTimeoutSec=0 never evicts");

	bnetd_session_free(a);
	bnetd_session_free(b);
	bnetd_session_free(c);
	tap_ok(mo->n_sessions == 0 && bnetd_list_empty(&all.list),
	       "sessions: freed, the model is no longer held");
	bnetd_list_del(&mo->link);
	bnetd_model_free(mo);
	bnetd_wakeup_fini(&w);
	return tap_exit();
}
