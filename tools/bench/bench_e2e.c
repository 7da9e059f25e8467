// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-bench e2e: prefill and decode tokens/s and peak RSS of the engine
 * on a 2B-4T-shape ternary model from bitnet-mkmodel, against the same
 * shape with F16 linear weights run in full precision by the same engine
 * (the paper's Table 1 on this CPU). Every configuration runs in its own
 * child process (so peak RSS is its own), runs are interleaved across
 * repetitions, and the table closes with ratios measured in this run.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/engine/engine.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_measure.h"
#include "tools/opts.h"

#define MAX_REPS 16

struct e2e_opts {
	const char *model;    /* ternary */
	const char *baseline; /* F16 linears */
	const char *workdir;
	int prompt, gen, reps;
	int threads[2];
	int n_threads;
	bool no_baseline;
	bool keep;
	enum bn_head_kind head; /* of the ternary model; the baseline's is F16 */
	enum bn_pack_kind pack; /* of the ternary model */
};

#define BATCH 4 /* sequences decoded together in the batched run */

struct e2e_result {
	double prefill_tps, decode_tps, batch_tps, load_s;
	long rss_kb;
	int ok;
	char label[56]; /* "<linears> ternary + <head> head, <pack>", from the loaded model */
};

/*
 * BATCH sequences with a short prompt each, then @gen decode steps that
 * advance all of them in one bn_forward(): aggregate tokens/s, as the
 * daemon's continuous batching serves several sessions.
 */
static int batched_decode(struct bn_model *m, const struct e2e_opts *o, struct e2e_result *r)
{
	uint32_t nv = bn_model_info(m)->n_vocab, plen = o->prompt < 16 ? o->prompt : 16;
	struct bn_batch_item it[BATCH];
	struct bn_seq *seqs[BATCH] = { 0 };
	int32_t tok[BATCH], ids[BATCH][16];
	float *logits = malloc((size_t)BATCH * nv * sizeof(float));
	double t0;
	int b, i, rc = logits ? 0 : -ENOMEM;

	for (b = 0; b < BATCH && !rc; b++) {
		seqs[b] = bn_seq_new(m, plen + o->gen + 1);
		if (!seqs[b]) {
			rc = -ENOMEM;
			break;
		}
		bench_prompt(ids[b], (int)plen, nv, (uint32_t)b + 1);
		it[b] = (struct bn_batch_item){ .seq = seqs[b],
						.tokens = ids[b],
						.n_tokens = plen,
						.logits = logits + b * nv };
	}
	if (!rc)
		rc = bn_forward(m, it, BATCH);
	t0 = bench_now();
	for (i = 0; !rc && i < o->gen; i++) {
		for (b = 0; b < BATCH; b++) {
			const float *l = logits + b * nv;
			uint32_t k, best = 0;

			for (k = 1; k < nv; k++)
				if (l[k] > l[best])
					best = k;
			tok[b] = (int32_t)best;
			it[b].tokens = &tok[b];
			it[b].n_tokens = 1;
		}
		rc = bn_forward(m, it, BATCH);
	}
	r->batch_tps = (double)BATCH * o->gen / (bench_now() - t0);
	for (b = 0; b < BATCH; b++)
		bn_seq_free(seqs[b]);
	free(logits);
	return rc;
}

/* In the child: load, prefill @prompt tokens, decode @gen one by one. */
static int run_child(const char *path, bool dense, int threads, const struct e2e_opts *o,
		     struct e2e_result *r)
{
	/* the baseline is a full-precision model: F16 linears and F16 head */
	struct bn_load_opts lo = { .backend = BN_BACKEND_CPU,
				   .threads = threads,
				   .dense = dense,
				   .head = dense ? BN_HEAD_FILE : o->head,
				   .pack = o->pack };
	struct bn_model *m;
	struct bn_seq *seq;
	char err[512];
	int32_t *ids, tok;
	float *logits;
	double t0;
	int i, rc;

	t0 = bench_now();
	rc = bn_model_load(path, &lo, &m, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bitnet-bench e2e: %s\n", err);
		return 1;
	}
	r->load_s = bench_now() - t0;
	const struct bn_model_info *in = bn_model_info(m);

	snprintf(r->label, sizeof(r->label), "%s ternary + %s head, %s", in->weight_type, in->head,
		 in->pack);

	seq = bn_seq_new(m, (uint32_t)(o->prompt + o->gen + 1));
	ids = malloc(o->prompt * sizeof(int32_t));
	logits = malloc(in->n_vocab * sizeof(float));
	if (!seq || !ids || !logits)
		return 1;
	bench_prompt(ids, o->prompt, in->n_vocab, 0);
	struct bn_batch_item it = {
		.seq = seq, .tokens = ids, .n_tokens = (uint32_t)o->prompt, .logits = logits
	};

	t0 = bench_now();
	rc = bn_forward(m, &it, 1);
	r->prefill_tps = o->prompt / (bench_now() - t0);
	it.tokens = &tok;
	it.n_tokens = 1;
	t0 = bench_now();
	for (i = 0; !rc && i < o->gen; i++) {
		uint32_t k, best = 0;

		for (k = 1; k < in->n_vocab; k++)
			if (logits[k] > logits[best])
				best = k;
		tok = (int32_t)best;
		rc = bn_forward(m, &it, 1);
	}
	r->decode_tps = o->gen / (bench_now() - t0);
	if (!rc)
		rc = batched_decode(m, o, r);
	if (rc)
		fprintf(stderr, "bitnet-bench e2e: forward: %s\n", strerror(-rc));
	r->ok = !rc;
	bn_seq_free(seq);
	free(ids);
	free(logits);
	bn_model_free(m);
	return rc ? 1 : 0;
}

static int run_config(const char *path, bool dense, int threads, const struct e2e_opts *o,
		      struct e2e_result *r)
{
	struct rusage ru;
	int pipefd[2], status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(pipefd))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct e2e_result cr = { 0 };
		int rc;

		close(pipefd[0]);
		rc = run_child(path, dense, threads, o, &cr);
		if (write(pipefd[1], &cr, sizeof(cr)) != sizeof(cr))
			rc = 1;
		_exit(rc);
	}
	close(pipefd[1]);
	if (read(pipefd[0], r, sizeof(*r)) != sizeof(*r))
		r->ok = 0;
	close(pipefd[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		r->ok = 0;
	r->rss_kb = ru.ru_maxrss;
	return r->ok ? 0 : -EIO;
}

static int mkmodel(const char *type, const char *out)
{
	char args[64];

	snprintf(args, sizeof(args), "--type %s", type);
	return bench_mkmodel(args, out, type);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bitnet-bench e2e [--model TERNARY.gguf] [--baseline F16.gguf]\n"
		"         [--workdir DIR] [--prompt N] [--gen N] [--reps N] [--threads 1|2|1,2]\n"
		"         [--no-baseline] [--keep] [--head auto|file|q8|q4]\n"
		"         [--pack auto|r16|t5|dual|lut3|dual-lut3]\n"
		"Without --model/--baseline, bitnet-mkmodel writes the 2B-4T shape (I2_S, and\n"
		"F16 linears for the baseline) into --workdir (default /var/tmp).\n");
}

