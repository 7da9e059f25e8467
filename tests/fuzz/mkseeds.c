// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the fuzzers' seed corpora: small GGUF files made with the writer
 * (a SentencePiece vocab, a byte-level BPE vocab, one tensor of every
 * readable type, a nested array) into <gguf-dir>, and the tokenizer test
 * texts of <inp-file>, each with a selector byte, into <tok-dir>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "tests/unit/format/gguf_build.h"

static int spm_vocab(const char *path)
{
	static const char *const toks[] = { "<unk>",
					    "<s>",
					    "</s>",
					    "\xe2\x96\x81",
					    "a",
					    "b",
					    "ab",
					    "\xe2\x96\x81"
					    "ab",
					    "<0x41>",
					    "<0xC3>" };
	static const float scores[] = { 0, 0, 0, -1, -2, -3, -1.5f, -0.5f, 0, 0 };
	static const int32_t types[] = { 2, 3, 3, 1, 1, 1, 1, 1, 6, 6 };
	struct gguf_writer *w = gguf_writer_new(32);
	uint32_t bos = 1, eos = 2;
	uint8_t yes = 1;
	int ret;

	ret = gguf_writer_kv_str(w, "general.architecture", "llama") |
	      gguf_writer_kv_str(w, "tokenizer.ggml.model", "llama") |
	      gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", toks, 10) |
	      gguf_writer_kv_arr(w, "tokenizer.ggml.scores", GGUF_V_FLOAT32, scores, 10) |
	      gguf_writer_kv_arr(w, "tokenizer.ggml.token_type", GGUF_V_INT32, types, 10) |
	      gguf_writer_kv(w, "tokenizer.ggml.bos_token_id", GGUF_V_UINT32, &bos) |
	      gguf_writer_kv(w, "tokenizer.ggml.eos_token_id", GGUF_V_UINT32, &eos) |
	      gguf_writer_kv(w, "tokenizer.ggml.add_bos_token", GGUF_V_BOOL, &yes) |
	      gguf_writer_write(w, path);
	gguf_writer_free(w);
	return ret;
}

static int bpe_vocab(const char *path)
{
	static const char *const merges[] = { "h e", "\xc4\xa0 t", "t he", "\xc4\xa0t he" };
	const char *toks[264];
	char chars[256][4];
	struct gguf_writer *w = gguf_writer_new(32);
	int i, ret;

	for (i = 0; i < 256; i++) {
		chars[i][utf8_encode(gpt2_byte_to_cp(i), chars[i])] = '\0';
		toks[i] = chars[i];
	}
	toks[256] = "he";
	toks[257] = "\xc4\xa0t";
	toks[258] = "the";
	toks[259] = "\xc4\xa0the";
	toks[260] = "<|begin_of_text|>";
	toks[261] = "<|eot_id|>";
	ret = gguf_writer_kv_str(w, "general.architecture", "llama") |
	      gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2") |
	      gguf_writer_kv_str(w, "tokenizer.ggml.pre", "llama-bpe") |
	      gguf_writer_kv_arr_str(w, "tokenizer.ggml.tokens", toks, 262) |
	      gguf_writer_kv_arr_str(w, "tokenizer.ggml.merges", merges, 4) |
	      gguf_writer_write(w, path);
	gguf_writer_free(w);
	return ret;
}

static int tensors(const char *path)
{
	static const uint32_t types[] = { GGUF_T_F32,  GGUF_T_F16,   GGUF_T_BF16,  GGUF_T_Q8_0,
					  GGUF_T_Q6_K, GGUF_T_TQ1_0, GGUF_T_TQ2_0, GGUF_T_I2_S };
	static const uint64_t sizes[] = { 1024, 512, 512, 272, 210, 54, 66, 96 };
	static uint8_t data[1024];
	struct gguf_writer *w = gguf_writer_new(32);
	int i, ret = gguf_writer_kv_str(w, "general.architecture", "bitnet-b1.58");

	for (i = 0; i < 8; i++) {
		uint64_t ne[2] = { 256, 1 };
		char name[16];

		snprintf(name, sizeof(name), "t%d", i);
		ret |= gguf_writer_tensor(w, name, 2, ne, types[i], data, sizes[i]);
	}
	ret |= gguf_writer_write(w, path);
	gguf_writer_free(w);
	return ret;
}

static int nested(const char *path)
{
	struct gbuf b = { 0 };
	int ret;

	gb_header(&b, 2, 0, 1);
	gb_str(&b, "k");
	gb_u32(&b, GGUF_V_ARRAY);
	gb_u32(&b, GGUF_V_ARRAY);
	gb_u64(&b, 1);
	gb_u32(&b, GGUF_V_STRING);
	gb_u64(&b, 1);
	gb_str(&b, "x");
	ret = gb_write(&b, b.len, path);
	free(b.p);
	return ret;
}

static int texts(const char *inp, const char *dir)
{
	static const char sep[] = "\n__ggml_vocab_test__\n";
	char *all = NULL, *c, *end, path[1024];
	size_t len = 0;
	int i = 0;
	FILE *fp = fopen(inp, "rb");

	if (!fp) {
		fprintf(stderr, "no text seeds: %s missing\n", inp);
		return 0;
	}
	if (getdelim(&all, &len, '\0', fp) < 0) {
		fclose(fp);
		free(all);
		return -1;
	}
	fclose(fp);
	for (c = all; (end = strstr(c, sep)); c = end + strlen(sep), i++) {
		uint8_t sel = i % 16;

		snprintf(path, sizeof(path), "%s/case%02d", dir, i);
		fp = fopen(path, "wb");
		if (!fp)
			break;
		fwrite(&sel, 1, 1, fp);
		fwrite(c, 1, end - c, fp);
		fclose(fp);
	}
	free(all);
	return i ? 0 : -1;
}

int main(int argc, char **argv)
{
	char path[1024];
	int ret = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s <gguf-dir> <tok-dir> <inp-file>\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/spm.gguf", argv[1]);
	ret |= spm_vocab(path);
	snprintf(path, sizeof(path), "%s/bpe.gguf", argv[1]);
	ret |= bpe_vocab(path);
	snprintf(path, sizeof(path), "%s/tensors.gguf", argv[1]);
	ret |= tensors(path);
	snprintf(path, sizeof(path), "%s/nested.gguf", argv[1]);
	ret |= nested(path);
	ret |= texts(argv[3], argv[2]);
	if (ret)
		fprintf(stderr, "%s: could not write every seed\n", argv[0]);
	return ret ? 1 : 0;
}
