// SPDX-License-Identifier: GPL-2.0
/*
 * The model and the forward pass on small random models written by
 * bitnet-mkmodel: batched prefill equals token-by-token decode, several
 * sequences in one call equal separate calls, long prompts cross slices,
 * prefix reuse, F16 files load to the same ternary function as I2_S ones,
 * bad input is refused cleanly, and chat formatting.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "daemon/engine/engine.h"
#include "daemon/engine/gguf/gguf.h"
#include "tests/tap.h"
#include "tests/unit/engine/engine_test.h"

#define SHAPE "--embd 256 --layers 2 --heads 4 --kv-heads 2 --ff 512 --vocab 600 --ctx 512"

static char dir[] = "/tmp/bn-test-model-XXXXXX";

static int mk(const char *args, const char *name)
{
	return test_mkmodel(dir, SHAPE, args, name);
}

static struct bn_model *load(const char *name, enum bn_head_kind head)
{
	return test_load(dir, name, head, false, NULL, 0);
}

static double maxdiff(const float *a, const float *b, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!(fabs((double)a[i] - b[i]) <= m))
			m = fabs((double)a[i] - b[i]);
	return m;
}

static void prompt(int32_t *ids, uint32_t n, uint32_t salt)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		ids[i] = (int32_t)(1 + (i * 131u + salt * 17u) % 599);
}

static void forward_tests(struct bn_model *m)
{
	const struct bn_model_info *in = bn_model_info(m);
	uint32_t V = in->n_vocab, i, n = 20;
	float *all = malloc((size_t)n * V * sizeof(float));
	float *one = malloc((size_t)n * V * sizeof(float));
	float *last = malloc(V * sizeof(float));
	float *b3 = malloc(3 * (size_t)V * sizeof(float));
	float *s3 = malloc(3 * (size_t)V * sizeof(float));
	int32_t ids[400];
	struct bn_seq *a = bn_seq_new(m, 0), *b = bn_seq_new(m, 0), *c = bn_seq_new(m, 0);
	struct bn_seq *seqs[3] = { a, b, c };
	struct bn_batch_item it[3];
	double d;
	int rc;

	prompt(ids, n, 1);
	it[0] = (struct bn_batch_item){
		.seq = a, .tokens = ids, .n_tokens = n, .all_logits = all, .logits = last
	};
	rc = bn_forward(m, it, 1);
	tap_ok(!rc && bn_seq_len(a) == n, "prefill of %u tokens", n);
	tap_ok(!memcmp(all + (size_t)(n - 1) * V, last, V * sizeof(float)),
	       "last logits are the last row of all logits");
	for (i = 0; i < n && !rc; i++) {
		it[0] = (struct bn_batch_item){
			.seq = b, .tokens = &ids[i], .n_tokens = 1, .logits = one + (size_t)i * V
		};
		rc = bn_forward(m, it, 1);
	}
	d = rc ? INFINITY : maxdiff(all, one, (size_t)n * V);
	tap_ok(d == 0, "batched prefill equals token-by-token decode (max |diff| %g)", d);

	/* three sequences, one decode step each, in one call vs separate calls */
	bn_seq_truncate(a, 0);
	bn_seq_truncate(b, 0);
	for (i = 0; i < 3; i++) {
		prompt(ids + 100 * i, 5 + 3 * i, 7 + i);
		it[i] = (struct bn_batch_item){ .seq = seqs[i],
						.tokens = ids + 100 * i,
						.n_tokens = 5 + 3 * i,
						.logits = b3 + i * V };
	}
	rc = bn_forward(m, it, 3);
	for (i = 0; i < 3 && !rc; i++) {
		struct bn_seq *t = bn_seq_new(m, 64);
		struct bn_batch_item x = { .seq = t,
					   .tokens = ids + 100 * i,
					   .n_tokens = 5 + 3 * i,
					   .logits = s3 + i * V };

		rc = t ? bn_forward(m, &x, 1) : -ENOMEM;
		bn_seq_free(t);
	}
	d = rc ? INFINITY : maxdiff(b3, s3, 3 * (size_t)V);
	tap_ok(d == 0, "three sequences in one call equal three calls (max |diff| %g)", d);

	/* one decode step for the three together */
	int32_t next[3] = { 11, 22, 33 };

	for (i = 0; i < 3; i++)
		it[i] = (struct bn_batch_item){
			.seq = seqs[i], .tokens = &next[i], .n_tokens = 1, .logits = b3 + i * V
		};
	rc = bn_forward(m, it, 3);
	tap_ok(!rc && bn_seq_len(c) == 12, "batched decode step of three sequences");

	/* prefix reuse: truncate and recompute gives the same logits */
	bn_seq_truncate(c, 11);
	it[0] = (struct bn_batch_item){
		.seq = c, .tokens = &next[2], .n_tokens = 1, .logits = last
	};
	rc = bn_forward(m, it, 1);
	tap_ok(!rc && !memcmp(last, b3 + 2 * V, V * sizeof(float)) && bn_seq_tokens(c)[11] == 33,
	       "truncate to a prefix and recompute");

	/* 300 tokens in one call cross the 256-token slices */
	prompt(ids, 300, 3);
	bn_seq_truncate(a, 0);
	bn_seq_truncate(b, 0);
	it[0] = (struct bn_batch_item){ .seq = a, .tokens = ids, .n_tokens = 300, .logits = last };
	rc = bn_forward(m, it, 1);
	it[0] = (struct bn_batch_item){ .seq = b, .tokens = ids, .n_tokens = 200 };
	if (!rc)
		rc = bn_forward(m, it, 1);
	it[0] = (struct bn_batch_item){
		.seq = b, .tokens = ids + 200, .n_tokens = 100, .logits = one
	};
	if (!rc)
		rc = bn_forward(m, it, 1);
	d = rc ? INFINITY : maxdiff(last, one, V);
	tap_ok(d == 0, "300-token prompt in one call equals 200 + 100 (max |diff| %g)", d);

	/* bad input */
	struct bn_seq *small = bn_seq_new(m, 8);

	it[0] = (struct bn_batch_item){ .seq = small, .tokens = ids, .n_tokens = 9 };
	rc = bn_forward(m, it, 1);
	tap_ok(rc == -ENOSPC && bn_seq_len(small) == 0,
	       "a prompt longer than the context: -ENOSPC");
	ids[3] = (int32_t)V;
	it[0] = (struct bn_batch_item){ .seq = small, .tokens = ids, .n_tokens = 5 };
	tap_ok(bn_forward(m, it, 1) == -EINVAL, "token id == n_vocab: -EINVAL");
	ids[3] = -1;
	tap_ok(bn_forward(m, it, 1) == -EINVAL && bn_seq_len(small) == 0,
	       "negative token id: -EINVAL");
	ids[3] = 5;
	it[1] = it[0];
	tap_ok(bn_forward(m, it, 2) == -EINVAL, "the same sequence twice in one batch: -EINVAL");
	tap_ok(bn_seq_new(m, 1u << 30) == NULL, "an absurd context is refused, not allocated");
	bn_seq_free(small);
	bn_seq_free(a);
	bn_seq_free(b);
	bn_seq_free(c);
	free(all);
	free(one);
	free(last);
	free(b3);
	free(s3);
}

