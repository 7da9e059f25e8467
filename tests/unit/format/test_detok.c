// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming detokenization: every piece it emits is whole, valid UTF-8;
 * the concatenation gives the tokenized text back; split characters wait
 * for their last byte; broken bytes become U+FFFD; a short buffer is
 * -ENOSPC and loses nothing.
 */
#include <errno.h>
#include <json-c/json.h>

#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab.h"
#include "tests/unit/format/fmt_test.h"
#include "tests/unit/format/vocab_test.h"

#define SEP "\n__ggml_vocab_test__\n"

static const char *const models[] = { "tiny-shakespeare-a", "tiny-shakespeare-c-b158" };

#define PLAN (3 * 2 + 7 + 2)

/* Streams @ids into @text; false unless every piece is whole UTF-8 without NUL. */
static bool stream(const struct bn_vocab *v, const int32_t *ids, int n, char *text, size_t cap,
		   size_t *len)
{
	return test_detok_stream(v, ids, n, text, cap, len) && strlen(text) == *len;
}

static void run_vocab(const char *name)
{
	char path[512], inp_path[600], err[256];
	static char text[65536];
	struct bn_vocab *v = NULL;
	int32_t ids[4096];
	int bad_utf8 = 0, bad_text = 0, cases = 0;
	char *inp, *c, *sep;

	shared_path("vocab/", path, sizeof(path));
	snprintf(inp_path, sizeof(inp_path), "%s%s.inp", path, name);
	strncat(path, name, sizeof(path) - strlen(path) - 1);
	if (!file_exists(path) || !file_exists(inp_path)) {
		tap_skip("../shared/vocab missing", "%s streams whole UTF-8", name);
		tap_skip("../shared/vocab missing", "%s round trip", name);
		return;
	}
	bn_vocab_load(path, &v, err, sizeof(err));
	inp = slurp(inp_path, NULL);
	for (c = inp; v && c && (sep = strstr(c, SEP)); c = sep + strlen(SEP)) {
		size_t len;
		/* with BOS: SentencePiece drops the dummy prefix after it */
		int n = bn_tokenize(v, c, sep - c, true, false, ids, 4096);

		cases++;
		if (n < 0 || !stream(v, ids, n, text, sizeof(text), &len)) {
			bad_utf8++;
			continue;
		}
		if (len != (size_t)(sep - c) || memcmp(text, c, len)) {
			bad_text++;
			printf("# %s: '%.*s' came back as '%s'\n", name, (int)(sep - c), c, text);
		}
	}
	tap_ok(v && cases == 46 && !bad_utf8,
	       "%s: %d cases stream as whole UTF-8 pieces (%d failed)", name, cases, bad_utf8);
	tap_ok(v && cases == 46 && !bad_text, "%s: detokenized text equals the input (%d differ)",
	       name, bad_text);
	free(inp);
	bn_vocab_free(v);
}

static int32_t byte_tok(const struct bn_vocab *v, int b)
{
	char s[8];

	snprintf(s, sizeof(s), "<0x%02X>", b);
	return bn_vocab_find(v, s, 6);
}

