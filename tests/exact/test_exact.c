// SPDX-License-Identifier: GPL-2.0
/*
 * Exactness against the reference models in ../shared/models/: for every
 * model folder and every GGUF encoding in it, the engine must reproduce the
 * independent PyTorch implementation's "actq" outputs (README.md there):
 * identical tokenization, greedy ids up to each prompt's stable prefix,
 * last-position logits within 0.1, held-out perplexity within 0.1%; and the
 * module backend, when /dev/bitnet is usable, must give identical logits,
 * as must the cpu backend's weight layouts (check_packs). Then each head
 * format's cost on the packed file (check_head_variant).
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/engine/engine.h"

#define MAX_FILES 32
#define LOGIT_TOL 0.1
#define PPL_REL_TOL 0.001
#define PPL_CTX 256

static int test_no;

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static float *read_floats(const char *dir, const char *name, size_t n)
{
	char path[4096 + 256];
	float *buf = malloc(n * sizeof(float));
	FILE *f;

	snprintf(path, sizeof(path), "%s/ref/%s", dir, name);
	f = fopen(path, "rb");
	if (!f || !buf || fread(buf, sizeof(float), n, f) != n) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = n;
	}
	return buf;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);

		if (!(d <= m))
			m = d;
	}
	return m;
}

static uint32_t argmax(const float *x, uint32_t n)
{
	uint32_t i, b = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

/*
 * Prompt prefill (its last logits into @first), then @n greedy tokens with
 * the KV cache into @toks; @logits is work space.
 */
static int greedy(struct bn_model *m, const int32_t *ids, int n_ids, float *logits, float *first,
		  int32_t *toks, int n)
{
	struct bn_seq *seq = bn_seq_new(m, 0);
	struct bn_batch_item it = {
		.seq = seq, .tokens = ids, .n_tokens = (uint32_t)n_ids, .logits = logits
	};
	uint32_t nv = bn_model_info(m)->n_vocab;
	int i, rc = seq ? bn_forward(m, &it, 1) : -ENOMEM;

	if (!rc)
		memcpy(first, logits, nv * sizeof(float));
	for (i = 0; !rc && i < n; i++) {
		toks[i] = (int32_t)argmax(logits, nv);
		it.tokens = &toks[i];
		it.n_tokens = 1;
		rc = bn_forward(m, &it, 1);
	}
	bn_seq_free(seq);
	return rc;
}

/*
 * Prefill of prompt @p's reference ids into @seq (emptied first), its last
 * logits into @logits: max |diff| from the reference's "actq" ones.
 */
static double last_logits_diff(struct bn_model *m, struct bn_seq *seq, const char *dir,
			       struct json_object *p, float *logits)
{
	struct json_object *jids = get(p, "ids");
	uint32_t nv = bn_model_info(m)->n_vocab, n = (uint32_t)json_object_array_length(jids), i;
	float *ref = read_floats(
		dir, json_object_get_string(get(get(p, "actq"), "last_logits_file")), nv);
	int32_t ids[1024];
	struct bn_batch_item it = { .seq = seq, .tokens = ids, .n_tokens = n, .logits = logits };
	double d = INFINITY;

	for (i = 0; i < n && i < 1024; i++)
		ids[i] = json_object_get_int(json_object_array_get_idx(jids, i));
	bn_seq_truncate(seq, 0);
	if (ref && n <= 1024 && !bn_forward(m, &it, 1))
		d = max_abs_diff(logits, ref, nv);
	free(ref);
	return d;
}

