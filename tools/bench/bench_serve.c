// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-bench serve: B = 1, 2, 4, 8, 16 concurrent greedy sessions, each
 * with its own prompt, through the real bitnetd on a private bus (the D-Bus
 * side is tools/bench/serve-driver.py), or through the engine's batched
 * decode alone (--engine-only; --both runs the two in one run, so the
 * daemon's own per-step cost is the difference). Per B: aggregate and
 * per-session tokens/s, p50/p99 time per token, time to first token, the
 * ratio to B = 1 and the share of the roofline
 *   step(B) = max(weight bytes / DRAM read, B x MACs per token / int8 peak)
 * and of the ceiling that keeps a step's parts in the order they depend on
 * each other (the head needs the layers' output, the next step's layers
 * the token sampled from it, so neither part's DRAM read can hide under
 * the other's arithmetic):
 *   step(B) = max(linears' bytes / DRAM read, B x their MACs / int8 peak)
 *           + max(head bytes / DRAM read, B x its MACs / int8 peak)
 *           + B x one session's KV cache / DRAM read,
 * with the bandwidth and the int8 peak (vpdpbusd from registers on every
 * thread; without VNNI, the best GEMM) measured in this run.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/engine/engine.h"
#include "libcore/pool.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_measure.h"

#define MAX_B 16
#define MAX_NS 8

struct serve_opts {
	const char *model, *workdir, *driver, *shape;
	const char *pack; /* --pack: the engine's and bitnetd's (Pack=) */
	int sessions[MAX_NS], n_sessions;
	int tokens, prompt, threads, reps, long_prompt, prefill_chunk;
	bool engine, daemon, keep;
};

struct serve_row {
	int b;
	/*
	 * agg: the sessions' decode rates summed (each from its first token to
	 * its last); steady: all sessions' tokens/s while every one decodes;
	 * run: all tokens over the whole run, prompts included
	 */
	double agg, steady, run, per, p50, p99, ttft, long_ttft;
	/*
	 * adj: the median over the repetitions of agg over that of one
	 * session run just before, so both saw DRAM at the same rate
	 */
	double adj;
	bool ok;
};

/* Shapes for quick runs; "2b4t" is bitnet-mkmodel's default. */
static const struct {
	const char *name, *args;
} shapes[] = {
	{ "2b4t", "" },
	{ "small", "--embd 1024 --layers 8 --heads 16 --kv-heads 4 --ff 2816 --vocab 32000" },
	{ "tiny", "--embd 256 --layers 2 --heads 4 --kv-heads 2 --ff 512 --vocab 4096" },
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n ? v[(int)(p / 100.0 * (n - 1) + 0.5)] : 0;
}

/* The middle value, or the mean of the two middle ones (as Python's median()). */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (!n)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * @b sequences, each its own prompt of o->prompt tokens, prefilled in one
 * bn_forward() (their first tokens: the TTFT), then o->tokens - 1 decode
 * steps of all @b at once; per-token time = one step.
 */
static int engine_run(struct bn_model *m, int b, const struct serve_opts *o, struct serve_row *r)
{
	uint32_t nv = bn_model_info(m)->n_vocab;
	struct bn_batch_item it[MAX_B];
	struct bn_seq *seqs[MAX_B] = { 0 };
	int32_t tok[MAX_B], *ids = malloc((size_t)b * o->prompt * sizeof(int32_t));
	float *logits = malloc((size_t)b * nv * sizeof(float));
	double *step = calloc(o->tokens, sizeof(double)), t0, sum = 0;
	struct bn_sampler_params sp;
	struct bn_sampler *greedy;
	int i, s, n = o->tokens - 1, rc;

	/* greedy through the daemon's sampler, so a step costs what it does there */
	bn_sampler_params_default(&sp);
	sp.temperature = 0;
	greedy = bn_sampler_new(&sp);
	rc = ids && logits && step && greedy ? 0 : -ENOMEM;

	for (s = 0; s < b && !rc; s++) {
		seqs[s] = bn_seq_new(m, o->prompt + o->tokens + 1);
		if (!seqs[s])
			rc = -ENOMEM;
		bench_prompt(ids + s * o->prompt, o->prompt, nv, s + 1);
		it[s] = (struct bn_batch_item){ .seq = seqs[s],
						.tokens = ids + s * o->prompt,
						.n_tokens = o->prompt,
						.logits = logits + (size_t)s * nv };
	}
	t0 = bench_now();
	if (!rc)
		rc = bn_forward(m, it, b);
	r->ttft = (bench_now() - t0) * 1e3;
	for (i = 0; !rc && i < n; i++) {
		t0 = bench_now();
		for (s = 0; s < b; s++) {
			tok[s] = bn_sampler_sample(greedy, logits + (size_t)s * nv, nv);
			it[s].tokens = &tok[s];
			it[s].n_tokens = 1;
		}
		rc = bn_forward(m, it, b);
		step[i] = bench_now() - t0;
		sum += step[i];
	}
	r->b = b;
	r->ok = !rc && n > 0;
	r->per = n / sum;
	r->agg = b * r->per;
	r->steady = r->agg; /* every step decodes all b */
	r->run = b * o->tokens / (r->ttft / 1e3 + sum);
	r->p50 = pct(step, n, 50) * 1e3;
	r->p99 = pct(step, n, 99) * 1e3;
	for (s = 0; s < b; s++)
		bn_seq_free(seqs[s]);
	bn_sampler_free(greedy);
	free(ids);
	free(logits);
	free(step);
	return rc;
}

/* The driver next to the sources: build/bin/../../tools/bench/. */
static void driver_path(const struct serve_opts *o, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *src = getenv("SRC");

	if (o->driver) {
		snprintf(out, len, "%s", o->driver);
	} else if (src) {
		snprintf(out, len, "%s/tools/bench/serve-driver.py", src);
	} else {
		self[n > 0 ? n : 0] = 0;
		snprintf(out, len, "%s/../../tools/bench/serve-driver.py", dirname(self));
	}
}

/*
 * Runs the D-Bus driver; fills rows[i] for o->sessions[i], and @prompt with
 * the range of its prompts' token counts (each the fewest words that make
 * at least o->prompt tokens).
 */
static int daemon_runs(const struct serve_opts *o, const char *model, int long_prompt,
		       struct serve_row *rows, int prompt[2])
{
	char drv[PATH_MAX], list[128] = "", cmd[3 * PATH_MAX], line[256], kind[8];
	struct serve_row r;
	FILE *p;
	int i, n = 0;

	driver_path(o, drv, sizeof(drv));
	for (i = 0; i < o->n_sessions; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "",
			 o->sessions[i]);
	snprintf(cmd, sizeof(cmd),
		 "'%s' '%s' --sessions %s --tokens %d --prompt %d --threads %d --reps %d"
		 " --long-prompt %d --prefill-chunk %d --pack %s",
		 drv, model, list, o->tokens, o->prompt, o->threads, o->reps, long_prompt,
		 o->prefill_chunk, o->pack);
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "prompt %d %d", &prompt[0], &prompt[1]) == 2)
			continue;
		memset(&r, 0, sizeof(r));
		if (sscanf(line, "%7s %d %lf %lf %lf %lf %lf %lf %lf %lf %lf", kind, &r.b, &r.agg,
			   &r.per, &r.p50, &r.p99, &r.ttft, &r.long_ttft, &r.steady, &r.run,
			   &r.adj) != 11)
			continue;
		for (i = 0; i < o->n_sessions; i++)
			if (o->sessions[i] == r.b) {
				r.ok = true;
				rows[i] = r;
				n++;
			}
	}
	if (pclose(p) || n != o->n_sessions) {
		fprintf(stderr, "bitnet-bench serve: %s failed\n", drv);
		return -EIO;
	}
	return 0;
}

