// SPDX-License-Identifier: GPL-2.0
/*
 * The "kmod" backend: weights live in bitnet.ko as sealed objects (each
 * also exported as an fd, for per-thread contexts and other processes);
 * a matmul's group is a set of BITNET_OP_MATMUL_MULTI jobs (f32 out) in
 * flight at once, see backend_kmod_submit.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>
#include <sys/ioctl.h>

#include "daemon/engine/backend/backend_kmod_priv.h"
#include "kmod/core/bnc_uapi.h"

#define KMOD_NEED_FEATURES (BITNET_FEAT_RING | BITNET_FEAT_MULTI | BITNET_FEAT_OUT_F32)

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

	if (k->attached)
		return kmod_attach_weight(k, fmt, rows, cols, bytes, id);
	if (k->n_sealed)
		return -EBUSY;
	if (k->n_w == k->cap_w) {
		uint32_t cap = k->cap_w ? k->cap_w * 2 : 64;
		uint32_t *p = realloc(k->handles, cap * sizeof(*p));
		int *fds;

		if (!p)
			return -ENOMEM;
		k->handles = p;
		fds = realloc(k->export_fds, cap * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		k->export_fds = fds;
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
	k->export_fds[k->n_w] = -1;
	*id = k->n_w++;
	return 0;
}

static int kmod_finish_load(struct bn_backend *b)
{
	struct kmod_backend *k = kmod_of(b);
	struct bitnet_obj_info info;
	int rc;

	if (k->attached)
		return kmod_attach_finish(k);
	/* Sealing repacks in the kernel; what is pinned after is the layout. */
	for (; k->n_sealed < k->n_w; k->n_sealed++) {
		rc = bnd_obj_seal(k->dev, k->handles[k->n_sealed]);
		if (!rc)
			rc = bnd_obj_info(k->dev, k->handles[k->n_sealed], &info);
		if (rc)
			return rc;
		k->bytes += info.pinned_bytes;
		if (bnd_info(k->dev)->features & BITNET_FEAT_EXPORT) {
			rc = bnd_obj_export(k->dev, k->handles[k->n_sealed], BITNET_EXPORT_CLOEXEC,
					    &k->export_fds[k->n_sealed]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int kmod_matmul(struct bn_backend *b, const bn_weight_id *ids, uint32_t n_w, const int8_t *q,
		       const float *sigma, const int32_t *sum, uint32_t n_tokens, float *const *out)
{
	return kmod_submit_group(kmod_of(b), ids, n_w, q, sigma, sum, n_tokens, out);
}

static uint64_t kmod_weight_bytes(const struct bn_backend *b)
{
	return ((const struct kmod_backend *)b)->bytes;
}

/* The device's counters as they are now, not as they were at open. */
static int kmod_stats(const struct bn_backend *b, struct bn_backend_stats *st)
{
	const struct kmod_backend *k = (const struct kmod_backend *)b;
	struct bitnet_info info = { 0 };
	int rc;

	*st = (struct bn_backend_stats){
		.name = b->ops->name,
		.kind = BN_BACKEND_KMOD,
		.weight_bytes = k->bytes,
	};
	do {
		rc = ioctl(bnd_fd(k->dev), BITNET_IOC_GET_INFO, &info);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	st->has_device = true;
	st->abi_version = info.abi_version;
	st->features = info.features;
	st->pinned_bytes = info.pinned_bytes;
	st->max_global_bytes = info.max_global_bytes;
	st->nr_workers = info.nr_workers;
	st->isa = info.isa;
	return 0;
}

static void kmod_destroy(struct bn_backend *b)
{
	struct kmod_backend *k = kmod_of(b);
	uint32_t i, n_fds = k->attached ? k->n_fds : k->n_sealed;

	kmod_submit_fini(k);
	for (i = 0; i < n_fds; i++)
		if (k->export_fds[i] >= 0)
			close(k->export_fds[i]);
	/* Closing the device drops every object of this backend. */
	bnd_close(k->dev);
	free(k->handles);
	free(k->export_fds);
	free(k->dev_path);
	free(k);
}

static const struct bn_backend_ops kmod_ops = {
	.name = "kmod",
	.add_weight = kmod_add_weight,
	.finish_load = kmod_finish_load,
	.matmul = kmod_matmul,
	.weight_bytes = kmod_weight_bytes,
	.stats = kmod_stats,
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
	k->dev_path = strdup(path);
	rc = k->dev_path ? kmod_submit_init(k, err, errlen) : -ENOMEM;
	if (rc) {
		bnd_close(k->dev);
		free(k->dev_path);
		free(k);
		return -ENODEV;
	}
	k->base.ops = &kmod_ops;
	k->base.threads = (int)bnd_info(k->dev)->nr_workers;
	*out = &k->base;
	return 0;
}

const char *bn_backend_kmod_submit_path(const struct bn_backend *b)
{
	if (b->ops != &kmod_ops)
		return NULL;
	return kmod_path_name(((const struct kmod_backend *)b)->path);
}

bool bn_backend_kmod_available(void)
{
	return access(BND_DEFAULT_PATH, R_OK | W_OK) == 0;
}