/* Tokenization, last logits and greedy for one prompt. */
static void check_prompt(struct bn_model *m, struct bn_model *mk, const char *dir, const char *file,
			 int pi, struct json_object *p)
{
	const struct bn_model_info *in = bn_model_info(m);
	struct json_object *jids = get(p, "ids"), *act = get(p, "actq");
	struct json_object *gids = get(act, "greedy_ids");
	const char *text = json_object_get_string(get(p, "text"));
	int n_ref = (int)json_object_array_length(jids), n, i, stable;
	int32_t ids[1024];
	float *logits = malloc(in->n_vocab * sizeof(float));
	float *logits_k = malloc(in->n_vocab * sizeof(float));
	float *work = malloc(in->n_vocab * sizeof(float));
	int32_t toks[32];
	struct bn_seq *seq = bn_seq_new(m, 0);
	bool same = true;
	int rc, matched = 0;

	n = bn_tokenize(bn_model_vocab(m), text, strlen(text), true, false, ids, 1024);
	if (n != n_ref)
		same = false;
	for (i = 0; same && i < n; i++)
		same = ids[i] == json_object_get_int(json_object_array_get_idx(jids, i));
	result(same, "%s prompt %d: tokenization (%d ids, reference %d)", file, pi, n, n_ref);

	for (i = 0; i < n_ref; i++)
		ids[i] = json_object_get_int(json_object_array_get_idx(jids, i));
	rc = seq && logits && logits_k && work ? 0 : -ENOMEM;
	double d = rc ? INFINITY : last_logits_diff(m, seq, dir, p, logits);

	result(!rc && d <= LOGIT_TOL, "%s prompt %d: last logits max |diff| %.3g (<= %g)", file, pi,
	       d, LOGIT_TOL);

	stable = json_object_get_int(get(act, "greedy_stable_prefix"));
	if (!rc)
		rc = greedy(m, ids, n_ref, work, logits, toks, 32);
	for (i = 0; !rc && i < (int)json_object_array_length(gids) && i < 32; i++) {
		if (toks[i] != json_object_get_int(json_object_array_get_idx(gids, i)))
			break;
		matched++;
	}
	result(!rc && matched >= stable,
	       "%s prompt %d: greedy ids match for %d of 32 "
	       "(stable prefix %d)",
	       file, pi, matched, stable);
	if (mk) {
		int32_t kt[32];
		int rk = greedy(mk, ids, n_ref, work, logits_k, kt, 32);

		result(!rc && !rk && !memcmp(logits, logits_k, in->n_vocab * sizeof(float)) &&
			       !memcmp(toks, kt, sizeof(kt)),
		       "%s prompt %d: kmod and cpu backends give identical logits and 32 tokens",
		       file, pi);
	} else {
		skip("/dev/bitnet not usable", "%s prompt %d: kmod vs cpu", file, pi);
	}
	bn_seq_free(seq);
	free(logits);
	free(logits_k);
	free(work);
}

#define N_PACKS 5

/*
 * The weight layouts (R16, T5, both, LUT3, R16+LUT3) hold the same weights and their
 * integer matmuls are exact: prefill and 32 greedy steps must give
 * bit-identical logits and tokens. One result per prompt (N_PACKS - 1
 * comparisons each).
 */
static void check_packs(const char *path, const char *file, struct json_object *prompts)
{
	static const enum bn_pack_kind packs[N_PACKS] = { BN_PACK_R16, BN_PACK_T5, BN_PACK_DUAL,
							  BN_PACK_LUT3, BN_PACK_DUAL_LUT3 };
	struct bn_model *m[N_PACKS] = { 0 };
	float *first[N_PACKS] = { 0 }, *last[N_PACKS] = { 0 };
	int32_t toks[N_PACKS][32], ids[1024];
	char err[512];
	uint32_t nv = 0;
	int k, pi, i, n, ok;

	for (k = 0; k < N_PACKS; k++) {
		struct bn_load_opts o = { .backend = BN_BACKEND_CPU, .pack = packs[k] };

		if (bn_model_load(path, &o, &m[k], err, sizeof(err)))
			printf("# pack %d: %s\n", (int)packs[k], err);
		nv = m[k] ? bn_model_info(m[k])->n_vocab : nv;
	}
	for (k = 0; k < N_PACKS; k++) {
		first[k] = malloc(nv * sizeof(float));
		last[k] = malloc(nv * sizeof(float));
	}
	for (pi = 0; pi < 3; pi++) {
		struct json_object *jids = get(json_object_array_get_idx(prompts, pi), "ids");

		n = (int)json_object_array_length(jids);
		for (i = 0; i < n && i < 1024; i++)
			ids[i] = json_object_get_int(json_object_array_get_idx(jids, i));
		ok = nv && n <= 1024;
		for (k = 0; ok && k < N_PACKS; k++)
			ok = m[k] && first[k] && last[k] &&
			     !greedy(m[k], ids, n, last[k], first[k], toks[k], 32);
		for (k = 1; ok && k < N_PACKS; k++)
			ok = !memcmp(first[0], first[k], nv * sizeof(float)) &&
			     !memcmp(last[0], last[k], nv * sizeof(float)) &&
			     !memcmp(toks[0], toks[k], sizeof(toks[0]));
		result(ok,
		       "%s prompt %d: r16, t5, dual, lut3 and dual-lut3 give identical logits and 32 tokens",
		       file, pi);
	}
	for (k = 0; k < N_PACKS; k++) {
		bn_model_free(m[k]);
		free(first[k]);
		free(last[k]);
	}
}