struct roofline {
	double gbs, gmacs, bytes, macs; /* per decode step of one token */
	double head_bytes, head_macs;	/* the output head's part of them */
	double kv_bytes;		/* one session's cache at the mean context */
};

static double roof_tps(const struct roofline *rf, int b)
{
	double mem = rf->bytes / (rf->gbs * 1e9), cmp = b * rf->macs / (rf->gmacs * 1e9);

	return b / (mem > cmp ? mem : cmp);
}

static double part_seconds(double bytes, double macs, const struct roofline *rf, int b)
{
	double mem = bytes / (rf->gbs * 1e9), cmp = b * macs / (rf->gmacs * 1e9);

	return mem > cmp ? mem : cmp;
}

/* The ceiling of the comment at the top: the step's parts one after another. */
static double ceil_tps(const struct roofline *rf, int b)
{
	return b / (part_seconds(rf->bytes - rf->head_bytes, rf->macs - rf->head_macs, rf, b) +
		    part_seconds(rf->head_bytes, rf->head_macs, rf, b) +
		    b * rf->kv_bytes / (rf->gbs * 1e9));
}

/* @prompt: the range of the prompts' token counts */
static void print_table(const char *what, const struct serve_opts *o, const int prompt[2],
			const struct serve_row *rows, const struct roofline *rf)
{
	int i;

	printf("\n%s: %d tokens per session, prompts of %d", what, o->tokens, prompt[0]);
	if (prompt[1] != prompt[0])
		printf("-%d", prompt[1]);
	printf(" tokens, %d thread(s), best of %d\n", o->threads, o->reps);
	printf("%3s %9s %9s %9s %9s %8s %8s %8s %7s %7s %7s %8s %7s %7s %8s %7s %7s\n", "B",
	       "agg t/s", "steady", "run t/s", "per-sess", "p50 ms", "p99 ms", "TTFT ms", "x1 agg",
	       "x1 st", "x1 adj", "roof t/s", "%roof", "%roof st", "ceil t/s", "x1 ceil", "%ceil");
	for (i = 0; i < o->n_sessions; i++) {
		const struct serve_row *r = &rows[i], *one = &rows[0];
		double roof = roof_tps(rf, o->sessions[i]), cl = ceil_tps(rf, o->sessions[i]);

		if (!r->ok) {
			printf("%3d (failed)\n", o->sessions[i]);
			continue;
		}
		printf("%3d %9.2f %9.2f %9.2f %9.2f %8.1f %8.1f %8.1f %7.2f %7.2f %7.2f %8.1f "
		       "%6.0f%% %6.0f%% %8.1f %7.2f %6.0f%%\n",
		       r->b, r->agg, r->steady, r->run, r->per, r->p50, r->p99, r->ttft,
		       one->ok ? r->agg / one->agg : 0, one->ok ? r->steady / one->steady : 0,
		       r->adj, roof, 100.0 * r->agg / roof, 100.0 * r->steady / roof, cl,
		       cl / ceil_tps(rf, 1), 100.0 * r->agg / cl);
	}
}

