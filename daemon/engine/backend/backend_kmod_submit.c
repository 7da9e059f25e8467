// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod backend's submission: every calling thread gets its own
 * context, so no lock is held around a matmul. A context is either a
 * per-thread io_uring (IORING_OP_URING_CMD on the backend's fd, whose
 * object handles it shares) or, where io_uring is unusable, a per-thread
 * fd with its own device ring and the sealed objects imported read-only
 * from their export fds. A matmul's whole dispatch group goes out as
 * several SQEs at once; completions are matched by user_data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/backend/backend_kmod_priv.h"

#define KMOD_CTX_ENTRIES 32

struct kmod_ctx {
	struct kmod_backend *k;
	struct bnd_uring *u; /* KMOD_PATH_URING */
	struct bnd_dev *dev; /* KMOD_PATH_RING: own fd and ring */
	uint32_t *handles;   /* KMOD_PATH_RING: imported; else the backend's */
	uint32_t n_handles;
	struct bitnet_job_weight *ws; /* the group's weights, per SQE */
	uint32_t cap_ws;
	uint64_t seq;
	struct kmod_ctx *next_all, *next_free;
};

const char *kmod_path_name(enum kmod_path path)
{
	return path == KMOD_PATH_URING ? "uring_cmd" : "ring";
}

static void ctx_free(struct kmod_ctx *c)
{
	bnd_uring_close(c->u);
	if (c->dev)
		bnd_close(c->dev); /* drops the imported handles */
	free(c->handles);
	free(c->ws);
	free(c);
}

/* The per-thread fd of path A sees the backend's objects by import. */
static int ctx_import(struct kmod_ctx *c)
{
	struct kmod_backend *k = c->k;
	uint32_t i;
	int rc;

	c->handles = calloc(k->n_sealed ? k->n_sealed : 1, sizeof(*c->handles));
	if (!c->handles)
		return -ENOMEM;
	for (i = 0; i < k->n_sealed; i++) {
		if (k->export_fds[i] < 0)
			return -EOPNOTSUPP;
		rc = bnd_obj_import(c->dev, k->export_fds[i], &c->handles[i]);
		if (rc)
			return rc;
	}
	c->n_handles = k->n_sealed;
	return 0;
}

