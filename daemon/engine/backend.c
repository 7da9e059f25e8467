// SPDX-License-Identifier: GPL-2.0
/*
 * What a loaded model's backend reports, for the engine's users: they see
 * the model, never the backend or the device behind it.
 */
#include <errno.h>

#include "daemon/engine/model_internal.h"

int bn_model_backend_stats(const struct bn_model *m, struct bn_backend_stats *st)
{
	if (!m || !m->backend)
		return -EINVAL;
	return m->backend->ops->stats(m->backend, st);
}
