// SPDX-License-Identifier: GPL-2.0
/*
 * Backends as the engine's users see them: by kind and through a loaded
 * model, never the backend or the device behind it.
 */
#include <errno.h>
#include <string.h>

#include "daemon/engine/model/model_internal.h"

int bn_model_backend_stats(const struct bn_model *m, struct bn_backend_stats *st)
{
	if (!m || !m->backend)
		return -EINVAL;
	return m->backend->ops->stats(m->backend, st);
}

int bn_backend_kind_parse(const char *name, enum bn_backend_kind *kind)
{
	static const char *const names[] = {
		[BN_BACKEND_AUTO] = "auto",
		[BN_BACKEND_CPU] = "cpu",
		[BN_BACKEND_KMOD] = "kmod",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*kind = (enum bn_backend_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}