/*
 * Dense mode (float matmuls, no activation quantization) on a file with
 * float linears must compute the reference's "noactq" function.
 */
static void check_dense(const char *path, const char *dir, const char *file, struct json_object *p0)
{
	struct bn_load_opts o = { .backend = BN_BACKEND_CPU, .dense = true };
	struct json_object *jids = get(p0, "ids");
	struct bn_model *m = NULL;
	struct bn_seq *seq = NULL;
	float *ref = NULL, *logits = NULL;
	int32_t ids[1024];
	char err[1024];
	int i, n = (int)json_object_array_length(jids), rc = -EINVAL;
	double d = INFINITY;

	if (bn_model_load(path, &o, &m, err, sizeof(err))) {
		printf("# %s\n", err);
		result(false, "%s: dense load", file);
		return;
	}
	if (strcmp(bn_model_info(m)->weight_type, "F16") &&
	    strcmp(bn_model_info(m)->weight_type, "F32")) {
		skip("packed ternary file", "%s: dense mode vs noactq", file);
		bn_model_free(m);
		return;
	}
	for (i = 0; i < n && i < 1024; i++)
		ids[i] = json_object_get_int(json_object_array_get_idx(jids, i));
	seq = bn_seq_new(m, 0);
	logits = malloc(bn_model_info(m)->n_vocab * sizeof(float));
	ref = read_floats(dir, json_object_get_string(get(get(p0, "noactq"), "last_logits_file")),
			  bn_model_info(m)->n_vocab);
	if (seq && logits && ref) {
		struct bn_batch_item it = {
			.seq = seq, .tokens = ids, .n_tokens = (uint32_t)n, .logits = logits
		};

		rc = bn_forward(m, &it, 1);
		if (!rc)
			d = max_abs_diff(logits, ref, bn_model_info(m)->n_vocab);
	}
	result(!rc && d <= 1e-3, "%s prompt 0: dense mode matches noactq, max |diff| %.3g", file,
	       d);
	free(ref);
	free(logits);
	bn_seq_free(seq);
	bn_model_free(m);
}

/* llama-perplexity's method over @chunks chunks of 256, each starting with BOS; NAN on error. */
static double ppl_of(struct bn_model *m, const char *dir, int chunks)
{
	const struct bn_model_info *in = bn_model_info(m);
	double nll = 0, got = NAN;
	char path[2048 + 64];
	size_t len;
	char *text;
	int32_t *ids;
	float *logits = malloc((size_t)PPL_CTX * in->n_vocab * sizeof(float));
	struct bn_seq *seq = bn_seq_new(m, PPL_CTX);
	int n, c, j, rc = 0, scored = 0;

	snprintf(path, sizeof(path), "%s/heldout.txt", dir);
	text = read_text(path, &len);
	ids = text ? malloc((len + 2) * sizeof(int32_t)) : NULL;
	n = ids ? bn_tokenize(bn_model_vocab(m), text, len, true, false, ids, len + 2) : -1;
	if (n < chunks * PPL_CTX || !logits || !seq)
		goto out;
	for (c = 0; c < chunks && !rc; c++) {
		int32_t *tok = ids + c * PPL_CTX;
		struct bn_batch_item it = {
			.seq = seq, .tokens = tok, .n_tokens = PPL_CTX, .all_logits = logits
		};

		tok[0] = in->bos;
		bn_seq_truncate(seq, 0);
		rc = bn_forward(m, &it, 1);
		for (j = PPL_CTX / 2; !rc && j < PPL_CTX - 1; j++) {
			const float *l = logits + (size_t)j * in->n_vocab;
			double mx = l[argmax(l, in->n_vocab)], s = 0;
			uint32_t k;

			for (k = 0; k < in->n_vocab; k++)
				s += exp(l[k] - mx);
			nll += log(s) + mx - l[tok[j + 1]];
			scored++;
		}
	}
	if (!rc)
		got = exp(nll / scored);
out:
	bn_seq_free(seq);
	free(logits);
	free(ids);
	free(text);
	return got;
}

