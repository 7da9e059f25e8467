/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cpu backend on a pool the caller owns: the engine shares one pool
 * between the matmuls and its float work, so no two pools' workers spin
 * against each other.
 */
#ifndef BITNET_ENGINE_BACKEND_CPU_H
#define BITNET_ENGINE_BACKEND_CPU_H

#include "daemon/engine/backend/backend.h"

struct bnc_pool;

/* @pool must outlive the backend; @pack: the weights' layout(s). */
int bn_backend_cpu_new_shared(struct bnc_pool *pool, enum bn_pack_kind pack,
			      struct bn_backend **out);
/* "R16", "T5" or "R16+T5": what a cpu backend made with @kind holds. */
const char *bn_pack_name(enum bn_pack_kind kind);
/*
 * Room for weights as this backend keeps them: *@bytes rounded up to whole
 * 2 MiB pages, 2 MiB-aligned and advised onto transparent huge pages (small
 * pages without THP); NULL when out of memory. free() releases it.
 */
void *bn_cpu_weight_region(size_t *bytes);

#endif /* BITNET_ENGINE_BACKEND_CPU_H */
