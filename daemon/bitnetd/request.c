// SPDX-License-Identifier: GPL-2.0
/*
 * Generation requests: queued by Submit/Chat, started by the scheduler,
 * fed one token at a time by the engine's generator (sampling, end of
 * generation, stop strings, text), streamed as Tokens signals (or into a
 * pipe) and ended with a Finished signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/model.h"
#include "daemon/bitnetd/request.h"
#include "daemon/bitnetd/session.h"
#include "daemon/bitnetd/time-util.h"

void bnetd_queue_init(struct bnetd_queue *q, sd_event *event, sd_bus *bus,
		      const struct bnetd_limits *limits)
{
	bnetd_list_init(&q->waiting);
	bnetd_list_init(&q->running);
	q->event = event;
	q->bus = bus;
	q->limits = limits;
}

void bnetd_queue_cancel_all(struct bnetd_queue *q)
{
	struct bnetd_list *lists[2] = { &q->waiting, &q->running };
	struct bnetd_list *pos, *tmp;

	for (int i = 0; i < 2; i++)
		bnetd_list_for_each_safe(pos, tmp, lists[i]) {
			struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

			bnetd_request_finish(r, "cancelled", NULL);
		}
}

uint64_t bnetd_queue_reserved_of_uid(struct bnetd_queue *q, uid_t uid)
{
	struct bnetd_list *lists[2] = { &q->waiting, &q->running };
	struct bnetd_list *pos, *tmp;
	uint64_t sum = 0;

	for (int i = 0; i < 2; i++)
		bnetd_list_for_each_safe(pos, tmp, lists[i]) {
			struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

			if (r->s->uid == uid)
				sum += r->reserved;
		}
	return sum;
}

struct bnetd_request *bnetd_request_find(struct bnetd_queue *q, struct bnetd_session *s,
					 uint64_t id)
{
	struct bnetd_list *lists[2] = { &q->waiting, &q->running };
	struct bnetd_list *pos, *tmp;

	for (int i = 0; i < 2; i++)
		bnetd_list_for_each_safe(pos, tmp, lists[i]) {
			struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

			if (r->s == s && r->id == id)
				return r;
		}
	return NULL;
}

static int on_fd_event(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct bnetd_request *r = userdata;

	(void)src;
	(void)fd;
	if (revents & (EPOLLERR | EPOLLHUP))
		bnetd_request_cancel(r);
	return 0;
}

/*
 * Under a memory budget, a session without a KV cache gets it now, so that a
 * request that cannot fit is refused to the caller instead of failing later.
 * No batch can be using a session that has no sequence.
 */
static int reserve_kv(struct bnetd_queue *q, struct bnetd_session *s, sd_bus_error *err)
{
	int rc;

	if (!q->limits->memory_budget || s->seq || s->active)
		return 0;
	rc = bnetd_session_new_kv(s);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return sd_bus_error_setf(
			err, BNETD_ERR_NO_MEMORY,
			"a KV cache of %u positions does not fit the memory budget", s->n_ctx);
	return 0;
}