/*
 * Weight bytes and MACs of one token: every linear and the output head; and
 * one session's KV cache (floats) at the mean context of @positions.
 */
static int measure_roofline(const char *model, int threads, enum bn_pack_kind pack,
			    double positions, struct roofline *rf)
{
	struct bn_load_opts lo = { .backend = BN_BACKEND_CPU, .threads = threads, .pack = pack };
	const struct bn_model_info *in;
	struct bnc_pool *pool;
	struct bn_model *m;
	char err[512];
	double kv, gemm;

	if (bn_model_load(model, &lo, &m, err, sizeof(err))) {
		fprintf(stderr, "bitnet-bench serve: %s\n", err);
		return -EINVAL;
	}
	in = bn_model_info(m);
	kv = (double)in->n_embd / in->n_head * in->n_head_kv;
	rf->macs = in->n_layer * ((double)in->n_embd * (2.0 * in->n_embd + 2.0 * kv) +
				  3.0 * in->n_embd * in->n_ff) +
		   (double)in->n_vocab * in->n_embd;
	/* the packed linears, and the head as the engine holds it */
	rf->head_macs = (double)in->n_vocab * in->n_embd;
	rf->head_bytes = (double)in->head_bytes;
	rf->bytes = (double)in->weight_bytes + rf->head_bytes;
	rf->kv_bytes = positions * in->n_layer * 2.0 * kv * sizeof(float);
	bn_model_free(m);
	pool = bnc_pool_new(threads);
	if (!pool)
		return -ENOMEM;
	rf->gbs = bench_dram_gbs(pool);
	gemm = bench_gemm_gmacs(pool, 2560, 2560, 128);
	rf->gmacs = bench_int8_peak_gmacs(pool);
	bnc_pool_free(pool);
	printf("# roofline: %.1f MB of weights and %.3f G MACs per token; this run, %d thread(s): "
	       "DRAM read %.1f GB/s, int8 peak %.0f G MAC/s (the GEMM 2560 x 2560 by 128 tokens: "
	       "%.0f)\n",
	       rf->bytes / 1e6, rf->macs / 1e9, threads, rf->gbs, rf->gmacs, gemm);
	return 0;
}