static double ref_ppl(struct json_object *ref, int *chunks)
{
	struct json_object *actq = get(get(ref, "perplexity"), "actq");

	*chunks = json_object_get_int(get(actq, "chunks"));
	return json_object_get_double(get(get(actq, "llama_perplexity_method"), "ppl"));
}

static void check_ppl(struct bn_model *m, const char *dir, const char *file,
		      struct json_object *ref)
{
	int chunks;
	double want = ref_ppl(ref, &chunks), got = ppl_of(m, dir, chunks);

	result(fabs(got - want) <= PPL_REL_TOL * want,
	       "%s: perplexity %.4f, reference %.4f (within 0.1%%)", file, got, want);
}

/*
 * Head formats on the packed file of each model: the file's F16 head as
 * stored, the int8 and 4-bit heads built from it, and copies with the
 * embedding (= tied head) re-encoded by bitnet-mkmodel --from as llama-
 * quantize would store it. Each states how far it may move the last logits
 * (max over the 3 prompts) and perplexity from the reference.
 */
struct head_variant {
	const char *label;
	const char *embd_type; /* bitnet-mkmodel --embd-type of a copy; NULL: the file */
	enum bn_head_kind head;
	double logit_tol, ppl_rel_tol;
};

/*
 * Measured on both models (2026-12): q8 0.041 / 0.03%, q4 0.53 / 0.21%,
 * Q8_0 0.037 / 0.01%, Q6_K 0.13 / 0.02%, Q5_K 0.27 / 0.03%, Q4_K 0.47 /
 * 0.39%. The bounds leave about 2x: each is a few quantization steps of
 * the head (rows of |x| < ~0.3 times a unit-RMS input of 256) away from
 * what a wrong layout would give (logits off by whole units).
 */
static const struct head_variant head_variants[] = {
	{ "F16 head as stored", NULL, BN_HEAD_FILE, LOGIT_TOL, PPL_REL_TOL },
	{ "--head q8", NULL, BN_HEAD_Q8, 0.1, 0.001 },
	{ "--head q4", NULL, BN_HEAD_Q4, 1.0, 0.005 },
	{ "Q8_0 embedding", "q8_0", BN_HEAD_FILE, 0.1, 0.001 },
	{ "Q6_K embedding", "q6_k", BN_HEAD_FILE, 0.3, 0.001 },
	{ "Q5_K embedding", "q5_k", BN_HEAD_FILE, 0.5, 0.002 },
	{ "Q4_K embedding", "q4_k", BN_HEAD_FILE, 1.0, 0.01 },
};

#define N_HEAD_VARIANTS (sizeof(head_variants) / sizeof(head_variants[0]))

static void check_head_variant(const struct head_variant *v, const char *dir, const char *file,
			       struct json_object *ref, const char *tmp)
{
	struct bn_load_opts o = { .backend = BN_BACKEND_CPU, .head = v->head };
	const char *build = getenv("BUILD");
	char path[4096], cmd[8192], err[1024];
	struct bn_model *m = NULL;
	struct bn_seq *seq;
	double worst = 0, want, got = NAN;
	float *logits;
	int pi, chunks;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (v->embd_type) {
		snprintf(cmd, sizeof(cmd),
			 "'%s/bin/bitnet-mkmodel' --from '%s' --embd-type %s '%s/v.gguf'",
			 build ? build : "build", path, v->embd_type, tmp);
		snprintf(path, sizeof(path), "%s/v.gguf", tmp);
		if (system(cmd)) {
			result(false, "%s, %s: bitnet-mkmodel --from", file, v->label);
			return;
		}
	}
	if (bn_model_load(path, &o, &m, err, sizeof(err))) {
		printf("# %s\n", err);
		result(false, "%s, %s: load", file, v->label);
		return;
	}
	seq = bn_seq_new(m, 0);
	logits = malloc(bn_model_info(m)->n_vocab * sizeof(float));
	for (pi = 0; pi < 3; pi++) {
		double d =
			seq && logits ?
				last_logits_diff(m, seq, dir,
						 json_object_array_get_idx(get(ref, "prompts"), pi),
						 logits) :
				INFINITY;

		worst = d > worst || d != d ? d : worst;
	}
	want = ref_ppl(ref, &chunks);
	got = ppl_of(m, dir, chunks);
	result(worst <= v->logit_tol && fabs(got - want) <= v->ppl_rel_tol * want,
	       "%s, %s (%s head): last logits max |diff| %.3g (<= %g), perplexity %.4f, reference "
	       "%.4f (%+.3f%%, within %g%%)",
	       file, v->label, bn_model_info(m)->head, worst, v->logit_tol, got, want,
	       100 * (got - want) / want, 100 * v->ppl_rel_tol);
	free(logits);
	bn_seq_free(seq);
	bn_model_free(m);
	if (v->embd_type)
		unlink(path);
}

