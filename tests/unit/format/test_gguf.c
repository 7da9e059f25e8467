// SPDX-License-Identifier: GPL-2.0
/*
 * GGUF reader on good files: every model and vocab in ../shared opens and
 * agrees with the independent ref/gguf_verify.json; typed getters; the
 * writer's output reads back identically for every value and tensor type,
 * with the sizes llama.cpp's ggml type traits give.
 */
#include <errno.h>
#include <glob.h>
#include <json-c/json.h>

#include "daemon/engine/gguf/gguf.h"
#include "tests/unit/format/fmt_test.h"
#include "tests/unit/format/gguf_build.h"

/* Tensor types bitnet reads, with block size and bytes per block. */
static const struct {
	uint32_t type;
	uint64_t block, bytes;
} sizes[] = {
	{ GGUF_T_F32, 1, 4 },	   { GGUF_T_F16, 1, 2 },      { GGUF_T_BF16, 1, 2 },
	{ GGUF_T_Q8_0, 32, 34 },   { GGUF_T_Q6_K, 256, 210 }, { GGUF_T_TQ1_0, 256, 54 },
	{ GGUF_T_TQ2_0, 256, 66 }, { GGUF_T_I2_S, 4, 1 },
};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static char tmpdir[256];

/*
 * The entry of @verify describing @path: by file name, or by the suffix
 * after the model name ("f16" for tiny-shakespeare-a-f16.gguf).
 */
static struct json_object *verify_entry(struct json_object *verify, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct json_object *e;
	char key[128];
	const char *dash = strrchr(base, '-');

	if (json_object_object_get_ex(verify, base, &e))
		return e;
	if (!dash)
		return NULL;
	snprintf(key, sizeof(key), "%s", dash + 1);
	if (strstr(key, ".gguf"))
		*strstr(key, ".gguf") = '\0';
	return json_object_object_get_ex(verify, key, &e) ? e : NULL;
}

static int64_t json_int(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x;

	if (json_object_object_get_ex(o, a, &x) || (b && json_object_object_get_ex(o, b, &x)))
		return json_object_get_int64(x);
	return -1;
}

/* Tensors of each type agree with the verify entry's counts. */
static bool type_counts_match(const struct gguf_file *f, struct json_object *e)
{
	struct json_object *counts;
	int n = 0;

	if (!json_object_object_get_ex(e, "tensor_type_counts (ggml type id)", &counts) &&
	    !json_object_object_get_ex(e, "types", &counts))
		return false;
	json_object_object_foreach(counts, key, val)
	{
		uint64_t i;
		int have = 0;

		for (i = 0; i < f->n_tensors; i++) {
			char id[16];

			snprintf(id, sizeof(id), "%u", f->tensors[i].type);
			if (!strcmp(key, id) || !strcmp(key, gguf_type_name(f->tensors[i].type)))
				have++;
		}
		if (have != json_object_get_int(val))
			return false;
		n += have;
	}
	return (uint64_t)n == f->n_tensors;
}

static bool tensors_sane(const struct gguf_file *f)
{
	uint64_t i, end = 0;

	for (i = 0; i < f->n_tensors; i++) {
		const struct gguf_tensor *t = &f->tensors[i];

		if ((const uint8_t *)t->data != f->map + f->data_offset + t->offset ||
		    t->offset % f->alignment || !t->size)
			return false;
		if (t->offset + t->size > end)
			end = t->offset + t->size;
	}
	return f->data_offset + end <= f->map_size;
}

static void good_files(glob_t *gp)
{
	glob_t g = *gp;
	char err[256];
	size_t i;

	if (!g.gl_pathc) {
		tap_skip("../shared/models missing", "model files open");
		return;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		char vpath[600];
		struct gguf_file *f = NULL;
		struct json_object *verify, *e;
		struct gguf_str arch;
		int ret;

		snprintf(vpath, sizeof(vpath), "%.*s/ref/gguf_verify.json",
			 (int)(strrchr(p, '/') - p), p);
		verify = json_object_from_file(vpath);
		e = verify ? verify_entry(verify, p) : NULL;
		ret = gguf_open(p, &f, err, sizeof(err));
		tap_ok(!ret && e && f->version == 3 &&
			       (int64_t)f->n_tensors == json_int(e, "n_tensors", "tensors") &&
			       type_counts_match(f, e) && tensors_sane(f) &&
			       !gguf_get_str(f, "general.architecture", &arch) && arch.len >= 6 &&
			       !memcmp(arch.ptr, "bitnet", 6) &&
			       gguf_find_tensor(f, "token_embd.weight"),
		       "%s opens, %llu tensors agree with gguf_verify.json %s", p,
		       f ? (unsigned long long)f->n_tensors : 0ull, ret ? err : "");
		gguf_close(f);
		json_object_put(verify);
	}
}