/* Both rates again once the runs are over: one session follows DRAM's. */
static void remeasure_rates(int threads, struct roofline *rf)
{
	struct bnc_pool *pool = bnc_pool_new(threads);
	double gbs = rf->gbs, gmacs = rf->gmacs;

	if (!pool)
		return;
	bench_rates_again(pool, &rf->gbs, &rf->gmacs);
	bnc_pool_free(pool);
	printf("# DRAM read %.1f GB/s and int8 peak %.0f G MAC/s before the runs; the roofline "
	       "takes %.1f and %.0f (the larger of each and a reading after them)\n",
	       gbs, gmacs, rf->gbs, rf->gmacs);
}

/*
 * Each B but 1 right after a run of one session, and each row's adj the
 * median of the ratios of the two over the repetitions that ran.
 */
static int engine_runs(const struct serve_opts *o, const char *model, struct serve_row *rows)
{
	struct bn_load_opts lo = { .backend = BN_BACKEND_CPU, .threads = o->threads };
	double *ratio = calloc((size_t)o->n_sessions * o->reps, sizeof(double));
	struct serve_row r, one;
	struct bn_model *m;
	int rep, i, rc, n_ok[MAX_NS] = { 0 };
	char err[512];

	bn_pack_kind_parse(o->pack, &lo.pack); /* checked by parse() */
	if (!ratio || bn_model_load(model, &lo, &m, err, sizeof(err))) {
		fprintf(stderr, "bitnet-bench serve: %s\n", ratio ? err : "out of memory");
		free(ratio);
		return -EINVAL;
	}
	engine_run(m, 1, &(struct serve_opts){ .prompt = 4, .tokens = 4 }, &r); /* warm up */
	for (rep = 0; rep < o->reps; rep++) {
		for (i = 0; i < o->n_sessions; i++) {
			rc = o->sessions[i] == 1 ? 0 : engine_run(m, 1, o, &one);
			rc = rc ? rc : engine_run(m, o->sessions[i], o, &r);
			fprintf(stderr,
				"engine rep %d B=%d: %.2f tok/s aggregate (one session just "
				"before: %.2f)%s\n",
				rep + 1, o->sessions[i], rc ? 0 : r.agg,
				o->sessions[i] == 1 || rc ? 0 : one.agg, rc ? " (failed)" : "");
			if (rc)
				continue;
			ratio[i * o->reps + n_ok[i]++] = o->sessions[i] == 1 ? 1 : r.agg / one.agg;
			if (!rows[i].ok || r.agg > rows[i].agg)
				rows[i] = r;
		}
	}
	for (i = 0; i < o->n_sessions; i++)
		rows[i].adj = median(ratio + i * o->reps, n_ok[i]);
	bn_model_free(m);
	free(ratio);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bitnet-bench serve [--model M.gguf | --shape 2b4t|small|tiny] [--workdir DIR]\n"
		"         [--sessions 1,2,4,8,16] [--tokens N] [--prompt N] [--threads N] [--reps N]\n"
		"         [--engine-only | --both] [--long-prompt WORDS [--prefill-chunk N]]\n"
		"         [--driver serve-driver.py] [--keep] [--pack auto|r16|t5|dual|lut3|dual-lut3]\n"
		"Without --model, bitnet-mkmodel writes the shape (default 2b4t) into --workdir\n"
		"(default /var/tmp). --prompt: tokens (through the daemon: the fewest words that\n"
		"make at least as many).\n"
		"--long-prompt: a prompt of WORDS words arrives while the sessions decode; their\n"
		"p99 per token is printed with it prefilled in chunks (the daemon's PrefillChunk,\n"
		"or --prefill-chunk) and in one piece.\n");
}

