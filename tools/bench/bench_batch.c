// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-bench batch: the ternary matmuls of one decode step of B sessions
 * (B tokens through the 30 layers of the 2B-4T shape, weights from DRAM:
 * each matrix rotates over copies bigger than the caches) for B = 1..16,
 * against the roofline of that batch size,
 *   max(weight bytes / DRAM read, B x MACs / int8 GEMM rate),
 * both measured in this run. The output head and attention are not here
 * (bitnet-bench serve --engine-only has the whole step). --pack with a
 * list of layouts (r16,lut3; both is r16,t5) times them alternately, so a
 * shared machine's load shifts all alike, and prints each one's time over
 * the first's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmod/core/bitnet_core.h"
#include "libcore/pool.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_measure.h"
#include "tools/opts.h"

#define MAX_TOK 16
#define NR_LAYERS 30
#define MAX_LAYOUTS 3

static const char *const layout_names[] = {
	[BNC_LAYOUT_R16] = "r16",
	[BNC_LAYOUT_T5] = "t5",
	[BNC_LAYOUT_LUT3] = "lut3",
};

/* The layouts timed, in turns, each next to the others. */
struct layout_list {
	uint32_t id[MAX_LAYOUTS];
	int n;
};

/* --pack: "both" or a comma-separated list of layout names. */
static bool parse_layouts(const char *arg, void *dst)
{
	struct layout_list *ll = dst;
	char buf[64], *tok, *save = NULL;
	uint32_t l;

	if (!strcmp(arg, "both"))
		arg = "r16,t5";
	snprintf(buf, sizeof(buf), "%s", arg);
	ll->n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (l = BNC_LAYOUT_R16; l <= BNC_LAYOUT_LUT3; l++)
			if (!strcmp(tok, layout_names[l]))
				break;
		if (l > BNC_LAYOUT_LUT3 || ll->n == MAX_LAYOUTS)
			return false;
		ll->id[ll->n++] = l;
	}
	return ll->n > 0;
}

static bool parse_isa(const char *arg, void *dst)
{
	if (strcmp(arg, "avx2"))
		return false;
	*(enum bnc_isa *)dst = BNC_ISA_AVX2;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bitnet-bench batch [--threads N] [--isa avx2] [--tokens B|B1-B2] "
		   "[--pack r16|t5|lut3|both|LIST]\n");
}

static const struct {
	uint32_t m, k;
	int per_layer;
} shapes[] = {
	{ 2560, 2560, 2 }, /* q, o */
	{ 640, 2560, 2 },  /* k, v */
	{ 6912, 2560, 2 }, /* gate, up */
	{ 2560, 6912, 1 }, /* down */
};

#define NR_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* Best seconds per matmul over passes through @copies, for >= 0.2 s. */
static double time_matmul(struct bnc_pool *pool, enum bnc_isa isa, struct bnc_matrix *mats,
			  int copies, const struct bnc_act *act, float *out)
{
	double best = 1e30, start = bench_now(), t0;
	int c, reps = 0;

	do {
		t0 = bench_now();
		for (c = 0; c < copies; c++)
			if (bnc_pool_matmul_f32(pool, isa, &mats[c], act, out, mats[c].rows))
				exit(1);
		t0 = (bench_now() - t0) / copies;
		if (t0 < best)
			best = t0;
	} while (++reps < 3 || bench_now() - start < 0.2);
	return best;
}