static bool parse_threads(const char *arg, void *dst)
{
	struct e2e_opts *o = dst;

	o->n_threads = sscanf(arg, "%d,%d", &o->threads[0], &o->threads[1]);
	return true;
}

static bool parse_head(const char *arg, void *dst)
{
	return !bn_head_kind_parse(arg, dst);
}

static bool parse_pack(const char *arg, void *dst)
{
	return !bn_pack_kind_parse(arg, dst);
}

static int parse(int argc, char **argv, struct e2e_opts *o)
{
	const struct tool_opt opts[] = {
		TOOL_OPT("model", TOOL_OPT_STR, &o->model),
		TOOL_OPT("baseline", TOOL_OPT_STR, &o->baseline),
		TOOL_OPT("workdir", TOOL_OPT_STR, &o->workdir),
		TOOL_OPT("prompt", TOOL_OPT_INT, &o->prompt),
		TOOL_OPT("gen", TOOL_OPT_INT, &o->gen),
		TOOL_OPT("reps", TOOL_OPT_INT, &o->reps),
		TOOL_OPT_PARSE("threads", o, parse_threads),
		TOOL_OPT("no-baseline", TOOL_OPT_SET, &o->no_baseline),
		TOOL_OPT("keep", TOOL_OPT_SET, &o->keep),
		TOOL_OPT_PARSE("head", &o->head, parse_head),
		TOOL_OPT_PARSE("pack", &o->pack, parse_pack),
		TOOL_OPT_END,
	};
	int rc;

	rc = tool_opts_parse(argc, argv, opts, 0, "bitnet-bench e2e", usage);
	if (rc)
		return rc;
	if (o->prompt < 1 || o->prompt > 4096 || o->gen < 1 || o->gen > 4096 || o->reps < 1 ||
	    o->reps > MAX_REPS || o->n_threads < 1 || o->threads[0] < 1 ||
	    (o->n_threads > 1 && o->threads[1] < 1)) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static void best_of(const struct e2e_result *r, int n, struct e2e_result *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		if (!r[i].ok)
			continue;
		out->ok = 1;
		if (r[i].prefill_tps > out->prefill_tps)
			out->prefill_tps = r[i].prefill_tps;
		if (r[i].decode_tps > out->decode_tps)
			out->decode_tps = r[i].decode_tps;
		if (r[i].batch_tps > out->batch_tps)
			out->batch_tps = r[i].batch_tps;
		if (r[i].rss_kb > out->rss_kb)
			out->rss_kb = r[i].rss_kb;
		if (!out->load_s || r[i].load_s < out->load_s)
			out->load_s = r[i].load_s;
		memcpy(out->label, r[i].label, sizeof(out->label));
	}
}