static void vocab_files(void)
{
	static const char *const names[] = { "ggml-vocab-llama-bpe.gguf",
					     "ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf" };
	static const uint64_t n_tok[] = { 128256, 32000, 50257 };
	char path[512], err[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		struct gguf_file *f = NULL;
		const struct gguf_kv *kv;
		struct gguf_str s;
		uint32_t u = 0;

		shared_path("vocab/", path, sizeof(path));
		strncat(path, names[i], sizeof(path) - strlen(path) - 1);
		if (!file_exists(path)) {
			tap_skip("../shared/vocab missing", "%s", names[i]);
			continue;
		}
		gguf_open(path, &f, err, sizeof(err));
		kv = f ? gguf_find(f, "tokenizer.ggml.tokens") : NULL;
		tap_ok(kv && f->n_tensors == 0 && kv->arr_n == n_tok[i] &&
			       !gguf_arr_str(kv, n_tok[i] - 1, &s) &&
			       gguf_arr_str(kv, n_tok[i], &s) == -ERANGE &&
			       !gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &u) && u > 0 &&
			       gguf_get_str(f, "tokenizer.ggml.eos_token_id", &s) == -EINVAL,
		       "%s: %llu tokens, no tensors, bounded array access", names[i],
		       kv ? (unsigned long long)kv->arr_n : 0ull);
		gguf_close(f);
	}
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

static const char *const strs[] = {
	"a",
	"",
	"\xc3\xbc"
	"n"
	"\xc3\xaf"
	"c"
	"\xc3\xb6"
	"d",
	"x y z",
};
static const int32_t ints[] = { -1, 0, 7, INT32_MAX };
static const float floats[] = { 0.5f, -2.0f, 1e-5f };
static const uint8_t u8 = 200, b1 = 1;
static const int8_t i8 = -5;
static const uint16_t u16 = 60000;
static const int16_t i16 = -30000;
static const uint32_t u32 = 4000000000u;
static const int32_t i32 = -7;
static const float f32 = 3.25f;
static const uint64_t u64 = 1ull << 40;
static const int64_t i64 = -(1ll << 40);
static const double f64 = 2.5;

/* One key of every value type; non-zero if any was refused. */
static int add_values(struct gguf_writer *w)
{
	return gguf_writer_kv_str(w, "general.architecture", "bitnet-b1.58") |
	       gguf_writer_kv(w, "t.u8", GGUF_V_UINT8, &u8) |
	       gguf_writer_kv(w, "t.i8", GGUF_V_INT8, &i8) |
	       gguf_writer_kv(w, "t.u16", GGUF_V_UINT16, &u16) |
	       gguf_writer_kv(w, "t.i16", GGUF_V_INT16, &i16) |
	       gguf_writer_kv(w, "t.u32", GGUF_V_UINT32, &u32) |
	       gguf_writer_kv(w, "t.i32", GGUF_V_INT32, &i32) |
	       gguf_writer_kv(w, "t.f32", GGUF_V_FLOAT32, &f32) |
	       gguf_writer_kv(w, "t.bool", GGUF_V_BOOL, &b1) |
	       gguf_writer_kv(w, "t.u64", GGUF_V_UINT64, &u64) |
	       gguf_writer_kv(w, "t.i64", GGUF_V_INT64, &i64) |
	       gguf_writer_kv(w, "t.f64", GGUF_V_FLOAT64, &f64) |
	       gguf_writer_kv_arr(w, "t.ints", GGUF_V_INT32, ints, 4) |
	       gguf_writer_kv_arr(w, "t.floats", GGUF_V_FLOAT32, floats, 3) |
	       gguf_writer_kv_arr(w, "t.empty", GGUF_V_INT32, NULL, 0) |
	       gguf_writer_kv_arr_str(w, "t.strs", strs, 4);
}

static uint64_t ne[N_SIZES][2];
static uint8_t *data[N_SIZES];

