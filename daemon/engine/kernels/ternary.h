/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Full-precision linear weights to ternary codes and one scale per tensor.
 */
#ifndef BITNET_ENGINE_TERNARY_H
#define BITNET_ENGINE_TERNARY_H

#include <stdint.h>

#include "daemon/engine/kernels/ops.h"

/*
 * @w: rows x cols of F32/F16/BF16. A tensor that is already t * s (every
 * value in {-s, 0, +s}, s = max|W|) keeps exactly those codes and s;
 * otherwise absmean: gamma = mean|W|, t = clamp(round(W / gamma), -1, 1),
 * s = gamma. @codes has rows * cols entries. Returns 0 or -ENOMEM.
 */
int bn_ternarize(const struct bn_ftensor *w, int8_t *codes, float *scale);

#endif /* BITNET_ENGINE_TERNARY_H */