static int parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {
		{ "model", 1, NULL, 'm' },
		{ "shape", 1, NULL, 's' },
		{ "workdir", 1, NULL, 'w' },
		{ "sessions", 1, NULL, 'S' },
		{ "tokens", 1, NULL, 'n' },
		{ "prompt", 1, NULL, 'p' },
		{ "threads", 1, NULL, 't' },
		{ "reps", 1, NULL, 'r' },
		{ "engine-only", 0, NULL, 'E' },
		{ "both", 0, NULL, 'B' },
		{ "long-prompt", 1, NULL, 'L' },
		{ "prefill-chunk", 1, NULL, 'C' },
		{ "driver", 1, NULL, 'd' },
		{ "keep", 0, NULL, 'k' },
		{ "pack", 1, NULL, 'P' },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum bn_pack_kind pack;
	char *tok, *save = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 's':
			o->shape = optarg;
			break;
		case 'w':
			o->workdir = optarg;
			break;
		case 'S':
			o->n_sessions = 0;
			for (tok = strtok_r(optarg, ",", &save); tok && o->n_sessions < MAX_NS;
			     tok = strtok_r(NULL, ",", &save))
				o->sessions[o->n_sessions++] = atoi(tok);
			break;
		case 'n':
			o->tokens = atoi(optarg);
			break;
		case 'p':
			o->prompt = atoi(optarg);
			break;
		case 't':
			o->threads = atoi(optarg);
			break;
		case 'r':
			o->reps = atoi(optarg);
			break;
		case 'E':
			o->daemon = false;
			break;
		case 'B':
			o->engine = true;
			break;
		case 'L':
			o->long_prompt = atoi(optarg);
			break;
		case 'C':
			o->prefill_chunk = atoi(optarg);
			break;
		case 'd':
			o->driver = optarg;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'P':
			o->pack = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o->daemon)
		o->engine = true;
	for (c = 0; c < o->n_sessions; c++)
		if (o->sessions[c] < 1 || o->sessions[c] > MAX_B)
			o->n_sessions = 0;
	if (o->n_sessions < 1 || o->tokens < 2 || o->tokens > 4096 || o->prompt < 1 ||
	    o->prompt > 1024 || o->threads < 1 || o->reps < 1 || o->long_prompt < 0 ||
	    o->prefill_chunk < 0 || optind != argc || bn_pack_kind_parse(o->pack, &pack)) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static int model_path(const struct serve_opts *o, char *out, size_t len)
{
	size_t i;

	if (o->model) {
		snprintf(out, len, "%s", o->model);
		return 0;
	}
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (strcmp(shapes[i].name, o->shape))
			continue;
		snprintf(out, len, "%s/bitnet-bench-%s-i2_s.gguf", o->workdir, o->shape);
		return bench_mkmodel(shapes[i].args, out, o->shape);
	}
	fprintf(stderr, "bitnet-bench serve: unknown --shape %s\n", o->shape);
	return -EINVAL;
}