/* Bytes of test tensor @i, from the table above (not the reader's). */
static uint64_t tensor_bytes(size_t i)
{
	return ne[i][0] * ne[i][1] / sizes[i].block * sizes[i].bytes +
	       (sizes[i].type == GGUF_T_I2_S ? 32 : 0);
}

/* One tensor of every readable type; counts wrong-size refusals. */
static int add_tensors(struct gguf_writer *w, int *refused)
{
	int ret = 0;
	size_t i;

	for (i = 0; i < N_SIZES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t%zu.%s", i, gguf_type_name(sizes[i].type));
		ret |= gguf_writer_tensor(w, name, 2, ne[i], sizes[i].type, data[i],
					  tensor_bytes(i));
		if (refused)
			*refused += gguf_writer_tensor(w, "bad", 2, ne[i], sizes[i].type, data[i],
						       tensor_bytes(i) - 1) == -EINVAL;
	}
	return ret;
}

static bool check_values(const struct gguf_file *f)
{
	uint32_t got32;
	struct gguf_str s;
	float gf;
	bool bv;

	return f->alignment == 64 && f->n_kv == 17 && !gguf_get_u32(f, "t.u8", &got32) &&
	       got32 == u8 && gguf_get_u32(f, "t.i8", &got32) == -ERANGE &&
	       !gguf_get_u32(f, "t.u16", &got32) && got32 == u16 &&
	       gguf_get_u32(f, "t.i16", &got32) == -ERANGE && !gguf_get_u32(f, "t.u32", &got32) &&
	       got32 == u32 && gguf_get_u32(f, "t.u64", &got32) == -ERANGE &&
	       gguf_get_u32(f, "t.i32", &got32) == -ERANGE &&
	       gguf_get_u32(f, "t.f32", &got32) == -EINVAL &&
	       gguf_get_u32(f, "t.missing", &got32) == -ENOENT && !gguf_get_f32(f, "t.f32", &gf) &&
	       gf == f32 && !gguf_get_f32(f, "t.f64", &gf) && gf == 2.5f &&
	       !gguf_get_bool(f, "t.bool", &bv) && bv && gguf_get_bool(f, "t.u8", &bv) == -EINVAL &&
	       !gguf_get_str(f, "general.architecture", &s) && s.len == 12 &&
	       !memcmp(s.ptr, "bitnet-b1.58", 12) && !memcmp(gguf_find(f, "t.i64")->data, &i64, 8);
}

static bool check_arrays(const struct gguf_file *f)
{
	struct gguf_str s;
	int32_t gi;
	float gf;
	bool ok;
	size_t i;

	ok = !gguf_arr_i32(gguf_find(f, "t.ints"), 0, &gi) && gi == -1 &&
	     !gguf_arr_i32(gguf_find(f, "t.ints"), 3, &gi) && gi == INT32_MAX &&
	     gguf_arr_i32(gguf_find(f, "t.ints"), 4, &gi) == -ERANGE &&
	     !gguf_arr_f32(gguf_find(f, "t.floats"), 2, &gf) && gf == 1e-5f &&
	     gguf_arr_f32(gguf_find(f, "t.ints"), 0, &gf) == -EINVAL &&
	     gguf_arr_str(gguf_find(f, "t.ints"), 0, &s) == -EINVAL &&
	     gguf_find(f, "t.empty")->arr_n == 0 &&
	     gguf_arr_i32(gguf_find(f, "t.empty"), 0, &gi) == -ERANGE;
	for (i = 0; i < 4 && ok; i++)
		ok = !gguf_arr_str(gguf_find(f, "t.strs"), i, &s) && s.len == strlen(strs[i]) &&
		     !memcmp(s.ptr, strs[i], s.len);
	return ok;
}

static bool check_tensors(const struct gguf_file *f)
{
	size_t i;

	if (f->n_tensors != N_SIZES)
		return false;
	for (i = 0; i < N_SIZES; i++) {
		const struct gguf_tensor *t = &f->tensors[i];

		if (t->type != sizes[i].type || t->n_dims != 2 || t->ne[0] != ne[i][0] ||
		    t->ne[1] != ne[i][1] || t->size != tensor_bytes(i) || t->offset % 64 ||
		    memcmp(t->data, data[i], t->size)) {
			printf("# tensor %zu (%s) differs\n", i, gguf_type_name(sizes[i].type));
			return false;
		}
	}
	return true;
}

