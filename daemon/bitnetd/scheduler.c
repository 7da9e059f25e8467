// SPDX-License-Identifier: GPL-2.0
/*
 * Continuous batching. The event loop builds one batch at a time: the decode
 * step of every running request of one model, plus up to PrefillChunk prompt
 * tokens of each request still computing its prompt, so a long prompt delays
 * the others' next token by one chunk at most, and prompts that arrive
 * together are computed together. One chunk for all of them, in arrival
 * order, started the sessions of a burst one at a time, each of the first
 * ones waiting through every later prompt's chunk: 8 sessions of 24-word
 * prompts (bitnet-bench serve's driver, old and new alternated twice) had
 * a p99 per token of 399-451 ms, now 71-86, and their summed decode rates
 * were 0.88x the rate while all decode, now 0.98x; the median first token
 * comes later (1.4-1.7 s, now 2.0 s), as every prompt of the burst waits
 * for the one step that computes them all.
 *
 * A worker thread runs bn_forward() on the batch and wakes the loop
 * (wakeup.c); the manager hands that to bnetd_sched_on_done(), which
 * samples, streams and builds the next. While a batch is out, the loop
 * touches none of its sequences.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/engine.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/request.h"
#include "daemon/bitnetd/scheduler.h"
#include "daemon/bitnetd/session.h"
#include "daemon/bitnetd/time-util.h"
#include "daemon/bitnetd/wakeup.h"

struct bnetd_batch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool has_job, done, quit, in_flight;
	struct bnetd_model *model;
	struct bn_batch_item *items;
	struct bnetd_request **reqs;
	uint32_t n, cap;
	int rc;
	uint64_t t_start, t_end;
};

static void *worker_main(void *arg)
{
	struct bnetd_sched *sc = arg;
	struct bnetd_batch *b = sc->batch;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->has_job && !b->quit)
			pthread_cond_wait(&b->cond, &b->lock);
		if (b->quit)
			break;
		pthread_mutex_unlock(&b->lock);
		b->t_start = bnetd_now();
		b->rc = bn_forward(b->model->m, b->items, b->n);
		b->t_end = bnetd_now();
		pthread_mutex_lock(&b->lock);
		b->has_job = false;
		b->done = true;
		bnetd_wakeup_notify(sc->wake);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

bool bnetd_sched_busy(struct bnetd_sched *sc)
{
	return sc->batch && sc->batch->in_flight;
}

bool bnetd_sched_computing(struct bnetd_sched *sc, struct bnetd_model *mo)
{
	return sc->batch && sc->last_batch_model == mo;
}

int bnetd_sched_start(struct bnetd_sched *sc)
{
	struct bnetd_batch *b;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	sc->batch = b;
	r = -pthread_create(&b->thread, NULL, worker_main, sc);
	if (r < 0) {
		sc->batch = NULL;
		free(b);
	}
	return r;
}

void bnetd_sched_stop(struct bnetd_sched *sc)
{
	struct bnetd_batch *b = sc->batch;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->quit = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	free(b->items);
	free(b->reqs);
	free(b);
	sc->batch = NULL;
	sc->kick_source = sd_event_source_disable_unref(sc->kick_source);
}

static int batch_add(struct bnetd_batch *b, struct bnetd_request *r, const int32_t *tokens,
		     uint32_t n, bool want_logits)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? 2 * b->cap : 16;
		struct bn_batch_item *it = realloc(b->items, cap * sizeof(*it));
		struct bnetd_request **rq;

		if (!it)
			return -ENOMEM;
		b->items = it;
		rq = realloc(b->reqs, cap * sizeof(*rq));
		if (!rq)
			return -ENOMEM;
		b->reqs = rq;
		b->cap = cap;
	}
	b->items[b->n] = (struct bn_batch_item){
		.seq = r->s->seq,
		.tokens = tokens,
		.n_tokens = n,
		.logits = want_logits ? r->logits : NULL,
	};
	b->reqs[b->n++] = r;
	r->in_batch = true;
	return 0;
}

/* Moves waiting requests to running while there is room, FIFO, one per session. */
static void admit(struct bnetd_sched *sc)
{
	struct bnetd_queue *q = sc->q;
	struct bnetd_list *pos, *tmp;

	if (q->stopping)
		return;
	bnetd_list_for_each_safe(pos, tmp, &q->waiting) {
		struct bnetd_request *r = container_of(pos, struct bnetd_request, link);
		int rc;

		if (q->n_running >= q->limits->max_batch)
			break;
		if (r->s->active || r->s->closed)
			continue;
		bnetd_list_del(&r->link);
		q->n_queue--;
		r->s->n_queued--;
		bnetd_list_add_tail(&r->link, &q->running);
		q->n_running++;
		r->s->active = r;
		r->phase = BNETD_REQ_PREFILL;
		rc = bnetd_request_start(r);
		if (rc < 0) {
			bnetd_request_finish(r, "error",
					     rc == -ENOSPC ? "the context is full" :
					     rc == -EDQUOT ? "the memory budget is exhausted" :
					     rc == -EINVAL ? "nothing to compute" :
							     "out of memory");
			continue;
		}
		q->tokens_in += r->n_target - r->cached;
		bnetd_session_touch(r->s);
	}
}

