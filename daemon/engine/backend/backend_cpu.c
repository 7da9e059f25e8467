// SPDX-License-Identifier: GPL-2.0
/*
 * The "cpu" backend: weights repacked once into the compute core's
 * execution layouts (R16, T5, LUT3 or two of them: enum bn_pack_kind),
 * matmuls split in row tiles over the core's pool.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "daemon/engine/backend/backend_cpu.h"
#include "kmod/core/bitnet_core.h"
#include "libcore/pool.h"

#define CPU_MULTI_MAX 4 /* weights in one dispatch */
/* dual: T5 for matmuls of up to this many tokens (T5 loses from 2 on) */
#define CPU_DUAL_T5_TOKENS 1
/* dual-lut3: LUT3 up to this many (docs/performance.md, LUT3) */
#define CPU_DUAL_LUT3_TOKENS 3

/*
 * Weights are carved out of large 2 MiB-aligned chunks that ask for
 * transparent huge pages: decode streams every weight once per token, and
 * with 4 KiB pages (TLB misses are dear in a VM, and the hardware
 * prefetcher stops at each page) it measured ~10% slower. Only the touched
 * part of the last chunk becomes resident.
 */
#define CPU_HUGE_PAGE ((size_t)2 << 20)
#define CPU_CHUNK_BYTES ((size_t)64 << 20)

struct cpu_chunk {
	struct cpu_chunk *next;
	uint8_t *base;
	size_t size, used;
};

/* A weight in its layouts (data NULL: not held in that one). */
struct cpu_weight {
	struct bnc_matrix r16, t5, lut3;
};

struct cpu_backend {
	struct bn_backend base;
	struct bnc_pool *pool;
	bool own_pool;
	enum bnc_isa isa;
	enum bn_pack_kind pack; /* resolved: not AUTO */
	struct cpu_weight *w;
	uint32_t n_w, cap_w;
	uint64_t bytes;
	struct cpu_chunk *chunks; /* newest first */
};

static struct cpu_backend *cpu_of(struct bn_backend *b)
{
	return (struct cpu_backend *)b;
}

void *bn_cpu_weight_region(size_t *bytes)
{
	void *p;

	*bytes = (*bytes + CPU_HUGE_PAGE - 1) & ~(CPU_HUGE_PAGE - 1);
	if (posix_memalign(&p, CPU_HUGE_PAGE, *bytes))
		return NULL;
	/* advice only: without THP the weights simply use small pages */
	madvise(p, *bytes, MADV_HUGEPAGE);
	return p;
}

/* @size bytes, BNC_BUF_ALIGN-aligned (a multiple of it), from the chunks. */
static uint8_t *cpu_weight_alloc(struct cpu_backend *c, size_t size)
{
	struct cpu_chunk *ch = c->chunks;
	size_t want;

	if (!ch || ch->size - ch->used < size) {
		want = size > CPU_CHUNK_BYTES ? size : CPU_CHUNK_BYTES;
		ch = calloc(1, sizeof(*ch));
		if (!ch)
			return NULL;
		ch->base = bn_cpu_weight_region(&want);
		if (!ch->base) {
			free(ch);
			return NULL;
		}
		ch->size = want;
		ch->next = c->chunks;
		c->chunks = ch;
	}
	ch->used += size;
	return ch->base + ch->used - size;
}

/* @w: the packed tensor repacked into @layout; on failure nothing kept. */
static int cpu_repack(struct cpu_backend *c, uint32_t layout, unsigned int fmt, uint32_t rows,
		      uint32_t cols, const void *data, size_t bytes, struct bnc_matrix *w)
{
	size_t size = bnc_layout_size(layout, rows, cols);
	int rc;

	size = (size + BNC_BUF_ALIGN - 1) & ~(size_t)(BNC_BUF_ALIGN - 1);
	w->rows = rows;
	w->cols = cols;
	w->data = cpu_weight_alloc(c, size);
	if (!w->data)
		return -ENOMEM;
	rc = bnc_repack_layout(w, layout, fmt, data, bytes);
	if (rc) {
		c->chunks->used -= size; /* the last allocation: give it back */
		w->data = NULL;
		return rc;
	}
	c->bytes += size;
	return 0;
}

