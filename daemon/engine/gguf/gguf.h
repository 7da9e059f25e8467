/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GGUF v2/v3 reader. The file is mmapped read-only; every offset, count,
 * size and string length is checked against the file before use, so a
 * malformed file is an error message, never an over-read.
 */
#ifndef BITNET_GGUF_H
#define BITNET_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ggml type ids as stored in GGUF tensor infos */
enum gguf_tensor_type {
	GGUF_T_F32 = 0,
	GGUF_T_F16 = 1,
	GGUF_T_Q8_0 = 8,
	GGUF_T_Q4_K = 12,
	GGUF_T_Q5_K = 13,
	GGUF_T_Q6_K = 14,
	GGUF_T_BF16 = 30,
	GGUF_T_TQ1_0 = 34,
	GGUF_T_TQ2_0 = 35,
	GGUF_T_I2_S = 36, /* bitnet.cpp; size n/4 + 32 */
};

enum gguf_value_type {
	GGUF_V_UINT8 = 0,
	GGUF_V_INT8,
	GGUF_V_UINT16,
	GGUF_V_INT16,
	GGUF_V_UINT32,
	GGUF_V_INT32,
	GGUF_V_FLOAT32,
	GGUF_V_BOOL,
	GGUF_V_STRING,
	GGUF_V_ARRAY,
	GGUF_V_UINT64,
	GGUF_V_INT64,
	GGUF_V_FLOAT64,
};

struct gguf_str {
	const char *ptr; /* not NUL-terminated: points into the map */
	uint64_t len;
};

struct gguf_kv {
	struct gguf_str key;
	enum gguf_value_type type;
	/* arrays */
	enum gguf_value_type arr_type;
	uint64_t arr_n;
	const uint8_t *data; /* the value's bytes in the map */
	uint64_t size;	     /* bytes of the value */
	/* string arrays: offset of each element in @data (reader-private) */
	uint64_t *elem_off;
};

struct gguf_tensor {
	struct gguf_str name;
	uint32_t n_dims;
	uint64_t ne[4];	  /* ne[0] is the innermost (row length) */
	uint32_t type;	  /* ggml type id, maybe unknown */
	uint64_t offset;  /* relative to the data section */
	uint64_t size;	  /* bytes, computed from type and shape */
	const void *data; /* in the map */
};

struct gguf_file {
	uint32_t version;
	uint64_t n_kv;
	uint64_t n_tensors;
	uint32_t alignment;
	struct gguf_kv *kv;
	struct gguf_tensor *tensors;
	const uint8_t *map;
	size_t map_size;
	size_t data_offset;
};

/* Opens and validates; on error fills @err ("<path>: what is wrong"). */
int gguf_open(const char *path, struct gguf_file **out, char *err, size_t errlen);
void gguf_close(struct gguf_file *f);
/*
 * The same on @len bytes in memory, which are not copied and must outlive
 * the file; @name stands for the path in messages.
 */
int gguf_open_buffer(const void *buf, size_t len, const char *name, struct gguf_file **out,
		     char *err, size_t errlen);

const struct gguf_kv *gguf_find(const struct gguf_file *f, const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name);
/*
 * Typed getters: -ENOENT if absent, -EINVAL on a type mismatch. Integers
 * of any width convert when the value fits, else -ERANGE.
 */
int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *v);
int gguf_get_f32(const struct gguf_file *f, const char *key, float *v);
int gguf_get_bool(const struct gguf_file *f, const char *key, bool *v);
int gguf_get_str(const struct gguf_file *f, const char *key, struct gguf_str *v);
/* Array element access (bounds-checked). */
int gguf_arr_str(const struct gguf_kv *kv, uint64_t i, struct gguf_str *v);
int gguf_arr_f32(const struct gguf_kv *kv, uint64_t i, float *v);
int gguf_arr_i32(const struct gguf_kv *kv, uint64_t i, int32_t *v);
/* Name of a tensor type id, "type <n>" style for unknown ones. */
const char *gguf_type_name(uint32_t type);

/* Writer (bitnet-mkmodel, tests). */
struct gguf_writer;
struct gguf_writer *gguf_writer_new(uint32_t alignment);
int gguf_writer_kv(struct gguf_writer *w, const char *key, enum gguf_value_type type,
		   const void *val);
int gguf_writer_kv_str(struct gguf_writer *w, const char *key, const char *s);
int gguf_writer_kv_arr(struct gguf_writer *w, const char *key, enum gguf_value_type type,
		       const void *vals, uint64_t n);
int gguf_writer_kv_arr_str(struct gguf_writer *w, const char *key, const char *const *strs,
			   uint64_t n);
/* An entry of a file being read, as it is (general.alignment is skipped). */
int gguf_writer_kv_copy(struct gguf_writer *w, const struct gguf_kv *kv);
int gguf_writer_tensor(struct gguf_writer *w, const char *name, uint32_t n_dims, const uint64_t *ne,
		       uint32_t type, const void *data, uint64_t size);
int gguf_writer_write(struct gguf_writer *w, const char *path);
void gguf_writer_free(struct gguf_writer *w);

#endif /* BITNET_GGUF_H */
