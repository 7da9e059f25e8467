/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Models for the engine's unit tests: written by bitnet-mkmodel into the
 * test's scratch directory, loaded on the CPU backend.
 */
#ifndef BN_ENGINE_TEST_H
#define BN_ENGINE_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/engine/engine.h"

/* $BUILD/bin/bitnet-mkmodel (BUILD defaults to build) @shape @args @dir/@name */
static inline int test_mkmodel(const char *dir, const char *shape, const char *args,
			       const char *name)
{
	char cmd[1024];
	const char *build = getenv("BUILD");

	snprintf(cmd, sizeof(cmd), "'%s/bin/bitnet-mkmodel' %s %s '%s/%s'", build ? build : "build",
		 shape, args, dir, name);
	return system(cmd);
}

/*
 * @dir/@name on the CPU backend, 2 threads, with @head (and F16 linears run
 * dense if @dense). NULL if it fails, the error in @err (if given) and
 * printed as a TAP comment.
 */
static inline struct bn_model *test_load(const char *dir, const char *name, enum bn_head_kind head,
					 bool dense, char *err, size_t errlen)
{
	struct bn_load_opts o = {
		.backend = BN_BACKEND_CPU, .threads = 2, .head = head, .dense = dense
	};
	struct bn_model *m = NULL;
	char path[256], buf[512];

	if (!err) {
		err = buf;
		errlen = sizeof(buf);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bn_model_load(path, &o, &m, err, errlen))
		printf("# %s\n", err);
	return m;
}

#endif /* BN_ENGINE_TEST_H */