/* Picks the model for the next batch: round robin over models with work. */
static struct bnetd_model *pick_model(struct bnetd_sched *sc)
{
	struct bnetd_list *pos, *tmp;
	struct bnetd_model *first = NULL;

	bnetd_list_for_each_safe(pos, tmp, &sc->q->running) {
		struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

		if (!first)
			first = r->s->model;
		if (r->s->model != sc->last_batch_model)
			return r->s->model;
	}
	return first;
}

void bnetd_sched_kick(struct bnetd_sched *sc)
{
	struct bnetd_batch *b = sc->batch;
	uint32_t max_chunk = sc->q->limits->prefill_chunk;
	struct bnetd_list *pos, *tmp;
	struct bnetd_model *mo;

	if (!b || b->in_flight)
		return;
	admit(sc);
	mo = pick_model(sc);
	if (!mo) {
		sc->idle(sc->userdata);
		return;
	}
	b->n = 0;
	b->model = mo;
	bnetd_list_for_each_safe(pos, tmp, &sc->q->running) {
		struct bnetd_request *r = container_of(pos, struct bnetd_request, link);
		uint32_t left, chunk;

		if (r->cancelled) {
			bnetd_request_finish(r, "cancelled", NULL);
			continue;
		}
		if (r->s->model != mo)
			continue;
		if (r->phase == BNETD_REQ_DECODE) {
			if (batch_add(b, r, &r->next_token, 1, true) < 0)
				bnetd_request_finish(r, "error", "out of memory");
			continue;
		}
		left = r->n_target - r->prefilled;
		chunk = left < max_chunk ? left : max_chunk;
		if (batch_add(b, r, r->target + r->prefilled, chunk, chunk == left) < 0)
			bnetd_request_finish(r, "error", "out of memory");
	}
	if (!b->n)
		return;
	sc->last_batch_model = mo;
	b->in_flight = true;
	pthread_mutex_lock(&b->lock);
	b->done = false;
	b->has_job = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	sc->changed(sc->userdata);
}

static int on_kick(sd_event_source *src, void *userdata)
{
	struct bnetd_sched *sc = userdata;

	sd_event_source_set_enabled(src, SD_EVENT_OFF);
	bnetd_sched_kick(sc);
	return 0;
}

void bnetd_sched_kick_later(struct bnetd_sched *sc)
{
	if (!sc->kick_source) {
		if (sd_event_add_defer(sc->event, &sc->kick_source, on_kick, sc) < 0) {
			bnetd_sched_kick(sc);
			return;
		}
		/* before the next bus message: admission order is submission order */
		sd_event_source_set_priority(sc->kick_source, SD_EVENT_PRIORITY_IMPORTANT);
	}
	sd_event_source_set_enabled(sc->kick_source, SD_EVENT_ONESHOT);
}

/*
 * The tokens just taken go out once the next batch computes: building and
 * sending the signals (and waking the bus daemon and the clients) between
 * two batches left both cores idle for it (the gap between batches was
 * 0.3-0.5 ms at B = 1, 0.24 with the signals after).
 */
static void flush_running(struct bnetd_sched *sc)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &sc->q->running) {
		struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

		bnetd_request_flush(r, false);
	}
}

void bnetd_sched_on_done(struct bnetd_sched *sc)
{
	struct bnetd_batch *b = sc->batch;
	uint32_t n_decode = 0;
	bool done;

	if (!b || !b->in_flight)
		return;
	pthread_mutex_lock(&b->lock);
	done = b->done;
	pthread_mutex_unlock(&b->lock);
	if (!done)
		return;
	b->in_flight = false;
	for (uint32_t i = 0; i < b->n; i++) {
		struct bnetd_request *r = b->reqs[i];
		struct bn_batch_item *it = &b->items[i];

		r->in_batch = false;
		if (r->cancelled || r->s->closed || sc->q->stopping) {
			bnetd_request_finish(r, "cancelled", NULL);
			continue;
		}
		if (b->rc < 0) {
			bnetd_request_finish(r, "error",
					     b->rc == -ENOSPC ? "the context is full" :
								"the forward pass failed");
			continue;
		}
		if (r->phase == BNETD_REQ_DECODE) {
			n_decode++;
			bnetd_request_take_token(r, r->logits);
			continue;
		}
		r->prefilled += it->n_tokens;
		if (r->prefilled == r->n_target)
			bnetd_request_take_token(r, r->logits);
	}
	if (n_decode && b->t_end > b->t_start) {
		double tps = (double)n_decode * 1e6 / (double)(b->t_end - b->t_start);

		sc->decode_tps = sc->decode_tps ? 0.8 * sc->decode_tps + 0.2 * tps : tps;
	}
	sc->batch_done(sc->userdata);
	bnetd_sched_kick(sc);
	flush_running(sc);
}
