// SPDX-License-Identifier: GPL-2.0
/*
 * Tokenizer exactness: llama.cpp's 46 test cases for each vocab in
 * ../shared/vocab (LLaMA-3 BPE, LLaMA-2 SentencePiece, GPT-2), the expected
 * ids of the tiny models' reference prompts, and encode/decode round trips.
 */
#include <errno.h>
#include <json-c/json.h>

#include "daemon/engine/tokenizer/vocab.h"
#include "tests/unit/format/fmt_test.h"
#include "tests/unit/format/vocab_test.h"

#define N_CASES 46
#define SEP "\n__ggml_vocab_test__\n"

static const char *const models[] = {
	"tiny-shakespeare-a/tiny-shakespeare-a-f16.gguf",
	"tiny-shakespeare-c-b158/tiny-shakespeare-c-b158-i2_s.gguf",
};
static const char *const model_refs[] = {
	"tiny-shakespeare-a/ref/reference.json",
	"tiny-shakespeare-c-b158/ref/reference.json",
};

#define N_PROMPTS 3
/* per vocab: cases, load, round trip; per model: prompts */
#define PLAN (3 * (N_CASES + 2) + 2 * N_PROMPTS + 3)

static void print_ids(const char *what, const int32_t *ids, int n)
{
	int i;

	printf("#   %s:", what);
	for (i = 0; i < n; i++)
		printf(" %d", ids[i]);
	printf("\n");
}

static bool same_ids(const int32_t *a, int na, const int32_t *b, int nb)
{
	return na == nb && !memcmp(a, b, na * sizeof(*a));
}

/* Parses " 1 2 3" into ids; returns the count. */
static int parse_ids(const char *line, size_t len, int32_t *ids, int max)
{
	char buf[8192];
	char *p = buf, *end;
	int n = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (;;) {
		long v = strtol(p, &end, 10);

		if (end == p || n >= max)
			break;
		ids[n++] = v;
		p = end;
	}
	return n;
}

static void run_vocab(const char *name)
{
	char path[512], inp_path[600], out_path[600], err[256];
	char *inp = NULL, *out = NULL, *c, *line;
	struct bn_vocab *v = NULL;
	int32_t ids[4096], want[4096];
	int i, round_trip_bad = 0;
	bool bytes = strstr(name, "spm") == NULL;

	shared_path("vocab/", path, sizeof(path));
	snprintf(inp_path, sizeof(inp_path), "%s%s.inp", path, name);
	snprintf(out_path, sizeof(out_path), "%s%s.out", path, name);
	strncat(path, name, sizeof(path) - strlen(path) - 1);
	if (!file_exists(path) || !file_exists(inp_path) || !file_exists(out_path)) {
		for (i = 0; i < N_CASES + 2; i++)
			tap_skip("../shared/vocab missing", "%s", name);
		return;
	}
	tap_ok(!bn_vocab_load(path, &v, err, sizeof(err)), "%s loads %s", name, v ? "" : err);
	inp = slurp(inp_path, NULL);
	out = slurp(out_path, NULL);
	c = inp;
	line = out;
	for (i = 0; i < N_CASES; i++) {
		char *sep = c ? strstr(c, SEP) : NULL;
		char *eol = line ? strchr(line, '\n') : NULL;
		int n = -1, nw;

		if (!v || !sep || !eol) {
			tap_ok(false, "%s case %d: vocab or case files unusable", name, i);
			continue;
		}
		nw = parse_ids(line, eol - line, want, 4096);
		n = bn_tokenize(v, c, sep - c, false, false, ids, 4096);
		if (!tap_ok(n >= 0 && same_ids(ids, n, want, nw), "%s case %d (%zu bytes)", name, i,
			    (size_t)(sep - c))) {
			printf("#   text: '%.*s'\n", (int)(sep - c), c);
			print_ids("want", want, nw);
			print_ids("got ", ids, n);
		}
		if (bytes && n >= 0 && !test_decodes_to(v, ids, n, c, sep - c))
			round_trip_bad++;
		c = sep + strlen(SEP);
		line = eol + 1;
	}
	if (bytes)
		tap_ok(v && round_trip_bad == 0,
		       "%s: every case's token bytes give its text back (%d differ)", name,
		       round_trip_bad);
	else
		tap_ok(v && bn_vocab_add_bos(v) && bn_vocab_bos(v) == 1,
		       "%s: adds BOS 1 by default", name);
	free(inp);
	free(out);
	bn_vocab_free(v);
}

