// SPDX-License-Identifier: GPL-2.0
/*
 * Tokenizer benchmark (not a test: `make format-bench`). For each vocab in
 * ../shared/vocab: load time, and encode time of the tiny-shakespeare
 * held-out text repeated 1x and 10x; the ratio of the two times shows how
 * close to linear encoding is (10.0 is linear), measured in the same run.
 */
#include <time.h>

#include "daemon/engine/tokenizer/vocab.h"
#include "tests/unit/format/fmt_test.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Best of three: the machine is shared. */
static double encode_time(const struct bn_vocab *v, const char *text, size_t len, int32_t *ids,
			  size_t max, int *n)
{
	double best = 1e30;
	int r;

	for (r = 0; r < 3; r++) {
		double t0 = now();

		*n = bn_tokenize(v, text, len, false, false, ids, max);
		if (now() - t0 < best)
			best = now() - t0;
	}
	return best;
}

int main(void)
{
	static const char *const names[] = { "ggml-vocab-llama-bpe.gguf",
					     "ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf" };
	char path[512], err[256];
	size_t len, i, k;
	char *held, *big;
	int32_t *ids;

	held = slurp(shared_path("models/tiny-shakespeare-a/heldout.txt", path, sizeof(path)),
		     &len);
	if (!held) {
		printf("skipped: ../shared/models missing\n");
		return 0;
	}
	big = malloc(10 * len);
	ids = malloc((10 * len + 2) * sizeof(*ids));
	for (k = 0; k < 10; k++)
		memcpy(big + k * len, held, len);
	for (i = 0; i < 3; i++) {
		struct bn_vocab *v;
		double t0, load, t1, t10;
		int n1, n10;

		shared_path("vocab/", path, sizeof(path));
		strncat(path, names[i], sizeof(path) - strlen(path) - 1);
		t0 = now();
		if (bn_vocab_load(path, &v, err, sizeof(err))) {
			printf("%s\n", err);
			continue;
		}
		load = now() - t0;
		t1 = encode_time(v, held, len, ids, 10 * len + 2, &n1);
		t10 = encode_time(v, big, 10 * len, ids, 10 * len + 2, &n10);
		printf("%-26s load %.3f s; encode %zu B -> %d tokens %.1f MB/s; "
		       "10x text -> %d tokens, time ratio 10x/1x %.1f\n",
		       names[i], load, len, n1, len / t1 / 1e6, n10, t10 / t1);
		bn_vocab_free(v);
	}
	free(big);
	free(ids);
	free(held);
	return 0;
}
