// SPDX-License-Identifier: GPL-2.0
/*
 * The "kmod" backend: weights live in bitnet.ko as sealed objects, each
 * matmul is one BITNET_OP_MATMUL_MULTI job (f32 out) through the device's
 * ring, via libbitnet-dev.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/backend.h"
#include "kmod/core/bnc_uapi.h"
#include "libdev/bitnet-dev.h"

#define KMOD_NEED_FEATURES (BITNET_FEAT_RING | BITNET_FEAT_MULTI | BITNET_FEAT_OUT_F32)

struct kmod_backend {
	struct bn_backend base;
	struct bnd_dev *dev;
	uint32_t *handles;
	uint32_t n_w, cap_w;
	uint32_t n_sealed;
	uint64_t bytes;
};

static struct kmod_backend *kmod_of(struct bn_backend *b)
{
	return (struct kmod_backend *)b;
}

static int kmod_add_weight(struct bn_backend *b, unsigned int fmt, uint32_t rows, uint32_t cols,
			   const void *data, size_t bytes, bn_weight_id *id)
{
	struct kmod_backend *k = kmod_of(b);
	uint64_t off, n, chunk = 16ULL << 20;
	uint32_t h;
	int rc;

	if (k->n_sealed)
		return -EBUSY;
	if (k->n_w == k->cap_w) {
		uint32_t cap = k->cap_w ? k->cap_w * 2 : 64;
		uint32_t *p = realloc(k->handles, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		k->handles = p;
		k->cap_w = cap;
	}
	rc = bnd_obj_create(k->dev, fmt, rows, cols, bytes, &h);
	if (rc)
		return rc;
	for (off = 0; !rc && off < bytes; off += n) {
		n = bytes - off < chunk ? bytes - off : chunk;
		rc = bnd_obj_fill(k->dev, h, off, (const uint8_t *)data + off, n);
	}
	if (rc) {
		bnd_obj_destroy(k->dev, h);
		return rc;
	}
	k->handles[k->n_w] = h;
	*id = k->n_w++;
	return 0;
}

static int kmod_finish_load(struct bn_backend *b)
{
	struct kmod_backend *k = kmod_of(b);
	struct bitnet_obj_info info;
	int rc;

	/* Sealing repacks in the kernel; what is pinned after is the layout. */
	for (; k->n_sealed < k->n_w; k->n_sealed++) {
		rc = bnd_obj_seal(k->dev, k->handles[k->n_sealed]);
		if (!rc)
			rc = bnd_obj_info(k->dev, k->handles[k->n_sealed], &info);
		if (rc)
			return rc;
		k->bytes += info.pinned_bytes;
	}
	return 0;
}

static int kmod_matmul(struct bn_backend *b, const bn_weight_id *ids, uint32_t n_w, const int8_t *q,
		       const float *sigma, const int32_t *sum, uint32_t n_tokens, float *const *out)
{
	struct kmod_backend *k = kmod_of(b);
	uint32_t max = bnd_info(k->dev)->max_multi, i, j, n;
	struct bitnet_job_weight ws[16];
	struct bitnet_job job;
	int rc;

	if (max > sizeof(ws) / sizeof(ws[0]))
		max = sizeof(ws) / sizeof(ws[0]);
	for (i = 0; i < n_w; i += n) {
		n = n_w - i < max ? n_w - i : max;
		memset(ws, 0, sizeof(ws));
		for (j = 0; j < n; j++) {
			if (ids[i + j] >= k->n_sealed)
				return -EINVAL;
			ws[j].handle = k->handles[ids[i + j]];
			ws[j].out = (uintptr_t)out[i + j];
		}
		bnd_job_multi(&job, ws, n, n_tokens, q, sigma, sum, BITNET_OUT_F32);
		rc = bnd_run(k->dev, &job);
		if (rc)
			return rc;
	}
	return 0;
}

static uint64_t kmod_weight_bytes(const struct bn_backend *b)
{
	return ((const struct kmod_backend *)b)->bytes;
}

static void kmod_destroy(struct bn_backend *b)
{
	struct kmod_backend *k = kmod_of(b);

	/* Closing the device drops every object of this backend. */
	bnd_close(k->dev);
	free(k->handles);
	free(k);
}

static const struct bn_backend_ops kmod_ops = {
	.name = "kmod",
	.add_weight = kmod_add_weight,
	.finish_load = kmod_finish_load,
	.matmul = kmod_matmul,
	.weight_bytes = kmod_weight_bytes,
	.destroy = kmod_destroy,
};

int bn_backend_kmod_new(const char *dev_path, struct bn_backend **out, char *err, size_t errlen)
{
	const char *path = dev_path ? dev_path : BND_DEFAULT_PATH;
	struct kmod_backend *k;
	int rc;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	rc = bnd_open(path, &k->dev);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		free(k);
		return -ENODEV;
	}
	if ((bnd_info(k->dev)->features & KMOD_NEED_FEATURES) != KMOD_NEED_FEATURES) {
		snprintf(err, errlen, "%s: module lacks ring, MULTI or f32 support", path);
		bnd_close(k->dev);
		free(k);
		return -ENODEV;
	}
	k->base.ops = &kmod_ops;
	k->base.threads = (int)bnd_info(k->dev)->nr_workers;
	*out = &k->base;
	return 0;
}