static void run_model(const char *model, const char *ref)
{
	char path[512], ref_path[512], err[256];
	struct json_object *root = NULL, *prompts = NULL;
	struct bn_vocab *v = NULL;
	int32_t ids[1024], want[1024];
	int i;

	shared_path("models/", path, sizeof(path));
	strncat(path, model, sizeof(path) - strlen(path) - 1);
	shared_path("models/", ref_path, sizeof(ref_path));
	strncat(ref_path, ref, sizeof(ref_path) - strlen(ref_path) - 1);
	if (!file_exists(path) || !file_exists(ref_path)) {
		for (i = 0; i < N_PROMPTS; i++)
			tap_skip("../shared/models missing", "%s prompt %d", model, i);
		return;
	}
	if (bn_vocab_load(path, &v, err, sizeof(err)))
		printf("# %s\n", err);
	root = json_object_from_file(ref_path);
	if (root)
		json_object_object_get_ex(root, "prompts", &prompts);
	for (i = 0; i < N_PROMPTS; i++) {
		struct json_object *p = prompts ? json_object_array_get_idx(prompts, i) : NULL;
		struct json_object *jt, *ji;
		const char *text;
		int n, nw, k;

		if (!v || !p || !json_object_object_get_ex(p, "text", &jt) ||
		    !json_object_object_get_ex(p, "ids", &ji)) {
			tap_ok(false, "%s prompt %d: vocab or reference unusable", model, i);
			continue;
		}
		text = json_object_get_string(jt);
		nw = json_object_array_length(ji);
		for (k = 0; k < nw && k < 1024; k++)
			want[k] = json_object_get_int(json_object_array_get_idx(ji, k));
		n = bn_tokenize(v, text, strlen(text), true, false, ids, 1024);
		if (!tap_ok(n >= 0 && same_ids(ids, n, want, nw), "%s prompt %d with BOS", model,
			    i)) {
			print_ids("want", want, nw);
			print_ids("got ", ids, n);
		}
	}
	json_object_put(root);
	bn_vocab_free(v);
}

/* Small API checks that need no reference data beyond one vocab. */
static void run_api(void)
{
	char path[512], err[256];
	struct bn_vocab *v = NULL;
	int32_t ids[64];
	int n, eot;

	shared_path("vocab/ggml-vocab-llama-bpe.gguf", path, sizeof(path));
	if (!file_exists(path)) {
		tap_skip("../shared/vocab missing", "invalid UTF-8 is -EINVAL");
		tap_skip("../shared/vocab missing", "parse_special");
		tap_skip("../shared/vocab missing", "small buffer");
		return;
	}
	bn_vocab_load(path, &v, err, sizeof(err));
	if (!v) {
		tap_ok(false, "load llama-bpe: %s", err);
		tap_ok(false, "parse_special");
		tap_ok(false, "small buffer");
		return;
	}
	tap_ok(bn_tokenize(v, "ab\xff", 3, false, false, ids, 64) == -EINVAL &&
		       bn_tokenize(v, "\xe2\x82", 2, false, false, ids, 64) == -EINVAL &&
		       bn_tokenize(v, "\xed\xa0\x80", 3, false, false, ids, 64) == -EINVAL,
	       "invalid UTF-8 (bad byte, cut character, surrogate) is -EINVAL");
	eot = bn_vocab_eot(v);
	n = bn_tokenize(v, "hi<|eot_id|>", 12, true, true, ids, 64);
	tap_ok(n == 3 && ids[0] == bn_vocab_bos(v) && ids[2] == eot && eot == 128009 &&
		       bn_vocab_is_eog(v, eot) && bn_vocab_is_eog(v, bn_vocab_eos(v)) &&
		       !bn_vocab_is_eog(v, ids[1]) &&
		       bn_tokenize(v, "hi<|eot_id|>", 12, false, false, ids, 64) > 2,
	       "parse_special turns <|eot_id|> into the EOG token %d, only when asked", eot);
	n = bn_tokenize(v, "Hello world, hello again", 24, false, false, ids, 2);
	tap_ok(n == 5, "a small buffer reports the full count (%d)", n);
	bn_vocab_free(v);
}

int main(void)
{
	size_t i;

	tap_plan(PLAN);
	test_each_vocab(run_vocab);
	for (i = 0; i < 2; i++)
		run_model(models[i], model_refs[i]);
	run_api();
	return tap_exit();
}
