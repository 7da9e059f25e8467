// SPDX-License-Identifier: GPL-2.0
/*
 * Lookups and typed access to an opened GGUF file. The reader has checked
 * every value's extent already; these check types and indices.
 */
#include <errno.h>
#include <string.h>

#include "daemon/engine/gguf/gguf_priv.h"

static bool str_eq(const struct gguf_str *s, const char *c)
{
	size_t n = strlen(c);

	return s->len == n && !memcmp(s->ptr, c, n);
}

const struct gguf_kv *gguf_find(const struct gguf_file *f, const char *key)
{
	uint64_t i;

	for (i = 0; i < f->n_kv; i++)
		if (f->kv[i].key.ptr && str_eq(&f->kv[i].key, key))
			return &f->kv[i];
	return NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name)
{
	uint64_t i;

	for (i = 0; i < f->n_tensors; i++)
		if (str_eq(&f->tensors[i].name, name))
			return &f->tensors[i];
	return NULL;
}

/* Reads an integer of any width: into @sv if signed, else @uv. */
static int read_int(uint32_t type, const uint8_t *p, int64_t *sv, uint64_t *uv, bool *is_signed)
{
	uint16_t u16;
	int16_t i16;
	uint32_t u32;
	int32_t i32;

	*is_signed = type == GGUF_V_INT8 || type == GGUF_V_INT16 || type == GGUF_V_INT32 ||
		     type == GGUF_V_INT64;
	switch (type) {
	case GGUF_V_UINT8:
		*uv = *p;
		break;
	case GGUF_V_INT8:
		*sv = (int8_t)*p;
		break;
	case GGUF_V_UINT16:
		memcpy(&u16, p, 2);
		*uv = u16;
		break;
	case GGUF_V_INT16:
		memcpy(&i16, p, 2);
		*sv = i16;
		break;
	case GGUF_V_UINT32:
		memcpy(&u32, p, 4);
		*uv = u32;
		break;
	case GGUF_V_INT32:
		memcpy(&i32, p, 4);
		*sv = i32;
		break;
	case GGUF_V_UINT64:
		memcpy(uv, p, 8);
		break;
	case GGUF_V_INT64:
		memcpy(sv, p, 8);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *v)
{
	const struct gguf_kv *kv = gguf_find(f, key);
	int64_t sv = 0;
	uint64_t uv = 0;
	bool sgn;

	if (!kv)
		return -ENOENT;
	if (read_int(kv->type, kv->data, &sv, &uv, &sgn))
		return -EINVAL;
	if (sgn) {
		if (sv < 0)
			return -ERANGE;
		uv = sv;
	}
	if (uv > UINT32_MAX)
		return -ERANGE;
	*v = uv;
	return 0;
}

int gguf_get_f32(const struct gguf_file *f, const char *key, float *v)
{
	const struct gguf_kv *kv = gguf_find(f, key);

	if (!kv)
		return -ENOENT;
	if (kv->type == GGUF_V_FLOAT32) {
		memcpy(v, kv->data, 4);
	} else if (kv->type == GGUF_V_FLOAT64) {
		double d;

		memcpy(&d, kv->data, 8);
		*v = (float)d;
	} else {
		return -EINVAL;
	}
	return 0;
}

int gguf_get_bool(const struct gguf_file *f, const char *key, bool *v)
{
	const struct gguf_kv *kv = gguf_find(f, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != GGUF_V_BOOL)
		return -EINVAL;
	*v = kv->data[0] != 0;
	return 0;
}

int gguf_get_str(const struct gguf_file *f, const char *key, struct gguf_str *v)
{
	const struct gguf_kv *kv = gguf_find(f, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != GGUF_V_STRING)
		return -EINVAL;
	memcpy(&v->len, kv->data, 8);
	v->ptr = (const char *)kv->data + 8;
	return 0;
}

int gguf_arr_str(const struct gguf_kv *kv, uint64_t i, struct gguf_str *v)
{
	const uint8_t *p;

	if (kv->type != GGUF_V_ARRAY || kv->arr_type != GGUF_V_STRING || !kv->elem_off)
		return -EINVAL;
	if (i >= kv->arr_n)
		return -ERANGE;
	p = kv->data + kv->elem_off[i];
	memcpy(&v->len, p, 8);
	v->ptr = (const char *)p + 8;
	return 0;
}

int gguf_arr_f32(const struct gguf_kv *kv, uint64_t i, float *v)
{
	if (kv->type != GGUF_V_ARRAY || kv->arr_type != GGUF_V_FLOAT32)
		return -EINVAL;
	if (i >= kv->arr_n)
		return -ERANGE;
	memcpy(v, kv->data + i * 4, 4);
	return 0;
}

int gguf_arr_i32(const struct gguf_kv *kv, uint64_t i, int32_t *v)
{
	size_t sz;
	int64_t sv = 0;
	uint64_t uv = 0;
	bool sgn;

	if (kv->type != GGUF_V_ARRAY)
		return -EINVAL;
	sz = gguf_scalar_size(kv->arr_type);
	if (!sz || kv->arr_type == GGUF_V_FLOAT32 || kv->arr_type == GGUF_V_FLOAT64 ||
	    kv->arr_type == GGUF_V_BOOL)
		return -EINVAL;
	if (i >= kv->arr_n)
		return -ERANGE;
	read_int(kv->arr_type, kv->data + i * sz, &sv, &uv, &sgn);
	if (!sgn) {
		if (uv > INT32_MAX)
			return -ERANGE;
		sv = uv;
	}
	if (sv < INT32_MIN || sv > INT32_MAX)
		return -ERANGE;
	*v = sv;
	return 0;
}