static void run_bytes(void)
{
	char path[512], err[256], out[64];
	struct bn_vocab *v = NULL;
	struct bn_detok d;
	int32_t hello, world;
	int a, b, c, f, g;

	shared_path("vocab/ggml-vocab-llama-spm.gguf", path, sizeof(path));
	if (!file_exists(path)) {
		for (a = 0; a < 7; a++)
			tap_skip("../shared/vocab missing", "byte tokens");
		return;
	}
	if (bn_vocab_load(path, &v, err, sizeof(err))) {
		for (a = 0; a < 7; a++)
			tap_ok(false, "load: %s", err);
		return;
	}
	hello = bn_vocab_find(v, "\xe2\x96\x81Hello", 8);
	world = bn_vocab_find(v, "\xe2\x96\x81world", 8);
	bn_detok_init(&d, v);
	a = bn_detok_push(&d, byte_tok(v, 0xe2), out, sizeof(out));
	b = bn_detok_push(&d, byte_tok(v, 0x82), out, sizeof(out));
	c = bn_detok_push(&d, byte_tok(v, 0xac), out, sizeof(out));
	tap_ok(a == 0 && b == 0 && c == 3 && !strcmp(out, "\xe2\x82\xac"),
	       "a character split over three byte tokens comes out whole at the end");

	bn_detok_init(&d, v);
	bn_detok_push(&d, byte_tok(v, 0xe2), out, sizeof(out));
	a = bn_detok_push(&d, byte_tok(v, 'A'), out, sizeof(out));
	tap_ok(a == 4 && !strcmp(out, "\xef\xbf\xbd"
				      "A"),
	       "a cut character followed by ASCII gives U+FFFD then the ASCII");

	bn_detok_init(&d, v);
	a = bn_detok_push(&d, byte_tok(v, 0xff), out, sizeof(out));
	b = bn_detok_push(&d, byte_tok(v, 0xf0), out, sizeof(out));
	c = bn_detok_push(&d, byte_tok(v, 0x9f), out, sizeof(out));
	f = bn_detok_flush(&d, out, sizeof(out));
	tap_ok(a == 3 && b == 0 && c == 0 && f == 3 && !strcmp(out, "\xef\xbf\xbd"),
	       "0xFF is U+FFFD at once; an unfinished character is U+FFFD at flush");

	bn_detok_init(&d, v);
	bn_detok_push(&d, byte_tok(v, 0xe2), out, sizeof(out));
	bn_detok_push(&d, byte_tok(v, 0x82), out, sizeof(out));
	a = bn_detok_push(&d, byte_tok(v, 0xac), out, 3);
	b = bn_detok_push(&d, byte_tok(v, 0xac), out, 4);
	tap_ok(a == -ENOSPC && b == 3 && !strcmp(out, "\xe2\x82\xac"),
	       "a short buffer is -ENOSPC and the retry gets the whole character");

	bn_detok_init(&d, v);
	a = bn_detok_push(&d, bn_vocab_bos(v), out, sizeof(out));
	b = bn_detok_push(&d, hello, out, 3);
	b = b == -ENOSPC ? bn_detok_push(&d, hello, out, sizeof(out)) : -1;
	g = strcmp(out, "Hello");
	c = bn_detok_push(&d, world, out, sizeof(out));
	tap_ok(a == 0 && b == 5 && !g && c == 6 && !strcmp(out, " world"),
	       "BOS gives nothing; the first word after it loses the dummy-prefix space "
	       "(also after an -ENOSPC retry), later ones keep it");

	bn_detok_init(&d, v);
	a = bn_detok_push(&d, world, out, sizeof(out));
	tap_ok(a == 6 && !strcmp(out, " world"),
	       "a stream that starts without BOS (generated text) keeps its first space");

	bn_detok_init(&d, v);
	tap_ok(bn_detok_push(&d, -1, out, sizeof(out)) == -EINVAL &&
		       bn_detok_push(&d, bn_vocab_size(v), out, sizeof(out)) == -EINVAL,
	       "ids out of range are -EINVAL");
	bn_vocab_free(v);
}

/* Ids from a json array into @ids (at most @max); returns the count. */
static int json_ids(struct json_object *arr, int32_t *ids, int max)
{
	int i, n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n && i < max; i++)
		ids[i] = json_object_get_int(json_object_array_get_idx(arr, i));
	return i;
}

static bool text_is(const struct bn_vocab *v, const int32_t *ids, int n, struct json_object *want)
{
	static char text[8192];
	size_t len;
	const char *w = json_object_get_string(want);

	return w && stream(v, ids, n, text, sizeof(text), &len) && !strcmp(text, w);
}

/*
 * The reference's texts of prompt + greedy continuation (full_text), and of
 * the continuation alone (greedy_text), from the PyTorch side's decoder.
 */
static void run_reference(const char *model)
{
	char dir[512], path[700], err[256];
	struct json_object *root, *prompts = NULL;
	struct bn_vocab *v = NULL;
	int32_t ids[1024];
	int i, checked = 0, bad = 0;

	shared_path("models/", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s%s/ref/reference.json", dir, model);
	root = json_object_from_file(path);
	snprintf(path, sizeof(path), "%s%s/%s-f16.gguf", dir, model, model);
	if (!root || !file_exists(path)) {
		tap_skip("../shared/models missing", "%s reference texts", model);
		json_object_put(root);
		return;
	}
	if (bn_vocab_load(path, &v, err, sizeof(err)))
		printf("# %s\n", err);
	json_object_object_get_ex(root, "prompts", &prompts);
	for (i = 0; v && prompts && i < (int)json_object_array_length(prompts); i++) {
		struct json_object *p = json_object_array_get_idx(prompts, i);
		struct json_object *jids, *mode, *gids, *full, *gtext;
		int n, g;

		if (!json_object_object_get_ex(p, "ids", &jids) ||
		    !json_object_object_get_ex(p, "actq", &mode) ||
		    !json_object_object_get_ex(mode, "greedy_ids", &gids) ||
		    !json_object_object_get_ex(mode, "full_text", &full) ||
		    !json_object_object_get_ex(mode, "greedy_text", &gtext)) {
			bad++;
			continue;
		}
		n = json_ids(jids, ids, 1024);
		g = json_ids(gids, ids + n, 1024 - n);
		bad += !text_is(v, ids, n + g, full);
		bad += !text_is(v, ids + n, g, gtext);
		checked += 2;
	}
	tap_ok(v && checked == 6 && !bad,
	       "%s: streamed prompt+continuation and continuation alone equal the "
	       "reference texts (%d of %d differ)",
	       model, bad, checked);
	json_object_put(root);
	bn_vocab_free(v);
}

int main(void)
{
	size_t i;

	tap_plan(PLAN);
	test_each_vocab(run_vocab);
	run_bytes();
	for (i = 0; i < 2; i++)
		run_reference(models[i]);
	return tap_exit();
}