static void round_trip(void)
{
	char path[300], err[256];
	struct gguf_writer *w;
	struct gguf_file *f = NULL;
	int ret, refused = 0;
	size_t i;

	for (i = 0; i < N_SIZES; i++) {
		ne[i][0] = 256 * (i + 1);
		ne[i][1] = 3;
		data[i] = malloc(tensor_bytes(i));
		fill(data[i], tensor_bytes(i), i + 1);
	}
	/* refusals are remembered by the writer, so probe on a scratch one */
	w = gguf_writer_new(64);
	ret = add_values(w);
	tap_ok(!ret && gguf_writer_kv(w, "t.u8", GGUF_V_UINT8, &u8) == -EEXIST &&
		       gguf_writer_kv(w, "general.alignment", GGUF_V_UINT32, &u32) == -EINVAL &&
		       gguf_writer_write(w, "/nonexistent/x.gguf") == -EEXIST,
	       "writer takes every value type once, refuses repeated keys and fails later writes");
	gguf_writer_free(w);
	w = gguf_writer_new(64);
	ret = add_tensors(w, &refused);
	tap_ok(!ret && refused == N_SIZES && !gguf_writer_new(48),
	       "writer takes every readable tensor type, refuses wrong sizes and odd alignment");
	gguf_writer_free(w);

	snprintf(path, sizeof(path), "%s/rt.gguf", tmpdir);
	w = gguf_writer_new(64);
	ret = add_values(w) | add_tensors(w, NULL) | gguf_writer_write(w, path);
	gguf_writer_free(w);
	if (!ret)
		ret = gguf_open(path, &f, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "writer failed: %d", ret);
	if (ret)
		printf("# %s\n", err);
	tap_ok(!ret && check_values(f),
	       "round trip: every scalar type reads back; getters convert only what fits");
	tap_ok(!ret && check_arrays(f),
	       "round trip: int, float, empty and string arrays, bounds-checked");
	tap_ok(!ret && check_tensors(f),
	       "round trip: %zu tensors (F32 F16 BF16 Q8_0 Q6_K TQ1_0 TQ2_0 I2_S) keep "
	       "shape, type-trait size, 64-byte alignment and data",
	       N_SIZES);
	gguf_close(f);
	for (i = 0; i < N_SIZES; i++)
		free(data[i]);
	unlink(path);
}

/* A nested array (array of arrays) is valid GGUF and must be accepted. */
static void nested_array(void)
{
	char path[300], err[256];
	struct gguf_file *f = NULL;
	struct gbuf b = { 0 };
	uint32_t after = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/nested.gguf", tmpdir);
	gb_header(&b, 2, 0, 2); /* v2: same layout as v3 */
	gb_str(&b, "t.nested");
	gb_u32(&b, GGUF_V_ARRAY);
	gb_u32(&b, GGUF_V_ARRAY);
	gb_u64(&b, 2);
	gb_u32(&b, GGUF_V_STRING); /* [ ["ab"], [1, 2] ] */
	gb_u64(&b, 1);
	gb_str(&b, "ab");
	gb_u32(&b, GGUF_V_UINT16);
	gb_u64(&b, 2);
	gb_u32(&b, 0x00020001);
	gb_kv_u32(&b, "t.after", 42);
	gb_write(&b, b.len, path);
	ret = gguf_open(path, &f, err, sizeof(err));
	tap_ok(!ret && f->version == 2 && gguf_find(f, "t.nested")->arr_n == 2 &&
		       gguf_find(f, "t.nested")->size == 8 + 2 + 12 + 4 + 12 &&
		       !gguf_get_u32(f, "t.after", &after) && after == 42,
	       "GGUF v2 with an array of arrays is read and skipped exactly %s", ret ? err : "");
	gguf_close(f);
	free(b.p);
	unlink(path);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char pattern[512];
	glob_t g = { 0 };

	snprintf(tmpdir, sizeof(tmpdir), "%s/bn-gguf-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	shared_path("models/*/*.gguf", pattern, sizeof(pattern));
	if (glob(pattern, 0, NULL, &g))
		g.gl_pathc = 0;
	tap_plan((g.gl_pathc ? g.gl_pathc : 1) + 3 + 6);
	good_files(&g);
	globfree(&g);
	vocab_files();
	round_trip();
	nested_array();
	rmdir(tmpdir);
	return tap_exit();
}