int bench_e2e_main(int argc, char **argv)
{
	struct e2e_opts o = { .workdir = "/var/tmp",
			      .prompt = 128,
			      .gen = 64,
			      .reps = 3,
			      .threads = { 1, 2 },
			      .n_threads = 2 };
	static struct e2e_result res[2][2][MAX_REPS];
	struct e2e_result best[2][2];
	char tern[PATH_MAX], base[PATH_MAX];
	int rc, rep, t, k, n_models;

	rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	snprintf(tern, sizeof(tern), "%s", o.model ? o.model : "");
	snprintf(base, sizeof(base), "%s", o.baseline ? o.baseline : "");
	if (!o.model) {
		snprintf(tern, sizeof(tern), "%s/bitnet-bench-2b4t-i2_s.gguf", o.workdir);
		if (mkmodel("i2_s", tern))
			return 1;
	}
	if (!o.no_baseline && !o.baseline) {
		snprintf(base, sizeof(base), "%s/bitnet-bench-2b4t-f16.gguf", o.workdir);
		if (mkmodel("f16", base))
			return 1;
	}
	n_models = o.no_baseline ? 1 : 2;
	/* interleave: every repetition runs every configuration once */
	for (rep = 0; rep < o.reps; rep++) {
		for (t = 0; t < o.n_threads; t++) {
			for (k = 0; k < n_models; k++) {
				struct e2e_result *r = &res[k][t][rep];

				run_config(k ? base : tern, k == 1, o.threads[t], &o, r);
				fprintf(stderr,
					"rep %d %s %d thr: prefill %.1f decode %.2f tok/s, "
					"RSS %ld MB%s\n",
					rep + 1, k ? "F16" : "ternary", o.threads[t],
					r->prefill_tps, r->decode_tps, r->rss_kb / 1024,
					r->ok ? "" : " (failed)");
			}
		}
	}
	printf("bitnet-bench e2e: %s, prompt %d, decode %d, best of %d interleaved runs\n",
	       o.model ? o.model : "2B-4T shape", o.prompt, o.gen, o.reps);
	printf("%-34s %4s %14s %13s %15s %12s %8s\n", "model", "thr", "prefill tok/s",
	       "decode tok/s", "4-seq decode/s", "peak RSS MB", "load s");
	for (t = 0; t < o.n_threads; t++) {
		for (k = 0; k < n_models; k++) {
			best_of(res[k][t], o.reps, &best[k][t]);
			printf("%-34s %4d %14.1f %13.2f %15.2f %12ld %8.1f\n",
			       k ? "F16 linears + F16 head (baseline)" : best[k][t].label,
			       o.threads[t], best[k][t].prefill_tps, best[k][t].decode_tps,
			       best[k][t].batch_tps, best[k][t].rss_kb / 1024, best[k][t].load_s);
		}
	}
	for (t = 0; t < o.n_threads && n_models == 2; t++) {
		if (!best[0][t].ok || !best[1][t].ok)
			continue;
		printf("%d thr: ternary vs F16: decode %.2fx, prefill %.2fx, memory %.2fx less\n",
		       o.threads[t], best[0][t].decode_tps / best[1][t].decode_tps,
		       best[0][t].prefill_tps / best[1][t].prefill_tps,
		       (double)best[1][t].rss_kb / best[0][t].rss_kb);
	}
	for (t = 0; t < o.n_threads; t++) {
		double peer = o.threads[t] == 1 ? 8.2 : o.threads[t] == 2 ? 13.3 : 0;

		if (peer > 0 && best[0][t].ok)
			printf("%d thr: decode vs llama.cpp TQ2_0 (%.1f tok/s, notes/peers.md, "
			       "not this run): %.2fx (target 1.5x)\n",
			       o.threads[t], peer, best[0][t].decode_tps / peer);
	}
	if (!o.keep && !o.model)
		unlink(tern);
	if (!o.keep && !o.baseline && !o.no_baseline)
		unlink(base);
	for (t = 0; t < o.n_threads; t++)
		for (k = 0; k < n_models; k++)
			if (!best[k][t].ok)
				return 1;
	return 0;
}
