/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kmod backend's internals shared by backend_kmod.c (objects, the
 * backend's ops) and backend_kmod_submit.c (per-thread submission
 * contexts, on io_uring or the device's own ring).
 */
#ifndef BITNET_ENGINE_BACKEND_KMOD_PRIV_H
#define BITNET_ENGINE_BACKEND_KMOD_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "daemon/engine/backend/backend.h"
#include "libdev/bitnet-dev.h"

enum kmod_path {
	KMOD_PATH_URING, /* IORING_OP_URING_CMD on a per-thread io_uring */
	KMOD_PATH_RING,	 /* the device's own ring on a per-thread fd */
};

struct kmod_ctx;

struct kmod_backend {
	struct bn_backend base;
	struct bnd_dev *dev;
	char *dev_path; /* path A contexts open their own fd */
	uint32_t *handles;
	int *export_fds; /* one per sealed object, -1 if not exported */
	uint32_t n_w, cap_w;
	uint32_t n_sealed;
	uint32_t n_imported; /* attached: objects received, read-only */
	uint32_t n_fds;	     /* attached: fds received, closed at destroy */
	int attached;
	uint64_t bytes;
	enum kmod_path path;
	pthread_key_t ctx_key;
	pthread_mutex_t ctx_lock; /* the lists below, never a matmul */
	struct kmod_ctx *all_ctx;
	struct kmod_ctx *free_ctx;
};

/* Pick the submission path at run time (BITNET_KMOD_SUBMIT=auto|uring|ring). */
int kmod_submit_init(struct kmod_backend *k, char *err, size_t errlen);
void kmod_submit_fini(struct kmod_backend *k);
const char *kmod_path_name(enum kmod_path path);
/* Run the whole group: one MULTI SQE per max_multi weights, all in flight. */
int kmod_submit_group(struct kmod_backend *k, const bn_weight_id *ids, uint32_t n_w,
		      const int8_t *q, const float *sigma, const int32_t *sum, uint32_t n_tokens,
		      float *const *out);

/* Attached backends (backend_kmod_share.c): the model's next tensor is the next object. */
int kmod_attach_weight(struct kmod_backend *k, unsigned int fmt, uint32_t rows, uint32_t cols,
		       size_t bytes, bn_weight_id *id);
int kmod_attach_finish(struct kmod_backend *k);

#endif /* BITNET_ENGINE_BACKEND_KMOD_PRIV_H */
