// SPDX-License-Identifier: GPL-2.0
/*
 * Backends as the engine's users see them: by kind, never the backend or
 * the device behind it (a loaded model's backend: bn_model_backend_stats()).
 */
#include <errno.h>
#include <string.h>

#include "daemon/engine/backend/backend.h"

int bn_name_index(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(name, names[i]))
			return (int)i;
	return -EINVAL;
}

int bn_backend_kind_parse(const char *name, enum bn_backend_kind *kind)
{
	static const char *const names[] = {
		[BN_BACKEND_AUTO] = "auto",
		[BN_BACKEND_CPU] = "cpu",
		[BN_BACKEND_KMOD] = "kmod",
	};
	int i = bn_name_index(name, names, sizeof(names) / sizeof(names[0]));

	if (i < 0)
		return i;
	*kind = (enum bn_backend_kind)i;
	return 0;
}
