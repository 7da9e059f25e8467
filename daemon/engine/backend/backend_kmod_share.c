// SPDX-License-Identifier: GPL-2.0
/*
 * The kmod backend's sharing: a loaded backend hands its sealed objects
 * (their export fds) to another process over a unix socket; that process
 * attaches a backend to them, read-only, instead of loading a copy. The
 * attached backend's add_weight() only checks that the model's next tensor
 * is the next shared object (format, shape, size); its data is not read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/engine/backend/backend_kmod_priv.h"

int bn_backend_kmod_export(struct bn_backend *b, int sock)
{
	struct kmod_backend *k = (struct kmod_backend *)b;
	uint32_t i;
	int rc;

	if (!bn_backend_kmod_submit_path(b) || k->attached || k->n_sealed != k->n_w)
		return -EINVAL;
	for (i = 0; i < k->n_sealed; i++)
		if (k->export_fds[i] < 0)
			return -EOPNOTSUPP;
	rc = bnd_share_peer_allowed(sock);
	return rc ? rc : bnd_share_send(sock, k->export_fds, k->n_sealed);
}

int bn_backend_kmod_attach(const char *dev_path, int sock, struct bn_backend **out, char *err,
			   size_t errlen)
{
	struct bn_backend *b;
	struct kmod_backend *k;
	uint32_t n = 0, i, max = 1U << 16;
	int rc;

	rc = bn_backend_kmod_new(dev_path, &b, err, errlen);
	if (rc)
		return rc;
	k = (struct kmod_backend *)b;
	k->handles = calloc(max, sizeof(*k->handles));
	k->export_fds = calloc(max, sizeof(*k->export_fds));
	rc = k->handles && k->export_fds ? bnd_share_recv(sock, max, k->export_fds, &n) : -ENOMEM;
	k->cap_w = max;
	k->attached = 1;
	for (i = 0; !rc && i < n; i++) {
		rc = bnd_obj_import(k->dev, k->export_fds[i], &k->handles[i]);
		k->n_imported = i + !rc;
	}
	k->n_fds = n; /* destroy() closes them */
	if (rc) {
		snprintf(err, errlen, "attach: %s", strerror(-rc));
		b->ops->destroy(b);
		return rc;
	}
	*out = b;
	return 0;
}

int kmod_attach_weight(struct kmod_backend *k, unsigned int fmt, uint32_t rows, uint32_t cols,
		       size_t bytes, bn_weight_id *id)
{
	struct bitnet_obj_info info;
	int rc;

	if (k->n_w >= k->n_imported)
		return -ENOENT;
	rc = bnd_obj_info(k->dev, k->handles[k->n_w], &info);
	if (rc)
		return rc;
	if (info.format != fmt || info.rows != rows || info.cols != cols || info.bytes != bytes)
		return -ESTALE; /* the exporter loaded another model */
	k->bytes += info.pinned_bytes;
	*id = k->n_w++;
	return 0;
}

int kmod_attach_finish(struct kmod_backend *k)
{
	if (k->n_w != k->n_imported)
		return -ESTALE;
	k->n_sealed = k->n_w;
	return 0;
}
