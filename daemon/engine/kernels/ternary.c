// SPDX-License-Identifier: GPL-2.0
/*
 * Ternarizing full-precision linears at load. Exported BitNet models store
 * W = t * s exactly; keeping those codes and s bit-for-bit makes an F16 or
 * F32 file compute the same function as its TQ2_0/I2_S sibling. Anything
 * else goes through the core's absmean ternarizer.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "daemon/engine/kernels/ternary.h"
#include "kmod/core/bnc_quant.h"

/* Codes of @w if every value is 0 or +-max|w|; false otherwise. */
static bool exact_ternary(const float *w, size_t n, int8_t *codes, float *scale)
{
	float smax = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabsf(w[i]) > smax)
			smax = fabsf(w[i]);
	if (!(smax > 0) || !isfinite(smax))
		return false;
	for (i = 0; i < n; i++) {
		if (w[i] == smax)
			codes[i] = 1;
		else if (w[i] == -smax)
			codes[i] = -1;
		else if (w[i] == 0)
			codes[i] = 0;
		else
			return false;
	}
	*scale = smax;
	return true;
}

int bn_ternarize(const struct bn_ftensor *w, int8_t *codes, float *scale)
{
	size_t n = (size_t)w->rows * w->cols, r;
	float *all = malloc(n * sizeof(float));
	int rc = 0;

	if (!all)
		return -ENOMEM;
	for (r = 0; r < w->rows; r++)
		bn_ftensor_row(w, (uint32_t)r, all + r * w->cols);
	if (!exact_ternary(all, n, codes, scale))
		rc = bnc_ternarize(all, n, 0.0f, codes, scale);
	free(all);
	return rc;
}
