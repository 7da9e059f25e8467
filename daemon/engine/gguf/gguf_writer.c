// SPDX-License-Identifier: GPL-2.0
/*
 * GGUF v3 writer: metadata is serialised as it is added, tensors are
 * copied and laid out at write time, each at an aligned offset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf_priv.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct writer_tensor {
	char *name;
	uint32_t n_dims;
	uint64_t ne[GGUF_MAX_DIMS];
	uint32_t type;
	void *data;
	uint64_t size;
};

struct gguf_writer {
	uint32_t alignment;
	struct buf kv;
	uint64_t n_kv;
	char **keys;
	struct writer_tensor *tensors;
	uint64_t n_tensors;
	int error; /* first failure, reported by write */
};

static int buf_put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap - b->len < n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int buf_u32(struct buf *b, uint32_t v)
{
	return buf_put(b, &v, 4);
}

static int buf_u64(struct buf *b, uint64_t v)
{
	return buf_put(b, &v, 8);
}

static int buf_str(struct buf *b, const char *s, size_t n)
{
	return buf_u64(b, n) ?: buf_put(b, s, n);
}

struct gguf_writer *gguf_writer_new(uint32_t alignment)
{
	struct gguf_writer *w;

	if (!alignment)
		alignment = GGUF_DEFAULT_ALIGNMENT;
	if (alignment & (alignment - 1))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w)
		w->alignment = alignment;
	return w;
}

void gguf_writer_free(struct gguf_writer *w)
{
	uint64_t i;

	if (!w)
		return;
	for (i = 0; i < w->n_kv; i++)
		free(w->keys[i]);
	for (i = 0; i < w->n_tensors; i++) {
		free(w->tensors[i].name);
		free(w->tensors[i].data);
	}
	free(w->keys);
	free(w->tensors);
	free(w->kv.p);
	free(w);
}

static int note(struct gguf_writer *w, int ret)
{
	if (ret && !w->error)
		w->error = ret;
	return ret;
}

