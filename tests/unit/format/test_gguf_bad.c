// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed GGUF files: each must fail to open with a message that names
 * the problem, never crash or over-read (run under ASan or valgrind).
 * Truncation at every offset of a writer-made file, then hand-made files
 * with one defect each.
 */
#include <errno.h>

#include "daemon/engine/gguf/gguf.h"
#include "tests/unit/format/fmt_test.h"
#include "tests/unit/format/gguf_build.h"

static char tmpdir[256], path[300];

/*
 * Opens @len bytes of @b; true if it failed, named the problem (@expect)
 * and returned no file.
 */
static bool fails_with(const struct gbuf *b, size_t len, const char *expect, char *err,
		       size_t errlen)
{
	struct gguf_file *f = (void *)1;
	int ret;

	if (gb_write(b, len, path))
		return false;
	ret = gguf_open(path, &f, err, errlen);
	if (!ret)
		gguf_close(f);
	return ret < 0 && !f && strstr(err, path) && strstr(err, expect);
}

static struct gbuf writer_file(void)
{
	static const char *const toks[] = { "<unk>", "a", "b", "ab" };
	uint64_t ne_f32[2] = { 8, 2 }, ne_q8[2] = { 32, 2 }, ne_i2[2] = { 128, 1 };
	uint8_t data[256] = { 0 };
	struct gguf_writer *w = gguf_writer_new(32);
	struct gbuf b = { 0 };
	uint32_t n = 7;
	char *bytes;
	size_t len;

	gguf_writer_kv_str(w, "general.architecture", "bitnet");
	gguf_writer_kv(w, "bitnet.block_count", GGUF_V_UINT32, &n);
	gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
	gguf_writer_tensor(w, "a", 2, ne_f32, GGUF_T_F32, data, 64);
	gguf_writer_tensor(w, "b", 2, ne_q8, GGUF_T_Q8_0, data, 68);
	gguf_writer_tensor(w, "c", 2, ne_i2, GGUF_T_I2_S, data, 64);
	gguf_writer_write(w, path);
	gguf_writer_free(w);
	bytes = slurp(path, &len);
	if (bytes)
		gb_put(&b, bytes, len);
	free(bytes);
	return b;
}

static void truncations(void)
{
	struct gbuf b = writer_file();
	char err[512], first_bad[600] = "";
	struct gguf_file *f = NULL;
	size_t cut, bad = 0;
	bool whole_ok;

	whole_ok = b.len > 0 && !gguf_open(path, &f, err, sizeof(err)) && f->n_tensors == 3;
	gguf_close(f);
	tap_ok(whole_ok, "the uncut file (%zu bytes) opens", b.len);
	for (cut = 0; cut < b.len; cut++) {
		if (fails_with(&b, cut, "truncated", err, sizeof(err)) ||
		    fails_with(&b, cut, "exceeds", err, sizeof(err)) ||
		    fails_with(&b, cut, "cannot fit", err, sizeof(err)) ||
		    fails_with(&b, cut, "past the end", err, sizeof(err)))
			continue;
		if (!bad++)
			snprintf(first_bad, sizeof(first_bad), "cut at %zu: '%s'", cut, err);
	}
	tap_ok(b.len && !bad, "truncated at each of %zu offsets: an error naming it %s", b.len,
	       first_bad);
	free(b.p);
}

struct bad_case {
	const char *what;
	const char *expect;
	void (*build)(struct gbuf *b);
};

static void bad_magic(struct gbuf *b)
{
	gb_put(b, "GGML", 4);
	gb_u32(b, 3);
	gb_u64(b, 0);
	gb_u64(b, 0);
}

static void version1(struct gbuf *b)
{
	gb_header(b, 1, 0, 0);
}
static void version4(struct gbuf *b)
{
	gb_header(b, 4, 0, 0);
}
static void big_endian(struct gbuf *b)
{
	gb_header(b, 3u << 24, 0, 0);
}
static void huge_kv(struct gbuf *b)
{
	gb_header(b, 3, 0, 1ull << 62);
}
static void huge_tensors(struct gbuf *b)
{
	gb_header(b, 3, 1ull << 61, 0);
}

static void huge_string(struct gbuf *b)
{
	gb_header(b, 3, 0, 1);
	gb_u64(b, 1ull << 63); /* key length */
	gb_zeros(b, 32);
}

/* A v3 file of one key-value "k" of @type; its value is for the caller. */
static void one_key(struct gbuf *b, uint32_t type)
{
	gb_header(b, 3, 0, 1);
	gb_str(b, "k");
	gb_u32(b, type);
}

static void huge_value_string(struct gbuf *b)
{
	one_key(b, GGUF_V_STRING);
	gb_u64(b, UINT64_MAX);
}

static void unknown_value_type(struct gbuf *b)
{
	one_key(b, 13);
	gb_u64(b, 0);
}