int bnetd_request_submit(struct bnetd_queue *q, struct bnetd_session *s, int32_t *tokens,
			 uint32_t n_tokens, bool replace_context, struct bnetd_params *p, int fd,
			 uint64_t *id, sd_bus_error *err)
{
	const struct bnetd_limits *l = q->limits;
	uint32_t base = replace_context ? 0 : s->n_ctx_tokens;
	uint64_t reserve;
	struct bnetd_request *r;
	int rc = 0;

	if (q->stopping) {
		rc = sd_bus_error_setf(err, SD_BUS_ERROR_NO_SERVER, "bitnetd is stopping");
		goto fail;
	}
	if (!n_tokens && !base) {
		rc = sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
				       "prompt: empty, and the session has no context");
		goto fail;
	}
	if (base + n_tokens >= s->n_ctx) {
		rc = sd_bus_error_setf(err, BNETD_ERR_CONTEXT_FULL,
				       "%u context + %u prompt tokens do not fit %u positions",
				       base, n_tokens, s->n_ctx);
		goto fail;
	}
	if (q->n_queue >= l->max_queue) {
		rc = sd_bus_error_setf(err, BNETD_ERR_QUEUE_FULL, "%u requests are waiting",
				       q->n_queue);
		goto fail;
	}
	reserve = n_tokens + (p->max_tokens ? p->max_tokens : s->n_ctx - base - n_tokens);
	if (l->max_tokens_per_user &&
	    bnetd_queue_reserved_of_uid(q, s->uid) + reserve > l->max_tokens_per_user) {
		rc = sd_bus_error_setf(err, BNETD_ERR_QUOTA,
				       "uid %u: %" PRIu64 " tokens outstanding + %" PRIu64
				       " exceed %" PRIu64,
				       s->uid, bnetd_queue_reserved_of_uid(q, s->uid), reserve,
				       l->max_tokens_per_user);
		goto fail;
	}
	rc = reserve_kv(q, s, err);
	if (rc < 0 || sd_bus_error_is_set(err))
		goto fail;
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = -ENOMEM;
		goto fail;
	}
	r->q = q;
	r->s = s;
	r->id = ++q->next_request_id;
	r->p = *p;
	r->prompt = tokens;
	r->n_prompt = n_tokens;
	r->replace_context = replace_context;
	r->reserved = (uint32_t)(reserve > UINT32_MAX ? UINT32_MAX : reserve);
	r->fd = -1;
	r->t_queued = bnetd_now();
	if (fd >= 0) {
		rc = sd_event_add_io(q->event, &r->fd_source, fd, 0, on_fd_event, r);
		if (rc < 0) {
			free(r);
			goto fail;
		}
		r->fd = fd;
	}
	bnetd_list_add_tail(&r->link, &q->waiting);
	q->n_queue++;
	s->n_queued++;
	q->requests++;
	*id = r->id;
	bnetd_session_touch(s);
	return 0;
fail:
	free(tokens);
	bnetd_params_free(p);
	return rc;
}

static uint32_t common_prefix(const int32_t *a, uint32_t na, const int32_t *b, uint32_t nb)
{
	uint32_t i = 0;

	while (i < na && i < nb && a[i] == b[i])
		i++;
	return i;
}

int bnetd_request_start(struct bnetd_request *r)
{
	struct bnetd_session *s = r->s;
	struct bnetd_model *mo = s->model;
	uint32_t base = r->replace_context ? 0 : s->n_ctx_tokens, common;

	if (base + r->n_prompt >= s->n_ctx)
		return -ENOSPC;
	if (!base && !r->n_prompt)
		return -EINVAL;
	r->target = malloc(((size_t)base + r->n_prompt) * sizeof(int32_t));
	if (!r->target)
		return -ENOMEM;
	memcpy(r->target, s->ctx, (size_t)base * sizeof(int32_t));
	memcpy(r->target + base, r->prompt, (size_t)r->n_prompt * sizeof(int32_t));
	r->n_target = base + r->n_prompt;
	if (!s->seq) {
		int rc = bnetd_session_new_kv(s);

		if (rc < 0)
			return rc;
	}
	s->evicted = false;
	common = common_prefix(bn_seq_tokens(s->seq), bn_seq_len(s->seq), r->target, r->n_target);
	/* the last prompt token is always fed again: its logits start decoding */
	if (common >= r->n_target)
		common = r->n_target - 1;
	bn_seq_truncate(s->seq, common);
	r->cached = common;
	r->prefilled = common;
	r->max_gen = s->n_ctx - r->n_target;
	if (r->p.max_tokens && r->p.max_tokens < r->max_gen)
		r->max_gen = r->p.max_tokens;
	/* the logical context becomes the target; generated tokens follow */
	if (s->cap_ctx < s->n_ctx) {
		int32_t *t = realloc(s->ctx, (size_t)s->n_ctx * sizeof(int32_t));

		if (!t)
			return -ENOMEM;
		s->ctx = t;
		s->cap_ctx = s->n_ctx;
	}
	memcpy(s->ctx, r->target, (size_t)r->n_target * sizeof(int32_t));
	s->n_ctx_tokens = r->n_target;
	r->gen = bn_gen_new(mo->m, &(struct bn_gen_params){
					   .sp = &r->p.sp,
					   .stops = (const char *const *)r->p.stop,
					   .n_stops = r->p.n_stop,
					   .max_tokens = r->max_gen,
					   .ignore_eos = r->p.ignore_eos,
				   });
	if (!r->gen)
		return -ENOMEM;
	bn_gen_prompt(r->gen, r->target, r->n_target);
	r->logits = bn_gen_logits(r->gen);
	r->phase = BNETD_REQ_PREFILL;
	r->t_prefill_start = bnetd_now();
	return 0;
}