static int long_prompt_runs(const struct serve_opts *o, const char *model)
{
	struct serve_row chunked[MAX_NS] = { 0 }, whole[MAX_NS] = { 0 };
	struct serve_opts one = *o;
	int i, prompt[2];

	one.prefill_chunk = 1 << 20; /* the whole prompt in one step */
	if (daemon_runs(o, model, o->long_prompt, chunked, prompt) ||
	    daemon_runs(&one, model, o->long_prompt, whole, prompt))
		return 1;
	printf("\nlong prompt of %d words arriving while B sessions decode: their per-token time, "
	       "and the long request's TTFT\n%3s %12s %12s %16s %12s %12s %16s\n",
	       o->long_prompt, "B", "chunked p50", "chunked p99", "chunked long TTFT", "whole p50",
	       "whole p99", "whole long TTFT");
	for (i = 0; i < o->n_sessions; i++)
		printf("%3d %12.1f %12.1f %16.1f %12.1f %12.1f %16.1f\n", o->sessions[i],
		       chunked[i].p50, chunked[i].p99, chunked[i].long_ttft, whole[i].p50,
		       whole[i].p99, whole[i].long_ttft);
	return 0;
}

int bench_serve_main(int argc, char **argv)
{
	struct serve_opts o = { .workdir = "/var/tmp",
				.shape = "2b4t",
				.sessions = { 1, 2, 4, 8, 16 },
				.n_sessions = 5,
				.tokens = 32,
				.prompt = 24,
				.threads = 2,
				.reps = 2,
				.pack = "auto",
				.daemon = true };
	enum bn_pack_kind pack = BN_PACK_AUTO;
	struct serve_row eng[MAX_NS] = { 0 }, dmn[MAX_NS] = { 0 };
	struct roofline rf;
	char model[PATH_MAX];
	int rc, i, eng_prompt[2], dmn_prompt[2] = { 0, 0 };

	rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	bn_pack_kind_parse(o.pack, &pack); /* checked by parse() */
	if (model_path(&o, model, sizeof(model)) ||
	    measure_roofline(model, o.threads, pack, o.prompt + o.tokens / 2.0, &rf))
		return 1;
	if (o.long_prompt) {
		rc = long_prompt_runs(&o, model);
		goto out;
	}
	if (o.engine && engine_runs(&o, model, eng))
		rc = 1;
	if (o.daemon && daemon_runs(&o, model, 0, dmn, dmn_prompt))
		rc = 1;
	eng_prompt[0] = eng_prompt[1] = o.prompt;
	remeasure_rates(o.threads, &rf);
	printf("# model %s; roofline(B) = B / max(bytes / DRAM read, B x MACs / int8 peak); "
	       "ceil(B): linears, head and B KV caches in turn, each at its own bound (KV at %.1f "
	       "MB a session)\n",
	       model, rf.kv_bytes / 1e6);
	if (o.engine)
		print_table("engine alone (bn_forward, no D-Bus)", &o, eng_prompt, eng, &rf);
	if (o.daemon)
		print_table("bitnetd on a private bus, one client per session", &o, dmn_prompt, dmn,
			    &rf);
	for (i = 0; o.engine && o.daemon && i < o.n_sessions; i++)
		if (eng[i].ok && dmn[i].ok)
			printf("B=%d: the daemon adds %.1f ms per token at p50 (%.1f vs %.1f)\n",
			       o.sessions[i], dmn[i].p50 - eng[i].p50, dmn[i].p50, eng[i].p50);
	for (i = 0; i < o.n_sessions; i++)
		if ((o.engine && !eng[i].ok) || (o.daemon && !dmn[i].ok))
			rc = 1;
out:
	if (!o.keep && !o.model)
		unlink(model);
	return rc;
}