/* The first packed ternary file of a model folder: what users run. */
static const char *packed_file(char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strstr(names[i], "tq2_0") || strstr(names[i], "i2_s"))
			return names[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_ggufs(const char *dir, char **names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_FILES) {
		size_t l = strlen(e->d_name);

		if (l > 5 && !strcmp(e->d_name + l - 5, ".gguf"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_str);
	return n;
}

static const char *const model_dirs[] = { "tiny-shakespeare-a", "tiny-shakespeare-c-b158" };
#define N_DIRS (sizeof(model_dirs) / sizeof(model_dirs[0]))

int main(void)
{
	const char *src = getenv("SRC");
	char base[1024], dir[2048], path[4096], err[1024];
	char *files[N_DIRS][MAX_FILES];
	struct json_object *refs[N_DIRS];
	int n_files[N_DIRS], total = 0, pi, f;
	char tmp[] = "/tmp/bn-test-exact-XXXXXX";
	const char *packed;
	size_t di, v;

	snprintf(base, sizeof(base), "%s/../shared/models", src ? src : ".");
	for (di = 0; di < N_DIRS; di++) {
		snprintf(dir, sizeof(dir), "%s/%s", base, model_dirs[di]);
		snprintf(path, sizeof(path), "%s/ref/reference.json", dir);
		refs[di] = json_object_from_file(path);
		n_files[di] = refs[di] ? list_ggufs(dir, files[di]) : 0;
		total += n_files[di] * 17 +
			 (packed_file(files[di], n_files[di]) ? (int)N_HEAD_VARIANTS : 0);
	}
	if (!total) {
		printf("1..0 # SKIP ../shared/models missing\n");
		return 0;
	}
	printf("1..%d\n", total);
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (di = 0; di < N_DIRS; di++) {
		snprintf(dir, sizeof(dir), "%s/%s", base, model_dirs[di]);
		packed = packed_file(files[di], n_files[di]);
		for (v = 0; packed && v < N_HEAD_VARIANTS; v++)
			check_head_variant(&head_variants[v], dir, packed, refs[di], tmp);
		for (f = 0; f < n_files[di]; f++) {
			struct bn_load_opts cpu = { .backend = BN_BACKEND_CPU };
			struct bn_load_opts km = { .backend = BN_BACKEND_KMOD };
			struct bn_model *m = NULL, *mk = NULL;
			struct json_object *prompts = get(refs[di], "prompts");

			snprintf(path, sizeof(path), "%s/%s", dir, files[di][f]);
			if (bn_model_load(path, &cpu, &m, err, sizeof(err))) {
				printf("# %s\n", err);
				for (pi = 0; pi < 17; pi++)
					result(false, "%s: load", files[di][f]);
				continue;
			}
			if (bn_model_load(path, &km, &mk, err, sizeof(err)))
				printf("# kmod backend: %s\n", err);
			for (pi = 0; pi < 3; pi++)
				check_prompt(m, mk, dir, files[di][f], pi,
					     json_object_array_get_idx(prompts, pi));
			check_ppl(m, dir, files[di][f], refs[di]);
			check_dense(path, dir, files[di][f], json_object_array_get_idx(prompts, 0));
			check_packs(path, files[di][f], prompts);
			bn_model_free(mk);
			bn_model_free(m);
			free(files[di][f]);
		}
		json_object_put(refs[di]);
	}
	rmdir(tmp);
	return 0;
}