static void huge_array(struct gbuf *b)
{
	one_key(b, GGUF_V_ARRAY);
	gb_u32(b, GGUF_V_UINT64);
	gb_u64(b, 1ull << 61);
	gb_u64(b, 0);
}

static void huge_string_array(struct gbuf *b)
{
	one_key(b, GGUF_V_ARRAY);
	gb_u32(b, GGUF_V_STRING);
	gb_u64(b, 1ull << 40);
	gb_str(b, "x");
}

static void unknown_array_type(struct gbuf *b)
{
	one_key(b, GGUF_V_ARRAY);
	gb_u32(b, 77);
	gb_u64(b, 1);
	gb_u64(b, 0);
}

static void deep_arrays(struct gbuf *b)
{
	int i;

	one_key(b, GGUF_V_ARRAY);
	for (i = 0; i < 20; i++) {
		gb_u32(b, GGUF_V_ARRAY);
		gb_u64(b, 1);
	}
	gb_u32(b, GGUF_V_UINT8);
	gb_u64(b, 1);
	gb_u64(b, 0);
}

static void empty_key(struct gbuf *b)
{
	gb_header(b, 3, 0, 1);
	gb_kv_u32(b, "", 1);
}

static void nul_in_key(struct gbuf *b)
{
	gb_header(b, 3, 0, 1);
	gb_u64(b, 3);
	gb_put(b, "a\0b", 3);
	gb_u32(b, GGUF_V_UINT8);
	gb_put(b, "x", 1);
	gb_zeros(b, 8);
}

static void duplicate_key(struct gbuf *b)
{
	gb_header(b, 3, 0, 3);
	gb_kv_u32(b, "a.b", 1);
	gb_kv_u32(b, "c", 1);
	gb_kv_u32(b, "a.b", 2);
}

static void alignment_zero(struct gbuf *b)
{
	gb_header(b, 3, 0, 1);
	gb_kv_u32(b, "general.alignment", 0);
}

static void alignment_odd(struct gbuf *b)
{
	gb_header(b, 3, 0, 1);
	gb_kv_u32(b, "general.alignment", 48);
}

static void alignment_string(struct gbuf *b)
{
	gb_header(b, 3, 0, 1);
	gb_kv_str(b, "general.alignment", "32");
}

/* a file with the given tensor infos and @data_len bytes of data */
static void with_tensors(struct gbuf *b, const char *arch, int n, const char *const *names,
			 const uint32_t *n_dims, const uint64_t (*ne)[5], const uint32_t *types,
			 const uint64_t *offs, size_t data_len)
{
	int i;

	gb_header(b, 3, n, 1);
	gb_kv_str(b, "general.architecture", arch);
	for (i = 0; i < n; i++)
		gb_tensor(b, names[i], n_dims[i], ne[i], types[i], offs[i]);
	gb_pad(b, 32);
	gb_zeros(b, data_len);
}

#define ONE_TENSOR(fn, arch, nd, type, off, len, ...)                                  \
	static void fn(struct gbuf *b)                                                 \
	{                                                                              \
		static const char *const names[] = { "w" };                            \
		static const uint32_t dims[] = { nd }, types[] = { type };             \
		static const uint64_t ne[][5] = { { __VA_ARGS__ } }, offs[] = { off }; \
		with_tensors(b, arch, 1, names, dims, ne, types, offs, len);           \
	}

ONE_TENSOR(too_many_dims, "llama", 5, 0, 0, 64, 1, 1, 1, 1, 1)
ONE_TENSOR(tl2_bitnet, "bitnet-b1.58", 2, 39, 0, 1024, 256, 4)
ONE_TENSOR(mxfp4_llama, "llama", 2, 39, 0, 1024, 256, 4)
/* 256 x 4 in MXFP4 is 32 blocks of 17 bytes: 544 */
ONE_TENSOR(mxfp4_bitnet, "bitnet", 2, 39, 0, 544, 256, 4)
ONE_TENSOR(q4_0, "llama", 2, 2, 0, 1024, 256, 4)
ONE_TENSOR(type_200, "llama", 1, 200, 0, 64, 32)
ONE_TENSOR(misaligned, "llama", 1, 0, 4, 256, 32)
ONE_TENSOR(past_end, "llama", 1, 0, 0, 127, 32)
ONE_TENSOR(offset_past_end, "llama", 1, 0, 1ull << 62, 256, 32)
ONE_TENSOR(partial_block, "llama", 2, 8, 0, 1024, 33, 2)
ONE_TENSOR(zero_dim, "llama", 2, 0, 0, 64, 32, 0)
ONE_TENSOR(dim_overflow, "llama", 3, 0, 0, 64, 1ull << 40, 1ull << 40, 1ull << 40)
ONE_TENSOR(i2s_odd_row, "bitnet", 1, 36, 0, 64, 30)