static void fd_write(struct bnetd_request *r, const char *text, size_t len)
{
	if (r->fd < 0)
		return;
	if (len) {
		char *t = realloc(r->fd_buf, r->fd_len + len);

		if (!t) {
			r->cancelled = true;
			return;
		}
		r->fd_buf = t;
		memcpy(r->fd_buf + r->fd_len, text, len);
		r->fd_len += len;
	}
	while (r->fd_len) {
		ssize_t w = write(r->fd, r->fd_buf, r->fd_len);

		if (w < 0) {
			/* a full pipe waits for the next flush; a closed one cancels */
			if (errno != EAGAIN && errno != EINTR)
				r->cancelled = true;
			if (errno != EINTR)
				return;
			continue;
		}
		memmove(r->fd_buf, r->fd_buf + w, r->fd_len - (size_t)w);
		r->fd_len -= (size_t)w;
	}
}

void bnetd_request_flush(struct bnetd_request *r, bool force)
{
	struct bnetd_queue *q = r->q;
	const char *text = "";
	size_t len = 0;
	sd_bus_message *sig = NULL;
	char *copy;
	int rc;

	if (!force && r->n_pend < q->limits->tokens_per_signal)
		return;
	/* forced only at the end: then the held-back tail goes out too */
	if (r->gen)
		len = bn_gen_take_text(r->gen, force, &text);
	if (!r->n_pend && !len)
		return;
	r->t_last_flush = bnetd_now();
	if (r->fd >= 0) {
		fd_write(r, text, len);
		goto done;
	}
	copy = strndup(text, len);
	if (!copy)
		goto done;
	rc = sd_bus_message_new_signal(q->bus, &sig, r->s->path, BNETD_IFACE_SESSION, "Tokens");
	if (rc >= 0)
		rc = sd_bus_message_set_destination(sig, r->s->owner);
	if (rc >= 0)
		rc = sd_bus_message_append(sig, "t", r->id);
	if (rc >= 0)
		rc = sd_bus_message_append_array(sig, 'i', r->pend_ids,
						 (size_t)r->n_pend * sizeof(int32_t));
	if (rc >= 0)
		rc = sd_bus_message_append(sig, "s", copy);
	if (rc >= 0)
		rc = sd_bus_send(q->bus, sig, NULL);
	if (rc < 0)
		bnetd_log(LOG_WARNING, r->s->model->name, r->s->path, "Tokens signal: %s",
			  strerror(-rc));
	sd_bus_message_unref(sig);
	free(copy);
done:
	r->n_pend = 0;
}

static double per_second(uint64_t n, uint64_t usec)
{
	return usec ? (double)n * 1e6 / (double)usec : 0.0;
}

static void send_finished(struct bnetd_request *r, const char *reason, const char *error)
{
	struct bnetd_queue *q = r->q;
	uint64_t now = bnetd_now();
	uint32_t prefilled = r->n_target > r->cached ? r->n_target - r->cached : 0;
	uint32_t n_generated = r->gen ? bn_gen_n_tokens(r->gen) : 0;
	uint64_t t_prefill_end = r->t_first_token ? r->t_first_token : now;
	double prefill_tps = 0, decode_tps = 0;
	sd_bus_message *sig = NULL;
	int rc;

	if (r->t_prefill_start)
		prefill_tps = per_second(prefilled, t_prefill_end - r->t_prefill_start);
	if (n_generated > 1)
		decode_tps = per_second(n_generated - 1, now - r->t_first_token);
	rc = sd_bus_message_new_signal(q->bus, &sig, r->s->path, BNETD_IFACE_SESSION, "Finished");
	if (rc >= 0)
		rc = sd_bus_message_set_destination(sig, r->s->owner);
	if (rc >= 0)
		rc = sd_bus_message_append(sig, "ts", r->id, reason);
	if (rc >= 0)
		rc = sd_bus_message_append(sig, "a{sv}", error ? 6 : 5, "prompt_tokens", "u",
					   r->n_prompt, "tokens", "u", n_generated, "prefill_tps",
					   "d", prefill_tps, "decode_tps", "d", decode_tps,
					   "cached_tokens", "u", r->cached, "error", "s",
					   error ? error : "");
	if (rc >= 0)
		rc = sd_bus_send(q->bus, sig, NULL);
	if (rc < 0)
		bnetd_log(LOG_WARNING, r->s->model->name, r->s->path, "Finished signal: %s",
			  strerror(-rc));
	sd_bus_message_unref(sig);
}

