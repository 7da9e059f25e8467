/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building GGUF bytes by hand, for files the writer would refuse to make:
 * malformed headers, nested arrays, hostile counts.
 */
#ifndef BITNET_GGUF_BUILD_H
#define BITNET_GGUF_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gbuf {
	uint8_t *p;
	size_t len, cap;
};

static inline void gb_put(struct gbuf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void gb_u32(struct gbuf *b, uint32_t v)
{
	gb_put(b, &v, 4);
}

static inline void gb_u64(struct gbuf *b, uint64_t v)
{
	gb_put(b, &v, 8);
}

static inline void gb_str(struct gbuf *b, const char *s)
{
	gb_u64(b, strlen(s));
	gb_put(b, s, strlen(s));
}

static inline void gb_header(struct gbuf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	gb_put(b, "GGUF", 4);
	gb_u32(b, version);
	gb_u64(b, n_tensors);
	gb_u64(b, n_kv);
}

/* key of type string */
static inline void gb_kv_str(struct gbuf *b, const char *key, const char *val)
{
	gb_str(b, key);
	gb_u32(b, 8);
	gb_str(b, val);
}

static inline void gb_kv_u32(struct gbuf *b, const char *key, uint32_t val)
{
	gb_str(b, key);
	gb_u32(b, 4);
	gb_u32(b, val);
}

/* tensor info with up to 4 dims */
static inline void gb_tensor(struct gbuf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
			     uint32_t type, uint64_t offset)
{
	uint32_t i;

	gb_str(b, name);
	gb_u32(b, n_dims);
	for (i = 0; i < n_dims; i++)
		gb_u64(b, ne[i]);
	gb_u32(b, type);
	gb_u64(b, offset);
}

static inline void gb_pad(struct gbuf *b, size_t align)
{
	static const uint8_t zero[64];

	while (b->len % align)
		gb_put(b, zero, 1);
}

static inline void gb_zeros(struct gbuf *b, size_t n)
{
	static const uint8_t zero[256];

	while (n) {
		size_t k = n < sizeof(zero) ? n : sizeof(zero);

		gb_put(b, zero, k);
		n -= k;
	}
}

static inline int gb_write(const struct gbuf *b, size_t len, const char *path)
{
	FILE *fp = fopen(path, "wb");
	int ok;

	if (!fp)
		return -1;
	ok = fwrite(b->p, 1, len, fp) == len;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

#endif /* BITNET_GGUF_BUILD_H */
