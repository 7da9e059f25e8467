/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the GGUF reader and writer. */
#ifndef BITNET_GGUF_PRIV_H
#define BITNET_GGUF_PRIV_H

#include "daemon/engine/gguf/gguf.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_ARRAY_DEPTH 8

/*
 * Bytes of a tensor of @type and shape @ne: 0, or -ENOTSUP for a type
 * bitnet cannot read, -EDOM when the row is not whole blocks, -EINVAL for
 * a zero dimension, -EOVERFLOW.
 */
int gguf_type_size(uint32_t type, const uint64_t *ne, uint32_t n_dims, uint64_t *size);
void gguf_type_describe(uint32_t type, bool bitnet_arch, char *buf, size_t len);
/* Bytes of one scalar value, 0 for strings and arrays or unknown types. */
size_t gguf_scalar_size(uint32_t type);

#endif /* BITNET_GGUF_PRIV_H */
