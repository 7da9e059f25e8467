// SPDX-License-Identifier: GPL-2.0
/*
 * GGUF v2/v3 reader. The whole file is mapped read-only and parsed with a
 * cursor that checks every length against what is left, so a hostile file
 * can neither make us read past the map nor allocate more than its own size
 * justifies: every count is capped by the smallest encoding of its items.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/engine/gguf/gguf_priv.h"

struct cursor {
	const uint8_t *base;
	size_t pos;
	size_t end;
	const char *path;
	char *err;
	size_t errlen;
};

static int fail(struct cursor *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cursor *c, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return ret;
	n = snprintf(c->err, c->errlen, "%s: ", c->path);
	if (n < 0 || (size_t)n >= c->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return ret;
}

static size_t left(const struct cursor *c)
{
	return c->end - c->pos;
}

static int need(struct cursor *c, uint64_t n, const char *what)
{
	if (n > left(c))
		return fail(c, -EINVAL,
			    "truncated: %s at offset %zu needs %llu bytes, only %zu left", what,
			    c->pos, (unsigned long long)n, left(c));
	return 0;
}

static int get_u32(struct cursor *c, uint32_t *v, const char *what)
{
	int ret = need(c, 4, what);

	if (ret)
		return ret;
	memcpy(v, c->base + c->pos, 4);
	c->pos += 4;
	return 0;
}

static int get_u64(struct cursor *c, uint64_t *v, const char *what)
{
	int ret = need(c, 8, what);

	if (ret)
		return ret;
	memcpy(v, c->base + c->pos, 8);
	c->pos += 8;
	return 0;
}

static int get_str(struct cursor *c, struct gguf_str *s, const char *what)
{
	uint64_t len;
	int ret = get_u64(c, &len, what);

	if (ret)
		return ret;
	if (len > left(c))
		return fail(c, -EINVAL,
			    "%s at offset %zu: string length %llu exceeds the %zu bytes left", what,
			    c->pos - 8, (unsigned long long)len, left(c));
	s->ptr = (const char *)c->base + c->pos;
	s->len = len;
	c->pos += len;
	return 0;
}

size_t gguf_scalar_size(uint32_t type)
{
	switch (type) {
	case GGUF_V_UINT8:
	case GGUF_V_INT8:
	case GGUF_V_BOOL:
		return 1;
	case GGUF_V_UINT16:
	case GGUF_V_INT16:
		return 2;
	case GGUF_V_UINT32:
	case GGUF_V_INT32:
	case GGUF_V_FLOAT32:
		return 4;
	case GGUF_V_UINT64:
	case GGUF_V_INT64:
	case GGUF_V_FLOAT64:
		return 8;
	default:
		return 0;
	}
}

static bool valid_value_type(uint32_t type)
{
	return type <= GGUF_V_FLOAT64;
}

/* Smallest encoding of one element of @type: caps element counts. */
static uint64_t min_elem_size(uint32_t type)
{
	if (type == GGUF_V_STRING)
		return 8;
	if (type == GGUF_V_ARRAY)
		return 12;
	return gguf_scalar_size(type);
}

static int skip_array(struct cursor *c, const struct gguf_str *key, uint32_t type, uint64_t n,
		      int depth, uint64_t **offs);

static int check_count(struct cursor *c, const struct gguf_str *key, uint32_t type, uint64_t n)
{
	uint64_t min = min_elem_size(type);

	if (n > left(c) / min)
		return fail(c, -EINVAL,
			    "key '%.*s': array of %llu elements cannot fit in the %zu bytes left",
			    (int)key->len, key->ptr, (unsigned long long)n, left(c));
	return 0;
}