static void nul_in_name(struct gbuf *b)
{
	static const char *const names[] = { "" };
	static const uint32_t dims[] = { 1 }, types[] = { 0 };
	static const uint64_t ne[][5] = { { 32 } }, offs[] = { 0 };

	with_tensors(b, "llama", 1, names, dims, ne, types, offs, 128);
}

static void overlapping(struct gbuf *b)
{
	static const char *const names[] = { "x", "y" };
	static const uint32_t dims[] = { 1, 1 }, types[] = { 0, 0 };
	static const uint64_t ne[][5] = { { 32 }, { 32 } }, offs[] = { 0, 96 };

	with_tensors(b, "llama", 2, names, dims, ne, types, offs, 512);
}

static void duplicate_tensor(struct gbuf *b)
{
	static const char *const names[] = { "x", "x" };
	static const uint32_t dims[] = { 1, 1 }, types[] = { 0, 0 };
	static const uint64_t ne[][5] = { { 32 }, { 32 } }, offs[] = { 0, 128 };

	with_tensors(b, "llama", 2, names, dims, ne, types, offs, 512);
}

static void short_header(struct gbuf *b)
{
	gb_put(b, "GGUF", 4);
	gb_u32(b, 3);
}

static const struct bad_case cases[] = {
	{ "bad magic", "bad magic", bad_magic },
	{ "version 1", "version 1", version1 },
	{ "version 4", "unsupported GGUF version 4", version4 },
	{ "byte-swapped version", "big-endian", big_endian },
	{ "huge metadata count", "metadata count", huge_kv },
	{ "huge tensor count", "tensor count", huge_tensors },
	{ "key length past the end", "string length", huge_string },
	{ "value string length 2^64-1", "string length", huge_value_string },
	{ "unknown value type", "unknown value type 13", unknown_value_type },
	{ "2^61 uint64 array", "cannot fit", huge_array },
	{ "2^40 string array", "cannot fit", huge_string_array },
	{ "unknown array element type", "unknown array element type 77", unknown_array_type },
	{ "arrays nested 21 deep", "nested deeper", deep_arrays },
	{ "empty key", "empty key", empty_key },
	{ "duplicate key", "duplicate metadata key 'a.b'", duplicate_key },
	{ "NUL in a key", "key contains a NUL byte", nul_in_key },
	{ "empty tensor name", "empty or contains a NUL byte", nul_in_name },
	{ "alignment 0", "not a power of two", alignment_zero },
	{ "alignment 48", "not a power of two", alignment_odd },
	{ "alignment as a string", "general.alignment is not", alignment_string },
	{ "5 dimensions", "5 dimensions", too_many_dims },
	{ "type 39 in a bitnet file", "TL2", tl2_bitnet },
	{ "type 39 in a llama file", "MXFP4", mxfp4_llama },
	{ "type 39 in a bitnet file, MXFP4-sized", "MXFP4", mxfp4_bitnet },
	{ "Q4_0 tensor", "type Q4_0 (2) is not one bitnet can read", q4_0 },
	{ "type 200", "type 200 (unknown)", type_200 },
	{ "misaligned offset", "not a multiple of the alignment", misaligned },
	{ "data past the end", "past the end", past_end },
	{ "offset 2^62", "past the end", offset_past_end },
	{ "Q8_0 row of 33", "whole number of Q8_0 blocks", partial_block },
	{ "zero dimension", "zero dimension", zero_dim },
	{ "2^120 elements", "overflows", dim_overflow },
	{ "I2_S row of 30", "whole number of I2_S blocks", i2s_odd_row },
	{ "overlapping tensors", "'x' and 'y' overlap", overlapping },
	{ "duplicate tensor name", "duplicate tensor name 'x'", duplicate_tensor },
	{ "12-byte file", "shorter than a GGUF header", short_header },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void not_files(void)
{
	struct gguf_file *f = (void *)1;
	char err[256];
	int ret;

	ret = gguf_open("/nonexistent/bitnet.gguf", &f, err, sizeof(err));
	tap_ok(ret == -ENOENT && !f && strstr(err, "No such file"), "a missing file is -ENOENT: %s",
	       err);
	ret = gguf_open(tmpdir, &f, err, sizeof(err));
	tap_ok(ret == -EINVAL && !f && strstr(err, "not a regular file"), "a directory: %s", err);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char err[512];
	size_t i;

	snprintf(tmpdir, sizeof(tmpdir), "%s/bn-gguf-bad-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/bad.gguf", tmpdir);
	tap_plan(2 + N_CASES + 2);
	truncations();
	for (i = 0; i < N_CASES; i++) {
		struct gbuf b = { 0 };

		cases[i].build(&b);
		err[0] = '\0';
		tap_ok(fails_with(&b, b.len, cases[i].expect, err, sizeof(err)), "%s: %s",
		       cases[i].what, err);
		free(b.p);
	}
	not_files();
	unlink(path);
	rmdir(tmpdir);
	return tap_exit();
}