static int ctx_open(struct kmod_backend *k, enum kmod_path path, struct kmod_ctx **out)
{
	struct kmod_ctx *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->k = k;
	if (path == KMOD_PATH_URING) {
		rc = bnd_uring_open(k->dev, KMOD_CTX_ENTRIES, &c->u);
	} else {
		rc = bnd_open(k->dev_path, &c->dev);
		if (!rc)
			rc = bnd_ring_setup(c->dev, KMOD_CTX_ENTRIES, 0);
		if (!rc)
			rc = ctx_import(c);
	}
	if (rc) {
		ctx_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* A thread's exit hands its context to the next new thread. */
static void ctx_release(void *p)
{
	struct kmod_ctx *c = p;
	struct kmod_backend *k = c->k;

	pthread_mutex_lock(&k->ctx_lock);
	c->next_free = k->free_ctx;
	k->free_ctx = c;
	pthread_mutex_unlock(&k->ctx_lock);
}

static int ctx_get(struct kmod_backend *k, struct kmod_ctx **out)
{
	struct kmod_ctx *c = pthread_getspecific(k->ctx_key);
	int rc;

	if (c) {
		*out = c;
		return 0;
	}
	pthread_mutex_lock(&k->ctx_lock);
	c = k->free_ctx;
	if (c)
		k->free_ctx = c->next_free;
	pthread_mutex_unlock(&k->ctx_lock);
	if (!c) {
		rc = ctx_open(k, k->path, &c);
		if (rc)
			return rc;
		pthread_mutex_lock(&k->ctx_lock);
		c->next_all = k->all_ctx;
		k->all_ctx = c;
		pthread_mutex_unlock(&k->ctx_lock);
	}
	/* Path A contexts made before the seal import what came after. */
	if (c->dev && c->n_handles != k->n_sealed) {
		free(c->handles);
		c->handles = NULL;
		rc = ctx_import(c);
		if (rc)
			return rc;
	}
	pthread_setspecific(k->ctx_key, c);
	*out = c;
	return 0;
}

static int ctx_push(struct kmod_ctx *c, const struct bitnet_job *job, uint64_t ud)
{
	return c->u ? bnd_uring_push(c->u, job, ud) : bnd_ring_push(c->dev, job, ud);
}

static int ctx_submit_wait(struct kmod_ctx *c, uint32_t min_complete)
{
	return c->u ? bnd_uring_submit_wait(c->u, min_complete) :
		      bnd_ring_enter(c->dev, min_complete, 1);
}

static int ctx_pop(struct kmod_ctx *c, uint64_t *ud, int32_t *res)
{
	struct bitnet_cqe cqe;
	int rc;

	if (c->u)
		return bnd_uring_peek(c->u, ud, res);
	rc = bnd_ring_pop(c->dev, &cqe);
	if (rc == 1) {
		*ud = cqe.user_data;
		*res = cqe.res;
	}
	return rc;
}

static int ctx_reserve(struct kmod_ctx *c, uint32_t n_w)
{
	struct bitnet_job_weight *p;

	if (n_w <= c->cap_ws)
		return 0;
	p = realloc(c->ws, n_w * sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->ws = p;
	c->cap_ws = n_w;
	return 0;
}

/*
 * Push as many of the group's SQEs as fit, submit, reap; until all @n_jobs
 * completed. user_data is the context's sequence: stale CQEs cannot match.
 */
static int ctx_run_jobs(struct kmod_ctx *c, struct bitnet_job *jobs, uint32_t n_jobs)
{
	uint32_t pushed = 0, done = 0;
	uint64_t base = c->seq, ud;
	int32_t res;
	int rc = 0, r;

	c->seq += n_jobs;
	while (done < n_jobs) {
		while (pushed < n_jobs && pushed - done < KMOD_CTX_ENTRIES &&
		       !ctx_push(c, &jobs[pushed], base + pushed))
			pushed++;
		if (pushed == done)
			return -EIO; /* nothing in flight to wait for */
		r = ctx_submit_wait(c, 1);
		if (r < 0)
			return r; /* a broken device context: nothing to wait for */
		while (ctx_pop(c, &ud, &res) == 1) {
			if (ud < base || ud >= base + n_jobs)
				continue;
			done++;
			if (res && !rc)
				rc = res;
		}
	}
	return rc;
}

int kmod_submit_group(struct kmod_backend *k, const bn_weight_id *ids, uint32_t n_w,
		      const int8_t *q, const float *sigma, const int32_t *sum, uint32_t n_tokens,
		      float *const *out)
{
	uint32_t max = bnd_info(k->dev)->max_multi, n_jobs, i, j, n;
	struct bitnet_job jobs[KMOD_CTX_ENTRIES];
	struct kmod_ctx *c;
	int rc;

	if (!max)
		max = 1;
	n_jobs = (n_w + max - 1) / max;
	if (n_jobs > KMOD_CTX_ENTRIES)
		return -E2BIG;
	rc = ctx_get(k, &c);
	if (!rc)
		rc = ctx_reserve(c, n_w);
	if (rc)
		return rc;
	for (i = 0; i < n_w; i++) {
		if (ids[i] >= k->n_sealed)
			return -EINVAL;
		memset(&c->ws[i], 0, sizeof(c->ws[i]));
		c->ws[i].handle = c->dev ? c->handles[ids[i]] : k->handles[ids[i]];
		c->ws[i].out = (uintptr_t)out[i];
	}
	for (i = 0, j = 0; i < n_w; i += n, j++) {
		n = n_w - i < max ? n_w - i : max;
		bnd_job_multi(&jobs[j], &c->ws[i], n, n_tokens, q, sigma, sum, BITNET_OUT_F32);
	}
	return ctx_run_jobs(c, jobs, n_jobs);
}

/* Does a NOP complete through a fresh io_uring? (io_uring_disabled, no SQE128, ...) */
static int probe_uring(struct kmod_backend *k)
{
	struct bitnet_job nop = { .op = BITNET_OP_NOP };
	struct bnd_uring *u;
	int rc;

	rc = bnd_uring_open(k->dev, 4, &u);
	if (rc)
		return rc;
	rc = bnd_uring_run(u, &nop);
	bnd_uring_close(u);
	return rc;
}

int kmod_submit_init(struct kmod_backend *k, char *err, size_t errlen)
{
	const char *want = getenv("BITNET_KMOD_SUBMIT");
	int rc;

	if (want && strcmp(want, "ring") && strcmp(want, "uring") && strcmp(want, "auto")) {
		snprintf(err, errlen, "BITNET_KMOD_SUBMIT=%s: not auto, uring or ring", want);
		return -EINVAL;
	}
	k->path = KMOD_PATH_RING;
	if (!want || strcmp(want, "ring")) {
		rc = probe_uring(k);
		if (!rc)
			k->path = KMOD_PATH_URING;
		else if (want && !strcmp(want, "uring")) {
			snprintf(err, errlen, "io_uring command path: %s", strerror(-rc));
			return rc;
		}
	}
	if (k->path == KMOD_PATH_RING && !(bnd_info(k->dev)->features & BITNET_FEAT_EXPORT)) {
		snprintf(err, errlen, "module has neither usable io_uring nor export");
		return -EOPNOTSUPP;
	}
	pthread_mutex_init(&k->ctx_lock, NULL);
	rc = pthread_key_create(&k->ctx_key, ctx_release);
	return -rc;
}

void kmod_submit_fini(struct kmod_backend *k)
{
	struct kmod_ctx *c, *next;

	/* No more destructor calls: contexts still held by threads go here. */
	pthread_key_delete(k->ctx_key);
	for (c = k->all_ctx; c; c = next) {
		next = c->next_all;
		ctx_free(c);
	}
	pthread_mutex_destroy(&k->ctx_lock);
}