/* Skips the elements of an array, validating each; records string offsets. */
static int skip_array(struct cursor *c, const struct gguf_str *key, uint32_t type, uint64_t n,
		      int depth, uint64_t **offs)
{
	size_t start = c->pos;
	uint64_t i;
	int ret;

	if (!valid_value_type(type))
		return fail(c, -EINVAL, "key '%.*s': unknown array element type %u", (int)key->len,
			    key->ptr, type);
	if (depth > GGUF_MAX_ARRAY_DEPTH)
		return fail(c, -EINVAL, "key '%.*s': arrays nested deeper than %d", (int)key->len,
			    key->ptr, GGUF_MAX_ARRAY_DEPTH);
	ret = check_count(c, key, type, n);
	if (ret)
		return ret;
	if (type != GGUF_V_STRING && type != GGUF_V_ARRAY) {
		c->pos += n * gguf_scalar_size(type);
		return 0;
	}
	if (type == GGUF_V_STRING && offs) {
		*offs = malloc((n ? n : 1) * sizeof(**offs));
		if (!*offs)
			return fail(c, -ENOMEM, "out of memory for key '%.*s'", (int)key->len,
				    key->ptr);
	}
	for (i = 0; i < n; i++) {
		if (type == GGUF_V_STRING) {
			struct gguf_str s;

			if (offs)
				(*offs)[i] = c->pos - start;
			ret = get_str(c, &s, "array string");
		} else {
			uint32_t sub_type;
			uint64_t sub_n;

			ret = get_u32(c, &sub_type, "nested array type");
			if (!ret)
				ret = get_u64(c, &sub_n, "nested array length");
			if (!ret)
				ret = skip_array(c, key, sub_type, sub_n, depth + 1, NULL);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_kv(struct cursor *c, struct gguf_kv *kv, uint64_t idx)
{
	uint32_t type;
	size_t start;
	int ret;

	ret = get_str(c, &kv->key, "metadata key");
	if (ret)
		return ret;
	if (kv->key.len == 0)
		return fail(c, -EINVAL, "metadata entry %llu has an empty key",
			    (unsigned long long)idx);
	/* lookups take C strings: a NUL would hide the entry */
	if (memchr(kv->key.ptr, '\0', kv->key.len))
		return fail(c, -EINVAL, "metadata entry %llu: key contains a NUL byte",
			    (unsigned long long)idx);
	ret = get_u32(c, &type, "metadata value type");
	if (ret)
		return ret;
	if (!valid_value_type(type))
		return fail(c, -EINVAL, "key '%.*s': unknown value type %u", (int)kv->key.len,
			    kv->key.ptr, type);
	kv->type = type;
	if (type == GGUF_V_ARRAY) {
		uint32_t arr_type;

		ret = get_u32(c, &arr_type, "array element type");
		if (!ret)
			ret = get_u64(c, &kv->arr_n, "array length");
		if (ret)
			return ret;
		kv->arr_type = arr_type;
		start = c->pos;
		ret = skip_array(c, &kv->key, arr_type, kv->arr_n, 1,
				 arr_type == GGUF_V_STRING ? &kv->elem_off : NULL);
		if (ret)
			return ret;
	} else if (type == GGUF_V_STRING) {
		struct gguf_str s;

		ret = get_str(c, &s, "string value");
		if (ret)
			return ret;
		start = c->pos - s.len - 8;
	} else {
		start = c->pos;
		ret = need(c, gguf_scalar_size(type), "metadata value");
		if (ret)
			return ret;
		c->pos += gguf_scalar_size(type);
	}
	kv->data = c->base + start;
	kv->size = c->pos - start;
	return 0;
}

static int cmp_str(const struct gguf_str *a, const struct gguf_str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->ptr, b->ptr, n);

	if (r)
		return r;
	return (a->len > b->len) - (a->len < b->len);
}

static int cmp_kv_key(const void *a, const void *b)
{
	const struct gguf_kv *const *x = a, *const *y = b;

	return cmp_str(&(*x)->key, &(*y)->key);
}

static int cmp_tensor_name(const void *a, const void *b)
{
	const struct gguf_tensor *const *x = a, *const *y = b;

	return cmp_str(&(*x)->name, &(*y)->name);
}

static int cmp_tensor_offset(const void *a, const void *b)
{
	const struct gguf_tensor *const *x = a, *const *y = b;

	return ((*x)->offset > (*y)->offset) - ((*x)->offset < (*y)->offset);
}

static int check_duplicate_keys(struct cursor *c, struct gguf_file *f)
{
	const struct gguf_kv **sorted;
	uint64_t i;
	int ret = 0;

	if (f->n_kv < 2)
		return 0;
	sorted = malloc(f->n_kv * sizeof(*sorted));
	if (!sorted)
		return fail(c, -ENOMEM, "out of memory");
	for (i = 0; i < f->n_kv; i++)
		sorted[i] = &f->kv[i];
	qsort(sorted, f->n_kv, sizeof(*sorted), cmp_kv_key);
	for (i = 1; i < f->n_kv && !ret; i++)
		if (!cmp_str(&sorted[i - 1]->key, &sorted[i]->key))
			ret = fail(c, -EINVAL, "duplicate metadata key '%.*s'",
				   (int)sorted[i]->key.len, sorted[i]->key.ptr);
	free(sorted);
	return ret;
}

static int read_alignment(struct cursor *c, struct gguf_file *f)
{
	uint32_t a;
	int ret = gguf_get_u32(f, "general.alignment", &a);

	f->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return fail(c, -EINVAL, "general.alignment is not an unsigned 32-bit integer");
	if (a == 0 || (a & (a - 1)))
		return fail(c, -EINVAL, "general.alignment %u is not a power of two", a);
	f->alignment = a;
	return 0;
}

static bool is_bitnet_arch(const struct gguf_file *f)
{
	struct gguf_str arch;

	return !gguf_get_str(f, "general.architecture", &arch) && arch.len >= 6 &&
	       !memcmp(arch.ptr, "bitnet", 6);
}

/* Bytes from @t's offset to the next tensor's, or to the end of the file. */
static uint64_t tensor_extent(const struct gguf_file *f, const struct gguf_tensor *t)
{
	uint64_t end = f->map_size > f->data_offset ? f->map_size - f->data_offset : 0, i;

	for (i = 0; i < f->n_tensors; i++)
		if (f->tensors[i].offset > t->offset && f->tensors[i].offset < end)
			end = f->tensors[i].offset;
	return end > t->offset ? end - t->offset : 0;
}

/*
 * Type 39 is MXFP4 upstream (17 bytes per 32) and TL2 in bitnet.cpp: a
 * bitnet architecture says TL2 unless the tensor's extent fits MXFP4.
 */
static bool looks_like_tl2(const struct gguf_file *f, const struct gguf_tensor *t)
{
	uint64_t n = 1, extent = tensor_extent(f, t), mxfp4;
	uint32_t i;

	if (!is_bitnet_arch(f))
		return false;
	for (i = 0; i < t->n_dims; i++)
		if (__builtin_mul_overflow(n, t->ne[i], &n))
			return true;
	if (t->ne[0] % 32)
		return true;
	mxfp4 = n / 32 * 17;
	return !(mxfp4 <= extent && extent - mxfp4 < f->alignment);
}

static int parse_tensor_info(struct cursor *c, struct gguf_tensor *t)
{
	uint32_t i;
	int ret;

	ret = get_str(c, &t->name, "tensor name");
	if (ret)
		return ret;
	if (!t->name.len || memchr(t->name.ptr, '\0', t->name.len))
		return fail(c, -EINVAL, "tensor name '%.*s' is empty or contains a NUL byte",
			    (int)t->name.len, t->name.ptr);
	ret = get_u32(c, &t->n_dims, "tensor dimension count");
	if (ret)
		return ret;
	if (t->n_dims > GGUF_MAX_DIMS)
		return fail(c, -EINVAL, "tensor '%.*s': %u dimensions (at most %d)",
			    (int)t->name.len, t->name.ptr, t->n_dims, GGUF_MAX_DIMS);
	for (i = 0; i < GGUF_MAX_DIMS; i++)
		t->ne[i] = 1;
	for (i = 0; i < t->n_dims; i++) {
		ret = get_u64(c, &t->ne[i], "tensor dimension");
		if (ret)
			return ret;
	}
	ret = get_u32(c, &t->type, "tensor type");
	if (!ret)
		ret = get_u64(c, &t->offset, "tensor data offset");
	return ret;
}

static int size_tensor(struct cursor *c, struct gguf_file *f, struct gguf_tensor *t)
{
	const char *what;
	char desc[80];
	int ret;

	ret = gguf_type_size(t->type, t->ne, t->n_dims, &t->size);
	switch (ret) {
	case 0:
		break;
	case -ENOTSUP:
		gguf_type_describe(t->type,
				   t->type == 39 ? looks_like_tl2(f, t) : is_bitnet_arch(f), desc,
				   sizeof(desc));
		return fail(c, -ENOTSUP, "tensor '%.*s': type %s is not one bitnet can read",
			    (int)t->name.len, t->name.ptr, desc);
	case -EDOM:
		return fail(c, -EINVAL,
			    "tensor '%.*s': row length %llu is not a whole number of %s blocks",
			    (int)t->name.len, t->name.ptr, (unsigned long long)t->ne[0],
			    gguf_type_name(t->type));
	default:
		what = ret == -EINVAL ? "has a zero dimension" : "has a size that overflows";
		return fail(c, -EINVAL, "tensor '%.*s' %s", (int)t->name.len, t->name.ptr, what);
	}
	if (t->offset % f->alignment)
		return fail(c, -EINVAL,
			    "tensor '%.*s': offset %llu is not a multiple of the alignment %u",
			    (int)t->name.len, t->name.ptr, (unsigned long long)t->offset,
			    f->alignment);
	if (f->data_offset > f->map_size || t->offset > f->map_size - f->data_offset ||
	    t->size > f->map_size - f->data_offset - t->offset)
		return fail(c, -EINVAL,
			    "tensor '%.*s': data [%llu, +%llu) runs past the end of the file",
			    (int)t->name.len, t->name.ptr, (unsigned long long)t->offset,
			    (unsigned long long)t->size);
	t->data = f->map + f->data_offset + t->offset;
	return 0;
}

/* Names must be unique and data ranges disjoint. */
static int check_tensor_layout(struct cursor *c, struct gguf_file *f)
{
	const struct gguf_tensor **s;
	uint64_t i;
	int ret = 0;

	if (f->n_tensors < 2)
		return 0;
	s = malloc(f->n_tensors * sizeof(*s));
	if (!s)
		return fail(c, -ENOMEM, "out of memory");
	for (i = 0; i < f->n_tensors; i++)
		s[i] = &f->tensors[i];
	qsort(s, f->n_tensors, sizeof(*s), cmp_tensor_name);
	for (i = 1; i < f->n_tensors && !ret; i++)
		if (!cmp_str(&s[i - 1]->name, &s[i]->name))
			ret = fail(c, -EINVAL, "duplicate tensor name '%.*s'", (int)s[i]->name.len,
				   s[i]->name.ptr);
	qsort(s, f->n_tensors, sizeof(*s), cmp_tensor_offset);
	for (i = 1; i < f->n_tensors && !ret; i++)
		if (s[i - 1]->offset + s[i - 1]->size > s[i]->offset)
			ret = fail(c, -EINVAL, "tensors '%.*s' and '%.*s' overlap",
				   (int)s[i - 1]->name.len, s[i - 1]->name.ptr, (int)s[i]->name.len,
				   s[i]->name.ptr);
	free(s);
	return ret;
}

static int parse_header(struct cursor *c, struct gguf_file *f)
{
	int ret;

	ret = need(c, 4, "magic");
	if (ret)
		return ret;
	if (memcmp(c->base, GGUF_MAGIC, 4))
		return fail(c, -EINVAL, "not a GGUF file (bad magic)");
	c->pos = 4;
	ret = get_u32(c, &f->version, "version");
	if (ret)
		return ret;
	if (f->version == 1)
		return fail(c, -EINVAL, "GGUF version 1 is not supported (only 2 and 3)");
	if (f->version != 2 && f->version != 3)
		return fail(c, -EINVAL, "unsupported GGUF version %u%s", f->version,
			    f->version > 0xffff ? " (big-endian file?)" : "");
	ret = get_u64(c, &f->n_tensors, "tensor count");
	if (!ret)
		ret = get_u64(c, &f->n_kv, "metadata count");
	if (ret)
		return ret;
	/* a key/value needs >= 13 bytes, a tensor info >= 24 */
	if (f->n_kv > left(c) / 13)
		return fail(c, -EINVAL, "metadata count %llu cannot fit in a file of %zu bytes",
			    (unsigned long long)f->n_kv, c->end);
	if (f->n_tensors > left(c) / 24)
		return fail(c, -EINVAL, "tensor count %llu cannot fit in a file of %zu bytes",
			    (unsigned long long)f->n_tensors, c->end);
	return 0;
}

static int parse(struct cursor *c, struct gguf_file *f)
{
	uint64_t i;
	int ret;

	ret = parse_header(c, f);
	if (ret)
		return ret;
	f->kv = calloc(f->n_kv ? f->n_kv : 1, sizeof(*f->kv));
	f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof(*f->tensors));
	if (!f->kv || !f->tensors)
		return fail(c, -ENOMEM, "out of memory");
	for (i = 0; i < f->n_kv; i++) {
		ret = parse_kv(c, &f->kv[i], i);
		if (ret)
			return ret;
	}
	ret = check_duplicate_keys(c, f);
	if (!ret)
		ret = read_alignment(c, f);
	if (ret)
		return ret;
	for (i = 0; i < f->n_tensors; i++) {
		ret = parse_tensor_info(c, &f->tensors[i]);
		if (ret)
			return ret;
	}
	f->data_offset = (c->pos + f->alignment - 1) / f->alignment * f->alignment;
	for (i = 0; i < f->n_tensors; i++) {
		ret = size_tensor(c, f, &f->tensors[i]);
		if (ret)
			return ret;
	}
	return check_tensor_layout(c, f);
}

/* The file and whether gguf_close() unmaps it. */
struct gguf_handle {
	struct gguf_file f;
	bool mapped;
};

static int open_map(const uint8_t *map, size_t size, bool mapped, struct cursor *c,
		    struct gguf_file **out)
{
	struct gguf_handle *h;
	int ret;

	h = calloc(1, sizeof(*h));
	if (!h) {
		if (mapped)
			munmap((void *)map, size);
		return fail(c, -ENOMEM, "out of memory");
	}
	h->mapped = mapped;
	h->f.map = map;
	h->f.map_size = size;
	c->base = map;
	c->end = size;
	ret = parse(c, &h->f);
	if (ret) {
		gguf_close(&h->f);
		return ret;
	}
	*out = &h->f;
	return 0;
}

int gguf_open_buffer(const void *buf, size_t len, const char *name, struct gguf_file **out,
		     char *err, size_t errlen)
{
	struct cursor c = { .path = name, .err = err, .errlen = errlen };

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!buf || len < 24)
		return fail(&c, -EINVAL, "truncated: %zu bytes is shorter than a GGUF header",
			    buf ? len : 0);
	return open_map(buf, len, false, &c, out);
}

int gguf_open(const char *path, struct gguf_file **out, char *err, size_t errlen)
{
	struct cursor c = { .path = path, .err = err, .errlen = errlen };
	struct stat st;
	void *map;
	int fd, ret;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return fail(&c, ret, "%s", strerror(-ret));
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return fail(&c, ret, "%s", strerror(-ret));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(&c, -EINVAL, "not a regular file");
	}
	if (st.st_size < 24) {
		close(fd);
		return fail(&c, -EINVAL, "truncated: %lld bytes is shorter than a GGUF header",
			    (long long)st.st_size);
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ret = -errno;
	close(fd);
	if (map == MAP_FAILED)
		return fail(&c, ret, "mmap: %s", strerror(-ret));
	return open_map(map, st.st_size, true, &c, out);
}

void gguf_close(struct gguf_file *f)
{
	struct gguf_handle *h = (struct gguf_handle *)f;
	uint64_t i;

	if (!f)
		return;
	if (f->kv)
		for (i = 0; i < f->n_kv; i++)
			free(f->kv[i].elem_off);
	free(f->kv);
	free(f->tensors);
	if (h->mapped)
		munmap((void *)f->map, f->map_size);
	free(h);
}
