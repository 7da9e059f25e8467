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

/* @pool must outlive the backend. */
int bn_backend_cpu_new_shared(struct bnc_pool *pool, struct bn_backend **out);

#endif /* BITNET_ENGINE_BACKEND_CPU_H */
