// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: tokenization and streaming detokenization of arbitrary
 * bytes with the three reference vocabs (../shared/vocab, or the directory
 * in BN_FUZZ_VOCAB_DIR). The first byte picks the vocab and flags.
 * Checked: invalid UTF-8 is -EINVAL; ids are in range; byte-level BPE gives
 * the text back exactly; the detokenizer only emits valid UTF-8.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab.h"
#include "tests/unit/format/vocab_test.h"

static struct bn_vocab *vocabs[TEST_N_VOCABS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("BN_FUZZ_VOCAB_DIR");
	char path[1024], err[256];
	int i;

	(void)argc;
	(void)argv;
	if (!dir)
		dir = "../shared/vocab";
	for (i = 0; i < TEST_N_VOCABS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, test_vocabs[i]);
		if (bn_vocab_load(path, &vocabs[i], err, sizeof(err))) {
			fprintf(stderr, "fuzz_tokenizer: %s\n", err);
			exit(1);
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bn_vocab *v;
	const char *text;
	bool special, bos;
	int32_t *ids;
	size_t len, max;
	int n, i;

	if (!size)
		return 0;
	v = vocabs[data[0] % TEST_N_VOCABS];
	special = data[0] & 4;
	bos = data[0] & 8;
	text = (const char *)data + 1;
	len = size - 1;
	max = 2 * len + 2;
	ids = malloc(max * sizeof(*ids));
	if (!ids)
		return 0;
	n = bn_tokenize(v, text, len, bos, special, ids, max);
	if ((n == -EINVAL) != !utf8_valid(text, len) || (n < 0 && n != -EINVAL) ||
	    (size_t)(n < 0 ? 0 : n) > max)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (ids[i] < 0 || (uint32_t)ids[i] >= bn_vocab_size(v))
			__builtin_trap();
	if (n >= 0) {
		/* the detokenizer only emits whole, valid UTF-8 */
		if (!test_detok_stream(v, ids, n, NULL, 0, NULL))
			__builtin_trap();
		/* byte-level BPE gives the text back exactly */
		if (!bos && !special && strcmp(bn_vocab_model(v), "gpt2") == 0 &&
		    !test_decodes_to(v, ids, n, text, len))
			__builtin_trap();
	}
	free(ids);
	return 0;
}