/* Registers @key once and writes its header (key, type). */
static int begin_kv(struct gguf_writer *w, const char *key, uint32_t type)
{
	char **keys;
	uint64_t i;

	/* alignment comes from gguf_writer_new() and is always written */
	if (!key || !*key || !strcmp(key, "general.alignment"))
		return -EINVAL;
	for (i = 0; i < w->n_kv; i++)
		if (!strcmp(w->keys[i], key))
			return -EEXIST;
	keys = realloc(w->keys, (w->n_kv + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	w->keys = keys;
	keys[w->n_kv] = strdup(key);
	if (!keys[w->n_kv])
		return -ENOMEM;
	w->n_kv++;
	return buf_str(&w->kv, key, strlen(key)) ?: buf_u32(&w->kv, type);
}

int gguf_writer_kv(struct gguf_writer *w, const char *key, enum gguf_value_type type,
		   const void *val)
{
	size_t sz = gguf_scalar_size(type);
	int ret;

	if (type == GGUF_V_STRING)
		return gguf_writer_kv_str(w, key, val);
	if (!sz || !val)
		return note(w, -EINVAL);
	ret = begin_kv(w, key, type) ?: buf_put(&w->kv, val, sz);
	return note(w, ret);
}

int gguf_writer_kv_copy(struct gguf_writer *w, const struct gguf_kv *kv)
{
	char key[256];
	int ret;

	if (kv->key.len >= sizeof(key))
		return note(w, -ENAMETOOLONG);
	memcpy(key, kv->key.ptr, kv->key.len);
	key[kv->key.len] = 0;
	/* the writer's own alignment is written instead */
	if (!strcmp(key, "general.alignment"))
		return 0;
	ret = begin_kv(w, key, kv->type);
	if (!ret && kv->type == GGUF_V_ARRAY)
		ret = buf_u32(&w->kv, kv->arr_type) ?: buf_u64(&w->kv, kv->arr_n);
	if (!ret)
		ret = buf_put(&w->kv, kv->data, kv->size);
	return note(w, ret);
}

int gguf_writer_kv_str(struct gguf_writer *w, const char *key, const char *s)
{
	int ret;

	if (!s)
		return note(w, -EINVAL);
	ret = begin_kv(w, key, GGUF_V_STRING) ?: buf_str(&w->kv, s, strlen(s));
	return note(w, ret);
}

int gguf_writer_kv_arr(struct gguf_writer *w, const char *key, enum gguf_value_type type,
		       const void *vals, uint64_t n)
{
	size_t sz = gguf_scalar_size(type);
	int ret;

	if (!sz || (n && !vals) || n > SIZE_MAX / sz)
		return note(w, -EINVAL);
	ret = begin_kv(w, key, GGUF_V_ARRAY) ?:
		      buf_u32(&w->kv, type)  ?:
		      buf_u64(&w->kv, n)     ?:
					       buf_put(&w->kv, vals, n * sz);
	return note(w, ret);
}

int gguf_writer_kv_arr_str(struct gguf_writer *w, const char *key, const char *const *strs,
			   uint64_t n)
{
	uint64_t i;
	int ret;

	if (n && !strs)
		return note(w, -EINVAL);
	for (i = 0; i < n; i++)
		if (!strs[i])
			return note(w, -EINVAL);
	ret = begin_kv(w, key, GGUF_V_ARRAY)	     ?:
		      buf_u32(&w->kv, GGUF_V_STRING) ?:
						       buf_u64(&w->kv, n);
	for (i = 0; i < n && !ret; i++)
		ret = buf_str(&w->kv, strs[i], strlen(strs[i]));
	return note(w, ret);
}

int gguf_writer_tensor(struct gguf_writer *w, const char *name, uint32_t n_dims, const uint64_t *ne,
		       uint32_t type, const void *data, uint64_t size)
{
	struct writer_tensor *t;
	uint64_t expect, i;

	if (!name || !*name || n_dims > GGUF_MAX_DIMS || (n_dims && !ne) || (size && !data))
		return note(w, -EINVAL);
	if (gguf_type_size(type, ne, n_dims, &expect) || expect != size)
		return note(w, -EINVAL);
	for (i = 0; i < w->n_tensors; i++)
		if (!strcmp(w->tensors[i].name, name))
			return note(w, -EEXIST);
	t = realloc(w->tensors, (w->n_tensors + 1) * sizeof(*t));
	if (!t)
		return note(w, -ENOMEM);
	w->tensors = t;
	t += w->n_tensors;
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	t->data = malloc(size ? size : 1);
	if (!t->name || !t->data) {
		free(t->name);
		free(t->data);
		return note(w, -ENOMEM);
	}
	memcpy(t->data, data, size);
	t->n_dims = n_dims;
	for (i = 0; i < n_dims; i++)
		t->ne[i] = ne[i];
	t->type = type;
	t->size = size;
	w->n_tensors++;
	return 0;
}

static uint64_t align_up(uint64_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

static int write_all(FILE *fp, const void *p, size_t n)
{
	return fwrite(p, 1, n, fp) == n ? 0 : -EIO;
}

static int write_padding(FILE *fp, uint64_t from, uint32_t alignment)
{
	static const uint8_t zeros[256];
	uint64_t n = align_up(from, alignment) - from;
	int ret = 0;

	while (n && !ret) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		ret = write_all(fp, zeros, k);
		n -= k;
	}
	return ret;
}

static int build_header(struct gguf_writer *w, struct buf *h)
{
	uint64_t off = 0, i;
	uint32_t d;
	int ret;

	ret = buf_put(h, GGUF_MAGIC, 4)	       ?:
		      buf_u32(h, 3)	       ?:
		      buf_u64(h, w->n_tensors) ?:
		      buf_u64(h, w->n_kv + 1)  ?:
						 buf_put(h, w->kv.p, w->kv.len);
	ret = ret					  ?:
		      buf_str(h, "general.alignment", 17) ?:
		      buf_u32(h, GGUF_V_UINT32)		  ?:
							    buf_u32(h, w->alignment);
	for (i = 0; i < w->n_tensors && !ret; i++) {
		struct writer_tensor *t = &w->tensors[i];

		ret = buf_str(h, t->name, strlen(t->name)) ?: buf_u32(h, t->n_dims);
		for (d = 0; d < t->n_dims && !ret; d++)
			ret = buf_u64(h, t->ne[d]);
		ret = ret ?: buf_u32(h, t->type) ?: buf_u64(h, off);
		off = align_up(off + t->size, w->alignment);
	}
	return ret;
}

int gguf_writer_write(struct gguf_writer *w, const char *path)
{
	struct buf h = { 0 };
	uint64_t i, pos;
	FILE *fp;
	int ret;

	if (w->error)
		return w->error;
	ret = build_header(w, &h);
	if (ret) {
		free(h.p);
		return ret;
	}
	fp = fopen(path, "wbe");
	if (!fp) {
		ret = -errno;
		free(h.p);
		return ret;
	}
	ret = write_all(fp, h.p, h.len) ?: write_padding(fp, h.len, w->alignment);
	pos = 0;
	for (i = 0; i < w->n_tensors && !ret; i++) {
		ret = write_all(fp, w->tensors[i].data, w->tensors[i].size);
		pos += w->tensors[i].size;
		if (!ret && i + 1 < w->n_tensors) {
			ret = write_padding(fp, pos, w->alignment);
			pos = align_up(pos, w->alignment);
		}
	}
	if (fclose(fp) && !ret)
		ret = -EIO;
	free(h.p);
	return ret;
}
