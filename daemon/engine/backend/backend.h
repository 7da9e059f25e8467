/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's matmul backend: where the ternary matmuls run. Two
 * implementations give bit-identical results: "cpu" (the compute core in
 * process, on a pthread pool) and "kmod" (/dev/bitnet through libbitnet-dev).
 */
#ifndef BITNET_ENGINE_BACKEND_H
#define BITNET_ENGINE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/engine/engine.h"

struct bn_backend;

/* A ternary weight the backend holds, by index. */
typedef uint32_t bn_weight_id;

struct bn_backend_ops {
	const char *name; /* "cpu" or "kmod" */
	/*
	 * Take one packed ternary tensor (BNC_FMT_* format, rows x cols,
	 * @bytes == bnc_packed_size()) and return its id. The data may be
	 * freed or unmapped after the call.
	 */
	int (*add_weight)(struct bn_backend *b, unsigned int fmt, uint32_t rows, uint32_t cols,
			  const void *data, size_t bytes, bn_weight_id *id);
	/*
	 * Done adding weights: seal/share them. After this only matmul().
	 */
	int (*finish_load)(struct bn_backend *b);
	/*
	 * out_i = W_i . q for @n_w weights that share the same K and the same
	 * N tokens of activations: q[n * K + k], sigma[n], sum[n];
	 * out[i][n * rows_i + m] = acc * w_scale_i / sigma[n].
	 */
	int (*matmul)(struct bn_backend *b, const bn_weight_id *w, uint32_t n_w, const int8_t *q,
		      const float *sigma, const int32_t *sum, uint32_t n_tokens, float *const *out);
	/* Bytes of weights this backend holds. */
	uint64_t (*weight_bytes)(const struct bn_backend *b);
	/* What the backend reports now (bn_model_backend_stats()). */
	int (*stats)(const struct bn_backend *b, struct bn_backend_stats *st);
	void (*destroy)(struct bn_backend *b);
};

struct bn_backend {
	const struct bn_backend_ops *ops;
	int threads;
};

/*
 * The index of @name in @names[0..n) (NULL entries skipped), -EINVAL if
 * absent: the engine's option parsers (bn_*_kind_parse) on their enums'
 * name tables.
 */
int bn_name_index(const char *name, const char *const *names, size_t n);

/* cpu: threads 0 = all online CPUs. */
int bn_backend_cpu_new(int threads, struct bn_backend **out);
/*
 * kmod: -ENODEV when /dev/bitnet is absent or unusable (with @err telling
 * why), so the caller can fall back to cpu.
 */
int bn_backend_kmod_new(const char *dev_path, struct bn_backend **out, char *err, size_t errlen);
/*
 * The kmod backend's submission path, picked at run time: "uring_cmd" or
 * "ring" (BITNET_KMOD_SUBMIT=auto|uring|ring forces one); NULL for others.
 */
const char *bn_backend_kmod_submit_path(const struct bn_backend *b);
/*
 * Share a loaded kmod backend's sealed objects with the peer of unix
 * socket @sock (-EPERM unless it runs as root or our euid). The peer calls
 * bn_backend_kmod_attach() and then loads the same model: add_weight()
 * takes the shared objects in order, read-only, without reading the data.
 */
int bn_backend_kmod_export(struct bn_backend *b, int sock);
int bn_backend_kmod_attach(const char *dev_path, int sock, struct bn_backend **out, char *err,
			   size_t errlen);

#endif /* BITNET_ENGINE_BACKEND_H */
