/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BITNET_TOOLS_MKMODEL_REQUANT_H
#define BITNET_TOOLS_MKMODEL_REQUANT_H

#include <stdint.h>

/* Copies GGUF @in to @out with token_embd/output.weight in GGUF @type; -errno. */
int mkmodel_requant(const char *in, const char *out, uint32_t type);

#endif /* BITNET_TOOLS_MKMODEL_REQUANT_H */