int bench_batch_main(int argc, char **argv)
{
	double step[MAX_LAYOUTS][MAX_TOK + 1] = { { 0 } }, bytes[MAX_LAYOUTS] = { 0 }, macs = 0;
	double gbs, gmacs, gemm;
	enum bnc_isa isa = bnc_isa_best();
	int threads = 2, c, copies[MAX_LAYOUTS], n, lo, hi, l, nl, r, rc;
	struct tool_span tok = { 1, MAX_TOK };
	struct layout_list ll = { { BNC_LAYOUT_R16 }, 1 };
	const struct tool_opt opts[] = {
		TOOL_OPT("threads", TOOL_OPT_INT, &threads),
		TOOL_OPT_PARSE("isa", &isa, parse_isa),
		TOOL_OPT_PARSE("tokens", &tok, tool_opt_span),
		TOOL_OPT_PARSE("pack", &ll, parse_layouts),
		TOOL_OPT_END,
	};
	uint32_t *layouts = ll.id;
	struct bnc_pool *pool;
	size_t si;

	rc = tool_opts_parse(argc, argv, opts, 0, "bitnet-bench batch", usage);
	if (rc)
		return rc;
	lo = (int)tok.lo;
	hi = (int)tok.hi;
	nl = ll.n;
	if (threads < 1 || !(bnc_isa_supported() & (1u << isa)) || hi > MAX_TOK) {
		usage(stderr);
		return 2;
	}
	pool = bnc_pool_new(threads);
	if (!pool)
		return 1;
	gbs = bench_dram_gbs(pool);
	gemm = bench_gemm_gmacs(pool, 2560, 2560, 128);
	/* the ceiling of the ISA run: VNNI's own rate, or AVX2's best GEMM */
	gmacs = isa == BNC_ISA_AVX512_VNNI ? bench_int8_peak_gmacs(pool) : gemm;
	for (si = 0; si < NR_SHAPES; si++) {
		uint32_t m = shapes[si].m, k = shapes[si].k;
		struct bench_act *a = bench_act_new(MAX_TOK, k);
		float *out = bench_xalloc((size_t)MAX_TOK * m * 4);
		struct bnc_matrix proto, *mats[MAX_LAYOUTS];
		uint8_t *base[MAX_LAYOUTS];
		size_t sz[MAX_LAYOUTS], stride;

		for (l = 0; l < nl; l++) {
			void *exec = bench_ternary(m, k, layouts[l], &proto);

			sz[l] = bnc_layout_size(layouts[l], m, k);
			stride = (sz[l] + BNC_BUF_ALIGN - 1) & ~(size_t)(BNC_BUF_ALIGN - 1);
			copies[l] = (int)((512u << 20) / sz[l]) + 1;
			mats[l] = calloc(copies[l], sizeof(*mats[l]));
			/* side by side in one region, as the engine packs a model's */
			base[l] = bench_xalloc_weights((size_t)copies[l] * stride);
			for (c = 0; c < copies[l]; c++) {
				mats[l][c] = proto;
				mats[l][c].data = base[l] + (size_t)c * stride;
				memcpy(mats[l][c].data, exec, sz[l]);
			}
			free(exec);
			bytes[l] += (double)NR_LAYERS * shapes[si].per_layer * (sz[l] - 64);
		}
		for (n = lo; n <= hi; n++) {
			double best[MAX_LAYOUTS] = { 1e30, 1e30, 1e30 }, t;

			a->act.n = n;
			/* alternating: the machine's load moves both alike */
			for (r = 0; r < (nl > 1 ? 3 : 1); r++)
				for (l = 0; l < nl; l++) {
					t = time_matmul(pool, isa, mats[l], copies[l], &a->act,
							out);
					best[l] = t < best[l] ? t : best[l];
				}
			for (l = 0; l < nl; l++)
				step[l][n] += NR_LAYERS * shapes[si].per_layer * best[l];
		}
		macs += (double)NR_LAYERS * shapes[si].per_layer * m * k;
		for (l = 0; l < nl; l++) {
			free(base[l]);
			free(mats[l]);
		}
		free(out);
		bench_act_free(a);
	}
	/* the GEMM stands for the ceiling of a non-VNNI run: not read again */
	bench_rates_again(pool, &gbs, isa == BNC_ISA_AVX512_VNNI ? &gmacs : NULL);
	bnc_pool_free(pool);
	for (l = 0; l < nl; l++) {
		printf("# bitnet-bench batch: %s, %s layout%s, %d thread(s); the 2B-4T ternary linears "
		       "(%.0f MB, %.2f G MACs per token); DRAM read %.1f GB/s, int8 ceiling %.0f G "
		       "MAC/s (GEMM by 128 tokens: %.0f)\n",
		       bnc_isa_name(isa), layout_names[layouts[l]],
		       nl > 1 ? " (interleaved with the others, best of 3)" : "", threads,
		       bytes[l] / 1e6, macs / 1e9, gbs, gmacs, gemm);
		printf("%3s %12s %12s %10s %12s %8s", "B", "ms/step", "tokens/s", "x B=1",
		       "roof ms", "% roof");
		if (l)
			printf("  %s/%s time", layout_names[layouts[l]], layout_names[layouts[0]]);
		printf("\n");
		for (n = lo; n <= hi; n++) {
			double mem = bytes[l] / gbs / 1e9, cmp = n * macs / gmacs / 1e9;
			double roof = mem > cmp ? mem : cmp, st = step[l][n];

			printf("%3d %12.2f %12.1f %10.2f %12.2f %7.0f%%", n, st * 1e3, n / st,
			       step[l][1] ? n * step[l][1] / st : 0, roof * 1e3, 100.0 * roof / st);
			if (l)
				printf(" %14.3f", st / step[0][n]);
			printf("\n");
		}
	}
	return 0;
}
