// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-run: generate text, score perplexity or tokenize with the engine,
 * in process (no daemon). See man/bitnet-run.1.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/engine/engine.h"
#include "tools/run/attach.h"

#define MAX_STOPS 16

struct run_opts {
	const char *model;
	const char *prompt;
	const char *ppl_file;
	const char *tok_text;
	const char *tok_file;
	const char *attach; /* bitnetd's model name */
	const char *stops[MAX_STOPS];
	int n_stops;
	long n_gen;
	long ctx;
	long chunks;
	bool ids;
	bool no_bos;
	bool special;
	bool chat;
	bool ignore_eos;
	bool all_positions;
	bool quiet;
	struct bn_load_opts load;
	struct bn_sampler_params sp;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bitnet-run MODEL [options]\n"
		   "  generate:   --prompt TEXT [-n N] [--temp T] [--top-k K] [--top-p P]\n"
		   "              [--min-p P] [--typical-p P] [--repeat-penalty R]\n"
		   "              [--repeat-last-n N] [--presence-penalty X]\n"
		   "              [--frequency-penalty X] [--seed S] [--stop STR]...\n"
		   "              [--chat] [--ids] [--ignore-eos] [--ctx N]\n"
		   "  perplexity: --perplexity FILE [--ctx N] [--chunks N] [--all-positions]\n"
		   "  tokenize:   --tokenize TEXT | --tokenize-file FILE [--no-bos] [--special]\n"
		   "  common:     --backend cpu|kmod|auto  --threads N  --quiet\n"
		   "              --head auto|file|q8|q4  --pack auto|r16|t5|dual|lut3|dual-lut3\n"
		   "              --dense\n"
		   "              --attach NAME (bitnetd's model NAME's weights, same file)\n");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_float(const char *s, float *out)
{
	char *end;
	float v;

	errno = 0;
	v = strtof(s, &end);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			char *p;

			cap = cap ? cap * 2 : 1 << 20;
			p = realloc(buf, cap + 1);
			if (!p) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Tokenizes @text into a malloc'd array; the count in *n. */
static int32_t *tokenize(const struct bn_vocab *v, const char *text, size_t len, bool bos,
			 bool special, int *n)
{
	size_t cap = len + 16;
	int32_t *ids = malloc(cap * sizeof(int32_t));
	int got;

	if (!ids)
		return NULL;
	got = bn_tokenize(v, text, len, bos, special, ids, cap);
	if (got > (int)cap) {
		int32_t *p = realloc(ids, (size_t)got * sizeof(int32_t));

		if (!p) {
			free(ids);
			return NULL;
		}
		ids = p;
		got = bn_tokenize(v, text, len, bos, special, ids, got);
	}
	if (got < 0) {
		fprintf(stderr, "bitnet-run: the text is not valid UTF-8\n");
		free(ids);
		return NULL;
	}
	*n = got;
	return ids;
}

static int do_tokenize(const struct run_opts *o)
{
	struct bn_vocab *v;
	char err[512];
	char *text;
	size_t len;
	int32_t *ids;
	int n, i, rc;

	rc = bn_vocab_load(o->model, &v, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bitnet-run: %s\n", err);
		return 1;
	}
	if (o->tok_file) {
		text = read_file(o->tok_file, &len);
		if (!text) {
			fprintf(stderr, "bitnet-run: %s: %s\n", o->tok_file, strerror(errno));
			bn_vocab_free(v);
			return 1;
		}
	} else {
		text = strdup(o->tok_text);
		len = strlen(o->tok_text);
	}
	ids = text ? tokenize(v, text, len, !o->no_bos && bn_vocab_add_bos(v), o->special, &n) :
		     NULL;
	free(text);
	if (!ids) {
		bn_vocab_free(v);
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", ids[i]);
	printf("\n");
	free(ids);
	bn_vocab_free(v);
	return 0;
}

static void progress(double fraction, void *userdata)
{
	int *last = userdata, pct = (int)(fraction * 100), i;

	if (pct == *last)
		return;
	*last = pct;
	fprintf(stderr, "\rloading [");
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%%s", pct, pct == 100 ? "\n" : "");
}

/*
 * llama.cpp's perplexity: each chunk starts with BOS; by default only its
 * second half is scored.
 */
static int do_perplexity(struct bn_model *m, const struct run_opts *o)
{
	const struct bn_model_info *in = bn_model_info(m);
	const struct bn_vocab *v = bn_model_vocab(m);
	long ctx = o->ctx ? o->ctx : (in->n_ctx < 512 ? in->n_ctx : 512);
	int n, rc = 1;
	size_t len;
	char *text = read_file(o->ppl_file, &len);
	int32_t *ids = NULL;
	float *logits = NULL;
	struct bn_seq *seq = NULL;
	double nll = 0, t0 = now();
	long chunk, n_chunks, scored = 0, first, j;

	if (!text) {
		fprintf(stderr, "bitnet-run: %s: %s\n", o->ppl_file, strerror(errno));
		return 1;
	}
	ids = tokenize(v, text, len, bn_vocab_add_bos(v), false, &n);
	free(text);
	if (!ids)
		return 1;
	if (ctx < 2 || ctx > (long)in->n_ctx) {
		fprintf(stderr, "bitnet-run: --ctx must be in [2, %u]\n", in->n_ctx);
		goto out;
	}
	n_chunks = n / ctx;
	if (o->chunks && o->chunks < n_chunks)
		n_chunks = o->chunks;
	if (!n_chunks) {
		fprintf(stderr, "bitnet-run: %d tokens are fewer than one chunk of %ld\n", n, ctx);
		goto out;
	}
	logits = malloc((size_t)ctx * in->n_vocab * sizeof(float));
	seq = bn_seq_new(m, (uint32_t)ctx);
	if (!logits || !seq) {
		fprintf(stderr, "bitnet-run: out of memory\n");
		goto out;
	}
	first = o->all_positions ? 0 : ctx / 2;
	for (chunk = 0; chunk < n_chunks; chunk++) {
		int32_t *tok = ids + chunk * ctx;
		struct bn_batch_item it = {
			.seq = seq, .tokens = tok, .n_tokens = (uint32_t)ctx, .all_logits = logits
		};

		if (in->bos >= 0)
			tok[0] = in->bos;
		bn_seq_truncate(seq, 0);
		rc = bn_forward(m, &it, 1);
		if (rc) {
			fprintf(stderr, "bitnet-run: forward pass failed: %s\n", strerror(-rc));
			rc = 1;
			goto out;
		}
		for (j = first; j < ctx - 1; j++) {
			const float *l = logits + (size_t)j * in->n_vocab;
			double mx = -INFINITY, s = 0;
			uint32_t k;

			for (k = 0; k < in->n_vocab; k++)
				if (l[k] > mx)
					mx = l[k];
			for (k = 0; k < in->n_vocab; k++)
				s += exp(l[k] - mx);
			nll += log(s) + mx - l[tok[j + 1]];
			scored++;
		}
		if (!o->quiet)
			fprintf(stderr, "[%ld] %.4f\n", chunk + 1, exp(nll / scored));
	}
	if (!o->quiet)
		fprintf(stderr, "%ld chunks of %ld, %ld tokens scored, %.2f s\n", n_chunks, ctx,
			scored, now() - t0);
	printf("perplexity: %.4f\n", exp(nll / scored));
	rc = 0;
out:
	bn_seq_free(seq);
	free(logits);
	free(ids);
	return rc;
}

/* Tokenizes the prompt, through the chat template with --chat. */
static int32_t *prompt_ids(struct bn_model *m, const struct run_opts *o, int *n)
{
	const struct bn_vocab *v = bn_model_vocab(m);
	char *prompt;
	int32_t *ids = NULL;

	if (o->chat) {
		struct bn_chat_msg msg = { "user", o->prompt };
		int e;

		prompt = bn_chat_format(m, &msg, 1, &e);
		if (!prompt) {
			fprintf(stderr, "bitnet-run: chat formatting failed: %s\n", strerror(-e));
			return NULL;
		}
	} else {
		prompt = strdup(o->prompt);
	}
	if (prompt)
		ids = tokenize(v, prompt, strlen(prompt), bn_vocab_add_bos(v), o->chat, n);
	free(prompt);
	return ids;
}

static void print_text(struct bn_gen *g, bool all)
{
	const char *text;
	size_t len = bn_gen_take_text(g, all, &text);

	fwrite(text, 1, len, stdout);
	fflush(stdout);
}

/*
 * The engine's generator, as bitnetd runs it, on one sequence: each step's
 * text is printed once it cannot become a stop string.
 */
static int do_generate(struct bn_model *m, const struct run_opts *o)
{
	struct bn_gen_params gp = {
		.sp = &o->sp,
		.stops = o->stops,
		.n_stops = (size_t)o->n_stops,
		.ignore_eos = o->ignore_eos,
	};
	struct bn_batch_item it;
	struct bn_gen *g = NULL;
	struct bn_seq *seq = NULL;
	char err[256];
	int32_t *ids, tok;
	int n = 0, rc = 1, end = BN_GEN_MORE;
	uint32_t room;
	double t0, t1, t2;

	if (bn_sampler_params_check(&o->sp, err, sizeof(err))) {
		fprintf(stderr, "bitnet-run: %s\n", err);
		return 1;
	}
	ids = prompt_ids(m, o, &n);
	if (!ids)
		return 1;
	seq = bn_seq_new(m, o->ctx ? (uint32_t)o->ctx : 0);
	if (!seq) {
		fprintf(stderr, "bitnet-run: out of memory\n");
		goto out;
	}
	if (!n || (uint32_t)n >= bn_seq_capacity(seq)) {
		fprintf(stderr, "bitnet-run: the prompt is %d tokens; the context holds %u\n", n,
			bn_seq_capacity(seq));
		goto out;
	}
	/* the last token is sampled from the last position: it needs no room */
	room = bn_seq_capacity(seq) - (uint32_t)n + 1;
	gp.max_tokens = (uint32_t)o->n_gen < room ? (uint32_t)o->n_gen : room;
	g = bn_gen_new(m, &gp);
	if (!g) {
		fprintf(stderr, "bitnet-run: out of memory\n");
		goto out;
	}
	bn_gen_prompt(g, ids, (uint32_t)n);
	t0 = now();
	it = (struct bn_batch_item){
		.seq = seq, .tokens = ids, .n_tokens = (uint32_t)n, .logits = bn_gen_logits(g)
	};
	rc = bn_forward(m, &it, 1);
	t1 = now();
	while (!rc && o->n_gen && end == BN_GEN_MORE) {
		end = bn_gen_step(g, &tok);
		if (end < 0 || end == BN_GEN_EOS)
			break;
		if (o->ids)
			printf("%s%d", bn_gen_n_tokens(g) > 1 ? " " : "", tok);
		else
			print_text(g, end != BN_GEN_MORE);
		if (end == BN_GEN_MORE) {
			it.tokens = &tok;
			it.n_tokens = 1;
			rc = bn_forward(m, &it, 1);
		}
	}
	t2 = now();
	if (rc) {
		fprintf(stderr, "bitnet-run: forward pass failed: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	if (end < 0) {
		fprintf(stderr, "bitnet-run: %s\n",
			end == -ENOMEM ? "out of memory" : "sampling failed");
		rc = 1;
		goto out;
	}
	if (end == BN_GEN_LENGTH && gp.max_tokens == room)
		fprintf(stderr, "\nbitnet-run: context full (%u tokens)\n", bn_seq_capacity(seq));
	if (!o->ids)
		print_text(g, true);
	printf("\n");
	if (!o->quiet)
		fprintf(stderr, "prompt: %d tokens, %.1f tok/s; generated: %u tokens, %.1f tok/s\n",
			n, n / (t1 - t0), bn_gen_n_tokens(g),
			bn_gen_n_tokens(g) > 1 ? (bn_gen_n_tokens(g) - 1) / (t2 - t1) : 0.0);
	rc = 0;
out:
	bn_gen_free(g);
	bn_seq_free(seq);
	free(ids);
	return rc;
}

enum {
	OPT_PROMPT = 256,
	OPT_TEMP,
	OPT_TOPK,
	OPT_TOPP,
	OPT_MINP,
	OPT_TYPICAL,
	OPT_REPEAT,
	OPT_REPEAT_N,
	OPT_PRESENCE,
	OPT_FREQUENCY,
	OPT_SEED,
	OPT_STOP,
	OPT_CHAT,
	OPT_IDS,
	OPT_IGNORE_EOS,
	OPT_CTX,
	OPT_PPL,
	OPT_CHUNKS,
	OPT_ALLPOS,
	OPT_TOK,
	OPT_TOKFILE,
	OPT_NOBOS,
	OPT_SPECIAL,
	OPT_BACKEND,
	OPT_THREADS,
	OPT_QUIET,
	OPT_HELP,
	OPT_HEAD,
	OPT_PACK,
	OPT_DENSE,
	OPT_ATTACH,
};

static const struct option long_opts[] = {
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ "temp", required_argument, NULL, OPT_TEMP },
	{ "top-k", required_argument, NULL, OPT_TOPK },
	{ "top-p", required_argument, NULL, OPT_TOPP },
	{ "min-p", required_argument, NULL, OPT_MINP },
	{ "typical-p", required_argument, NULL, OPT_TYPICAL },
	{ "repeat-penalty", required_argument, NULL, OPT_REPEAT },
	{ "repeat-last-n", required_argument, NULL, OPT_REPEAT_N },
	{ "presence-penalty", required_argument, NULL, OPT_PRESENCE },
	{ "frequency-penalty", required_argument, NULL, OPT_FREQUENCY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "stop", required_argument, NULL, OPT_STOP },
	{ "chat", no_argument, NULL, OPT_CHAT },
	{ "ids", no_argument, NULL, OPT_IDS },
	{ "ignore-eos", no_argument, NULL, OPT_IGNORE_EOS },
	{ "ctx", required_argument, NULL, OPT_CTX },
	{ "perplexity", required_argument, NULL, OPT_PPL },
	{ "chunks", required_argument, NULL, OPT_CHUNKS },
	{ "all-positions", no_argument, NULL, OPT_ALLPOS },
	{ "tokenize", required_argument, NULL, OPT_TOK },
	{ "tokenize-file", required_argument, NULL, OPT_TOKFILE },
	{ "no-bos", no_argument, NULL, OPT_NOBOS },
	{ "special", no_argument, NULL, OPT_SPECIAL },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "head", required_argument, NULL, OPT_HEAD },
	{ "pack", required_argument, NULL, OPT_PACK },
	{ "dense", no_argument, NULL, OPT_DENSE },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *what)
{
	fprintf(stderr, "bitnet-run: invalid value for %s\n", what);
	return 2;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	long l;
	int c;

	o->n_gen = 64;
	bn_sampler_params_default(&o->sp);
	while ((c = getopt_long(argc, argv, "n:t:h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PROMPT:
			o->prompt = optarg;
			break;
		case 'n':
			if (!parse_long(optarg, 0, 1 << 20, &o->n_gen))
				return bad("-n");
			break;
		case OPT_TEMP:
			if (!parse_float(optarg, &o->sp.temperature))
				return bad("--temp");
			break;
		case OPT_TOPK:
			if (!parse_long(optarg, 0, INT32_MAX, &l))
				return bad("--top-k");
			o->sp.top_k = (int32_t)l;
			break;
		case OPT_TOPP:
			if (!parse_float(optarg, &o->sp.top_p))
				return bad("--top-p");
			break;
		case OPT_MINP:
			if (!parse_float(optarg, &o->sp.min_p))
				return bad("--min-p");
			break;
		case OPT_TYPICAL:
			if (!parse_float(optarg, &o->sp.typical_p))
				return bad("--typical-p");
			break;
		case OPT_REPEAT:
			if (!parse_float(optarg, &o->sp.repeat_penalty))
				return bad("--repeat-penalty");
			break;
		case OPT_REPEAT_N:
			if (!parse_long(optarg, -1, INT32_MAX, &l))
				return bad("--repeat-last-n");
			o->sp.repeat_last_n = (int32_t)l;
			break;
		case OPT_PRESENCE:
			if (!parse_float(optarg, &o->sp.presence_penalty))
				return bad("--presence-penalty");
			break;
		case OPT_FREQUENCY:
			if (!parse_float(optarg, &o->sp.frequency_penalty))
				return bad("--frequency-penalty");
			break;
		case OPT_SEED: {
			char *end;

			errno = 0;
			o->sp.seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				return bad("--seed");
			break;
		}
		case OPT_STOP:
			if (o->n_stops == MAX_STOPS)
				return bad("--stop (at most 16)");
			o->stops[o->n_stops++] = optarg;
			break;
		case OPT_CHAT:
			o->chat = true;
			break;
		case OPT_IDS:
			o->ids = true;
			break;
		case OPT_IGNORE_EOS:
			o->ignore_eos = true;
			break;
		case OPT_CTX:
			if (!parse_long(optarg, 1, 1 << 20, &o->ctx))
				return bad("--ctx");
			break;
		case OPT_PPL:
			o->ppl_file = optarg;
			break;
		case OPT_CHUNKS:
			if (!parse_long(optarg, 1, INT32_MAX, &o->chunks))
				return bad("--chunks");
			break;
		case OPT_ALLPOS:
			o->all_positions = true;
			break;
		case OPT_TOK:
			o->tok_text = optarg;
			break;
		case OPT_TOKFILE:
			o->tok_file = optarg;
			break;
		case OPT_NOBOS:
			o->no_bos = true;
			break;
		case OPT_SPECIAL:
			o->special = true;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "cpu"))
				o->load.backend = BN_BACKEND_CPU;
			else if (!strcmp(optarg, "kmod"))
				o->load.backend = BN_BACKEND_KMOD;
			else if (!strcmp(optarg, "auto"))
				o->load.backend = BN_BACKEND_AUTO;
			else
				return bad("--backend (cpu, kmod or auto)");
			break;
		case 't':
		case OPT_THREADS:
			if (!parse_long(optarg, 0, 1024, &l))
				return bad("--threads");
			o->load.threads = (int)l;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_HEAD:
			if (bn_head_kind_parse(optarg, &o->load.head))
				return bad("--head (auto, file, q8 or q4)");
			break;
		case OPT_PACK:
			if (bn_pack_kind_parse(optarg, &o->load.pack))
				return bad("--pack (auto, r16, t5, dual, lut3 or dual-lut3)");
			break;
		case OPT_DENSE:
			o->load.dense = true;
			break;
		case OPT_ATTACH:
			o->attach = optarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	o->model = argv[optind];
	if (!!o->prompt + !!o->ppl_file + !!o->tok_text + !!o->tok_file != 1) {
		fprintf(stderr, "bitnet-run: give exactly one of --prompt, --perplexity, "
				"--tokenize, --tokenize-file\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct bn_model *m;
	char err[1024];
	int rc, last = -1;

	o.load.backend = BN_BACKEND_CPU;
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (o.tok_text || o.tok_file)
		return do_tokenize(&o);
	if (!o.quiet && isatty(STDERR_FILENO)) {
		o.load.progress = progress;
		o.load.userdata = &last;
	}
	rc = o.attach ? run_attach_setup(o.attach, &o.load, err, sizeof(err)) : 0;
	if (!rc) {
		rc = bn_model_load(o.model, &o.load, &m, err, sizeof(err));
		if (o.attach)
			run_attach_done(&o.load, rc, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "bitnet-run: %s\n", err);
		return 1;
	}
	if (!o.quiet) {
		const struct bn_model_info *in = bn_model_info(m);

		fprintf(stderr,
			"%s: %s, %s weights%s, %u layers, %u embd, %u vocab, %s head, "
			"backend %s, %s layout\n",
			in->name, in->arch, in->weight_type, o.load.dense ? " (dense)" : "",
			in->n_layer, in->n_embd, in->n_vocab, in->head, in->backend, in->pack);
	}
	rc = o.ppl_file ? do_perplexity(m, &o) : do_generate(m, &o);
	bn_model_free(m);
	return rc;
}