static void request_free(struct bnetd_request *r)
{
	sd_event_source_disable_unref(r->fd_source);
	if (r->fd >= 0)
		close(r->fd);
	bn_gen_free(r->gen);
	bnetd_params_free(&r->p);
	free(r->fd_buf);
	free(r->pend_ids);
	free(r->prompt);
	free(r->target);
	free(r);
}

void bnetd_request_finish(struct bnetd_request *r, const char *reason, const char *error)
{
	struct bnetd_session *s = r->s;
	struct bnetd_queue *q = r->q;

	if (r->phase != BNETD_REQ_QUEUED)
		bnetd_request_flush(r, true);
	if (r->fd >= 0)
		fd_write(r, NULL, 0);
	send_finished(r, reason, error);
	bnetd_list_del(&r->link);
	if (r->phase == BNETD_REQ_QUEUED) {
		q->n_queue--;
		s->n_queued--;
	} else {
		q->n_running--;
		s->active = NULL;
	}
	if (error)
		bnetd_log(LOG_WARNING, s->model->name, s->path, "request %" PRIu64 ": %s", r->id,
			  error);
	request_free(r);
	bnetd_session_touch(s);
}

void bnetd_request_cancel(struct bnetd_request *r)
{
	r->cancelled = true;
	/* one in the worker's hands is finished when its batch comes back */
	if (!r->in_batch)
		bnetd_request_finish(r, "cancelled", NULL);
}

static int push_pending(struct bnetd_request *r, int32_t tok)
{
	if (r->n_pend == r->cap_pend) {
		uint32_t cap = r->cap_pend ? 2 * r->cap_pend : 16;
		int32_t *t = realloc(r->pend_ids, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->pend_ids = t;
		r->cap_pend = cap;
	}
	r->pend_ids[r->n_pend++] = tok;
	return 0;
}

int bnetd_request_take_token(struct bnetd_request *r, const float *logits)
{
	struct bnetd_session *s = r->s;
	int32_t tok;
	int end;

	if (logits != r->logits)
		memcpy(r->logits, logits, (size_t)s->model->info->n_vocab * sizeof(float));
	end = bn_gen_step(r->gen, &tok);
	if (!r->t_first_token)
		r->t_first_token = bnetd_now();
	if (end == -EINVAL) {
		bnetd_request_finish(r, "error", "sampling failed");
		return 0;
	}
	if (end == BN_GEN_EOS) {
		bnetd_request_finish(r, "eos", NULL);
		return 0;
	}
	/* a token was generated (with -ENOMEM too: only its text is lost) */
	s->tokens_generated++;
	r->q->tokens_out++;
	s->ctx[s->n_ctx_tokens++] = tok;
	if (push_pending(r, tok) < 0 || end < 0) {
		bnetd_request_finish(r, "error", "out of memory");
		return 0;
	}
	if (end == BN_GEN_STOP || end == BN_GEN_LENGTH) {
		/* max_gen is what fits the context too: "length" covers a full one */
		bnetd_request_finish(r, end == BN_GEN_STOP ? "stop" : "length", NULL);
		return 0;
	}
	r->next_token = tok;
	r->phase = BNETD_REQ_DECODE;
	return 1;
}

bool bnetd_queue_end_session(struct bnetd_queue *q, struct bnetd_session *s)
{
	struct bnetd_list *pos, *tmp;

	bnetd_list_for_each_safe(pos, tmp, &q->waiting) {
		struct bnetd_request *r = container_of(pos, struct bnetd_request, link);

		if (r->s == s)
			bnetd_request_finish(r, "cancelled", NULL);
	}
	if (s->active) {
		if (s->active->in_batch) {
			/* the worker is using its sequence: freed after the batch */
			s->active->cancelled = true;
			return false;
		}
		bnetd_request_finish(s->active, "cancelled", NULL);
	}
	return true;
}
