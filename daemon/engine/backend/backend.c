// SPDX-License-Identifier: GPL-2.0
/*
 * Backends as the engine's users see them: by kind, never the backend or
 * the device behind it (a loaded model's backend: bn_model_backend_stats()).
 */
#include <errno.h>
#include <string.h>

#include "daemon/engine/engine.h"

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