/* Last logits of a fixed prompt. */
static int logits_of(struct bn_model *m, float *out)
{
	struct bn_seq *s = bn_seq_new(m, 64);
	int32_t ids[12];
	struct bn_batch_item it = { .seq = s, .tokens = ids, .n_tokens = 12, .logits = out };
	int rc;

	prompt(ids, 12, 5);
	rc = s ? bn_forward(m, &it, 1) : -ENOMEM;
	bn_seq_free(s);
	return rc;
}

static void encoding_tests(struct bn_model *i2s)
{
	uint32_t V = bn_model_info(i2s)->n_vocab;
	struct bn_model *f16 = load("f16.gguf", BN_HEAD_AUTO);
	struct bn_model *tq2 = load("tq2.gguf", BN_HEAD_AUTO);
	struct bn_model *q8 = load("i2s.gguf", BN_HEAD_Q8);
	float *a = malloc(V * 4), *b = malloc(V * 4), *c = malloc(V * 4), *d = malloc(V * 4);
	double dq;

	tap_ok(f16 && tq2 && q8 && !logits_of(i2s, a) && !logits_of(f16, b) && !logits_of(tq2, c) &&
		       !logits_of(q8, d),
	       "I2_S, TQ2_0, F16 and Q8-head loads run");
	tap_ok(f16 && !memcmp(a, b, V * 4),
	       "F16 file (values t * s) computes exactly what I2_S does");
	tap_ok(tq2 && !memcmp(a, c, V * 4), "TQ2_0 file computes exactly what I2_S does");
	dq = q8 ? maxdiff(a, d, V) : INFINITY;
	tap_ok(dq < 0.05, "Q8 output head within 0.05 of the exact head (max |diff| %.4f)", dq);
	bn_model_free(f16);
	bn_model_free(tq2);
	bn_model_free(q8);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void chat_tests(struct bn_model *m)
{
	struct bn_chat_msg msgs[3] = {
		{ "system", "Be brief." },
		{ "user", "Hi" },
		{ "assistant", "Hello." },
	};
	struct bn_chat_msg bad = { "wizard", "x" };
	int e;
	char *s = bn_chat_format(m, msgs + 1, 1, &e);

	tap_ok(s && !strcmp(s, "User: Hi<|eot_id|>Assistant: "), "2B-4T chat format: '%s'",
	       s ? s : "(null)");
	free(s);
	s = bn_chat_format(m, msgs, 3, &e);
	tap_ok(s && !strcmp(s, "System: Be brief.<|eot_id|>User: Hi<|eot_id|>Assistant: Hello."
			       "<|eot_id|>Assistant: "),
	       "multi-turn chat with a system prompt");
	free(s);
	s = bn_chat_format(m, &bad, 1, &e);
	tap_ok(!s && e == -EINVAL, "unknown role refused");
}

static void bad_file_tests(void)
{
	struct bn_load_opts o = { .backend = BN_BACKEND_CPU, .threads = 1 };
	struct bn_model *m = NULL;
	struct gguf_writer *w = gguf_writer_new(32);
	char path[256], err[512] = "";
	uint32_t v = 256;
	int rc;

	snprintf(path, sizeof(path), "%s/bad.gguf", dir);
	gguf_writer_kv_str(w, "general.architecture", "bitnet-b1.58");
	gguf_writer_kv(w, "bitnet-b1.58.embedding_length", GGUF_V_UINT32, &v);
	gguf_writer_write(w, path);
	gguf_writer_free(w);
	rc = bn_model_load(path, &o, &m, err, sizeof(err));
	printf("# %s\n", err);
	tap_ok(rc < 0 && !m && strstr(err, "block_count"), "missing hyperparameter named");

	w = gguf_writer_new(32);
	gguf_writer_kv_str(w, "general.architecture", "gpt2");
	gguf_writer_write(w, path);
	gguf_writer_free(w);
	rc = bn_model_load(path, &o, &m, err, sizeof(err));
	printf("# %s\n", err);
	tap_ok(rc < 0 && !m && strstr(err, "gpt2"), "unsupported architecture refused");

	snprintf(path, sizeof(path), "%s/i2s.gguf", dir);
	FILE *f = fopen(path, "rb"), *g;
	char tpath[256], buf[65536];
	size_t n, total = 0;

	snprintf(tpath, sizeof(tpath), "%s/trunc.gguf", dir);
	g = fopen(tpath, "wb");
	while (f && g && (n = fread(buf, 1, sizeof(buf), f)) && total < 300000) {
		fwrite(buf, 1, n, g);
		total += n;
	}
	if (f)
		fclose(f);
	if (g)
		fclose(g);
	rc = bn_model_load(tpath, &o, &m, err, sizeof(err));
	printf("# %s\n", err);
	tap_ok(rc < 0 && !m, "truncated model file refused");
}

/* Sharing needs the kmod backend: a cpu model has nothing to share or attach to. */
static void share_tests(struct bn_model *m)
{
	struct bn_load_opts o = { .backend = BN_BACKEND_CPU, .attach = true };
	struct bn_model *m2 = NULL;
	char path[256], err[512] = "";
	int sv[2], rc;

	tap_ok(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
	tap_ok(bn_model_share_weights(m, sv[0]) == -ENODEV, "sharing a cpu model: -ENODEV");
	tap_ok(bn_model_share_weights(NULL, sv[0]) == -EINVAL &&
		       bn_model_share_weights(m, -1) == -EINVAL,
	       "sharing without a model or socket: -EINVAL");
	o.attach_sock = sv[1];
	snprintf(path, sizeof(path), "%s/i2s.gguf", dir);
	rc = bn_model_load(path, &o, &m2, err, sizeof(err));
	tap_ok(rc == -EINVAL && !m2 && strstr(err, "attaching needs the kmod backend"),
	       "attaching on the cpu backend refused: %s", err);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Nine sessions of different lengths decoding together, four greedy steps:
 * each step's logits are the bits of the same session decoding alone (the
 * rows' norms go side by side, the head takes up to 16 inputs a pass).
 */
static void batch_alone_tests(struct bn_model *m, const char *what)
{
	enum {
		B = 9,
		STEPS = 4
	};
	uint32_t V = bn_model_info(m)->n_vocab, i, j, k;
	float *lb = malloc((size_t)B * V * sizeof(float));
	float *la = malloc((size_t)B * V * sizeof(float));
	struct bn_seq *sb[B], *sa[B];
	struct bn_batch_item it[B], x;
	int32_t ids[64], tok[B];
	bool same = lb && la;
	int rc = 0;

	for (i = 0; i < B; i++) {
		sb[i] = bn_seq_new(m, 64);
		sa[i] = bn_seq_new(m, 64);
		prompt(ids, 2 + 3 * i, 40 + i);
		x = (struct bn_batch_item){ .seq = sb[i], .tokens = ids, .n_tokens = 2 + 3 * i };
		rc |= !sb[i] || !sa[i] || !same || bn_forward(m, &x, 1);
		x.seq = sa[i];
		x.logits = la + (size_t)i * V;
		rc |= rc || bn_forward(m, &x, 1);
	}
	for (k = 0; k < STEPS && !rc; k++) {
		for (i = 0; i < B; i++) {
			const float *l = la + (size_t)i * V;

			for (tok[i] = 0, j = 1; j < V; j++)
				if (l[j] > l[tok[i]])
					tok[i] = (int32_t)j;
			it[i] = (struct bn_batch_item){ .seq = sb[i],
							.tokens = &tok[i],
							.n_tokens = 1,
							.logits = lb + (size_t)i * V };
			x = (struct bn_batch_item){ .seq = sa[i],
						    .tokens = &tok[i],
						    .n_tokens = 1,
						    .logits = la + (size_t)i * V };
			rc |= bn_forward(m, &x, 1);
		}
		rc |= bn_forward(m, it, B);
		same &= !rc && !memcmp(lb, la, (size_t)B * V * sizeof(float));
	}
	tap_ok(!rc && same,
	       "%s: %d sessions decoding together, %d steps: each one's logits bit for bit "
	       "as alone",
	       what, B, STEPS);
	for (i = 0; i < B; i++) {
		bn_seq_free(sb[i]);
		bn_seq_free(sa[i]);
	}
	free(lb);
	free(la);
}

int main(void)
{
	struct bn_model *m;
	char cmd[512];

	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	printf("1..30\n");
	tap_ok(!mk("--type i2_s", "i2s.gguf") && !mk("--type f16", "f16.gguf") &&
		       !mk("--type tq2_0", "tq2.gguf"),
	       "bitnet-mkmodel writes I2_S, F16 and TQ2_0 models");
	m = load("i2s.gguf", BN_HEAD_AUTO);
	tap_ok(m && bn_model_info(m)->n_layer == 2 && bn_model_info(m)->n_head_kv == 2 &&
		       bn_model_info(m)->n_vocab == 600 &&
		       !strcmp(bn_model_info(m)->arch, "bitnet-b1.58"),
	       "model loads with its metadata");
	if (!m)
		return 1;
	forward_tests(m);
	batch_alone_tests(m, "head as the file's");
	encoding_tests(m);
	chat_tests(m);
	share_tests(m);
	bad_file_tests();
	bn_model_free(m);
	m = load("i2s.gguf", BN_HEAD_Q8);
	if (m)
		batch_alone_tests(m, "int8 head");
	else
		tap_ok(false, "int8 head: the model loads");
	bn_model_free(m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	return tap_exit();
}