static int cpu_add_weight(struct bn_backend *b, unsigned int fmt, uint32_t rows, uint32_t cols,
			  const void *data, size_t bytes, bn_weight_id *id)
{
	struct cpu_backend *c = cpu_of(b);
	/* T5's kernels are exact up to BNC_T5_MAX_COLS; wider ones stay R16 */
	bool t5 = (c->pack == BN_PACK_T5 || c->pack == BN_PACK_DUAL) &&
		  bnc_layout_size(BNC_LAYOUT_T5, rows, cols);
	bool lut3 = c->pack == BN_PACK_LUT3 || c->pack == BN_PACK_DUAL_LUT3;
	bool r16 = c->pack == BN_PACK_DUAL_LUT3 || (!lut3 && (c->pack != BN_PACK_T5 || !t5));
	struct cpu_weight *w;
	int rc = 0;

	if (bnc_check_shape(rows, cols) || bytes != bnc_packed_size(fmt, rows, cols))
		return -EINVAL;
	if (c->n_w == c->cap_w) {
		uint32_t cap = c->cap_w ? c->cap_w * 2 : 64;
		struct cpu_weight *p = realloc(c->w, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->w = p;
		c->cap_w = cap;
	}
	w = &c->w[c->n_w];
	memset(w, 0, sizeof(*w));
	if (r16)
		rc = cpu_repack(c, BNC_LAYOUT_R16, fmt, rows, cols, data, bytes, &w->r16);
	if (!rc && t5)
		rc = cpu_repack(c, BNC_LAYOUT_T5, fmt, rows, cols, data, bytes, &w->t5);
	if (!rc && lut3)
		rc = cpu_repack(c, BNC_LAYOUT_LUT3, fmt, rows, cols, data, bytes, &w->lut3);
	if (rc)
		return rc; /* an R16 copy made is kept in its chunk, unused */
	*id = c->n_w++;
	return 0;
}

/* The copy of weight @id that runs @n_tokens best; NULL for a bad id. */
static const struct bnc_matrix *cpu_pick(const struct cpu_backend *c, bn_weight_id id,
					 uint32_t n_tokens)
{
	const struct cpu_weight *w;

	if (id >= c->n_w)
		return NULL;
	w = &c->w[id];
	if (w->lut3.data && (!w->r16.data || n_tokens <= CPU_DUAL_LUT3_TOKENS))
		return &w->lut3;
	if (w->t5.data && (!w->r16.data || n_tokens <= CPU_DUAL_T5_TOKENS))
		return &w->t5;
	return &w->r16;
}

static int cpu_finish_load(struct bn_backend *b)
{
	(void)b;
	return 0;
}

static int cpu_matmul(struct bn_backend *b, const bn_weight_id *ids, uint32_t n_w, const int8_t *q,
		      const float *sigma, const int32_t *sum, uint32_t n_tokens, float *const *out)
{
	struct cpu_backend *c = cpu_of(b);
	const struct bnc_matrix *ws[CPU_MULTI_MAX];
	uint32_t i;
	int rc;

	/* Weights sharing K (q/k/v, gate/up) go in one dispatch: fewer syncs. */
	if (n_w > 1 && n_w <= CPU_MULTI_MAX) {
		for (i = 0; i < n_w; i++) {
			ws[i] = cpu_pick(c, ids[i], n_tokens);
			if (!ws[i])
				return -EINVAL;
			if (ws[i]->cols != ws[0]->cols)
				break;
		}
		if (i == n_w) {
			struct bnc_act x = {
				.n = n_tokens, .k = ws[0]->cols, .q = q, .sum = sum, .sigma = sigma
			};

			return bnc_pool_matmul_multi_f32(c->pool, c->isa, ws, n_w, &x, out);
		}
	}
	for (i = 0; i < n_w; i++) {
		const struct bnc_matrix *w;
		struct bnc_act x;

		w = cpu_pick(c, ids[i], n_tokens);
		if (!w)
			return -EINVAL;
		x = (struct bnc_act){
			.n = n_tokens, .k = w->cols, .q = q, .sum = sum, .sigma = sigma
		};
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

static int cpu_stats(const struct bn_backend *b, struct bn_backend_stats *st)
{
	*st = (struct bn_backend_stats){
		.name = b->ops->name,
		.kind = BN_BACKEND_CPU,
		.weight_bytes = cpu_weight_bytes(b),
	};
	return 0;
}

static void cpu_destroy(struct bn_backend *b)
{
	struct cpu_backend *c = cpu_of(b);
	struct cpu_chunk *ch;

	while ((ch = c->chunks)) {
		c->chunks = ch->next;
		free(ch->base);
		free(ch);
	}
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
	.stats = cpu_stats,
	.destroy = cpu_destroy,
};

static int cpu_new(struct bnc_pool *pool, bool own, enum bn_pack_kind pack, struct bn_backend **out)
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
	c->pack = bn_pack_resolve(pack);
	*out = &c->base;
	return 0;
}

int bn_backend_cpu_new(int threads, struct bn_backend **out)
{
	struct bnc_pool *pool = bnc_pool_new(threads);

	if (!pool)
		return -ENOMEM;
	return cpu_new(pool, true, BN_PACK_R16, out);
}

int bn_backend_cpu_new_shared(struct bnc_pool *pool, enum bn_pack_kind pack,
			      struct bn_backend **out)
{
	if (!pool)
		return -EINVAL;
	return cpu_new(pool, false, pack, out);
}

int bn_pack_kind_parse(const char *name, enum bn_pack_kind *kind)
{
	static const char *const names[] = {
		[BN_PACK_AUTO] = "auto", [BN_PACK_R16] = "r16",	  [BN_PACK_T5] = "t5",
		[BN_PACK_DUAL] = "dual", [BN_PACK_LUT3] = "lut3", [BN_PACK_DUAL_LUT3] = "dual-lut3",
	};
	int i = bn_name_index(name, names, sizeof(names) / sizeof(names[0]));

	if (i < 0)
		return i;
	*kind = (enum bn_pack_kind)i;
	return 0;
}

/*
 * AUTO is R16: see enum bn_pack_kind. The LUT3 kinds need AVX-512 for
 * their kernel; elsewhere they are R16.
 */
enum bn_pack_kind bn_pack_resolve(enum bn_pack_kind kind)
{
	bool lut = bnc_isa_best() == BNC_ISA_AVX512_VNNI;

	if (kind == BN_PACK_AUTO || ((kind == BN_PACK_LUT3 || kind == BN_PACK_DUAL_LUT3) && !lut))
		return BN_PACK_R16;
	return kind;
}

const char *bn_pack_name(enum bn_pack_kind kind)
{
	switch (bn_pack_resolve(kind)) {
	case BN_PACK_T5:
		return "T5";
	case BN_PACK_DUAL:
		return "R16+T5";
	case BN_PACK_LUT3:
		return "LUT3";
	case BN_PACK_DUAL_LUT3:
		return "R16+LUT3";
	default:
		return "R16";
	}
}
