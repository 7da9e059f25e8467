/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnet-run --attach NAME: run on the weights bitnetd's model NAME has
 * pinned on /dev/bitnet instead of loading a copy (tools/run/attach.c).
 */
#ifndef BITNET_RUN_ATTACH_H
#define BITNET_RUN_ATTACH_H

#include <stddef.h>

#include "daemon/engine/engine.h"

/*
 * Asks the daemon ($BITNET_BUS_ADDRESS, else the system bus) for model
 * @name's weights and sets @load up to attach to them (kmod backend).
 * Nonzero with @err telling why; the caller then loads the same file.
 */
int run_attach_setup(const char *name, struct bn_load_opts *load, char *err, size_t errlen);
/* A load with @load failed with @rc: @err made more helpful; the socket closed. */
void run_attach_done(struct bn_load_opts *load, int rc, char *err, size_t errlen);

#endif /* BITNET_RUN_ATTACH_H */
