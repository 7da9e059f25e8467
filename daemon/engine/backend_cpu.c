// SPDX-License-Identifier: GPL-2.0
/*
 * The "cpu" backend: weights repacked once into the compute core's
 * execution layout, matmuls split in row tiles over the core's pool.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/backend_cpu.h"
#include "kmod/core/bitnet_core.h"
#include "kmod/core/bnc_pool.h"

struct cpu_backend {
	struct bn_backend base;
	struct bnc_pool *pool;
	bool own_pool;
	enum bnc_isa isa;
	struct bnc_matrix *w;
	uint32_t n_w, cap_w;
	uint64_t bytes;
};

static struct cpu_backend *cpu_of(struct bn_backend *b)
{
	return (struct cpu_backend *)b;
}

static int cpu_add_weight(struct bn_backend *b, unsigned int fmt, uint32_t rows, uint32_t cols,
			  const void *data, size_t bytes, bn_weight_id *id)
{
	struct cpu_backend *c = cpu_of(b);
	struct bnc_matrix *w;
	size_t size;
	int rc;

	if (bnc_check_shape(rows, cols) || bytes != bnc_packed_size(fmt, rows, cols))
		return -EINVAL;
	if (c->n_w == c->cap_w) {
		uint32_t cap = c->cap_w ? c->cap_w * 2 : 64;
		struct bnc_matrix *p = realloc(c->w, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->w = p;
		c->cap_w = cap;
	}
	w = &c->w[c->n_w];
	memset(w, 0, sizeof(*w));
	w->rows = rows;
	w->cols = cols;
	size = bnc_exec_size(rows, cols);
	size = (size + BNC_BUF_ALIGN - 1) & ~(size_t)(BNC_BUF_ALIGN - 1);
	w->data = aligned_alloc(BNC_BUF_ALIGN, size);
	if (!w->data)
		return -ENOMEM;
	rc = bnc_repack(w, fmt, data, bytes);
	if (rc) {
		free(w->data);
		return rc;
	}
	c->bytes += size;
	*id = c->n_w++;
	return 0;
}

static int cpu_finish_load(struct bn_backend *b)
{
	(void)b;
	return 0;
}

static int cpu_matmul(struct bn_backend *b, const bn_weight_id *ids, uint32_t n_w,
		      const int8_t *q, const float *sigma, const int32_t *sum,
		      uint32_t n_tokens, float *const *out)
{
	struct cpu_backend *c = cpu_of(b);
	uint32_t i;
	int rc;

	for (i = 0; i < n_w; i++) {
		const struct bnc_matrix *w;
		struct bnc_act x;

		if (ids[i] >= c->n_w)
			return -EINVAL;
		w = &c->w[ids[i]];
		x = (struct bnc_act){ .n = n_tokens, .k = w->cols, .q = q, .sum = sum,
				      .sigma = sigma };
		rc = bnc_pool_matmul_f32(c->pool, c->isa, w, &x, out[i], w->rows);
		if (rc)
			return rc;
	}
	return 0;
}

static uint64_t cpu_weight_bytes(const struct bn_backend *b)
{
	return ((const struct cpu_backend *)b)->bytes;
}

static void cpu_destroy(struct bn_backend *b)
{
	struct cpu_backend *c = cpu_of(b);
	uint32_t i;

	for (i = 0; i < c->n_w; i++)
		free(c->w[i].data);
	free(c->w);
	if (c->own_pool)
		bnc_pool_free(c->pool);
	free(c);
}

static const struct bn_backend_ops cpu_ops = {
	.name = "cpu",
	.add_weight = cpu_add_weight,
	.finish_load = cpu_finish_load,
	.matmul = cpu_matmul,
	.weight_bytes = cpu_weight_bytes,
	.destroy = cpu_destroy,
};

static int cpu_new(struct bnc_pool *pool, bool own, struct bn_backend **out)
{
	struct cpu_backend *c = calloc(1, sizeof(*c));

	if (!c) {
		if (own)
			bnc_pool_free(pool);
		return -ENOMEM;
	}
	c->base.ops = &cpu_ops;
	c->base.threads = bnc_pool_threads(pool);
	c->pool = pool;
	c->own_pool = own;
	c->isa = bnc_isa_best();
	*out = &c->base;
	return 0;
}

int bn_backend_cpu_new(int threads, struct bn_backend **out)
{
	struct bnc_pool *pool = bnc_pool_new(threads);

	if (!pool)
		return -ENOMEM;
	return cpu_new(pool, true, out);
}

int bn_backend_cpu_new_shared(struct bnc_pool *pool, struct bn_backend **out)
{
	if (!pool)
		return -EINVAL;
	return cpu_new(pool, false, out);
}
