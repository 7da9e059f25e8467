// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-bench: benchmarks of the project. Each subcommand prints its own
 * table; figures are ratios against baselines measured in the same run.
 */
#include <stdio.h>
#include <string.h>

#include "tools/bench/bench.h"

struct bench_cmd {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

static const struct bench_cmd bench_cmds[] = {
	{ "kernels", bench_kernels_main,
	  "ternary matmul kernels vs scalar, FP32/FP16 and DRAM bandwidth" },
	{ "batch", bench_batch_main, "ternary matmuls of a B-token decode step vs roofline" },
	{ "head", bench_head_main, "the int8 output head alone, 1..16 inputs, vs roofline" },
	{ "e2e", bench_e2e_main, "end-to-end prefill and decode tokens/s" },
	{ "serve", bench_serve_main, "B concurrent sessions through bitnetd (or the engine)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: bitnet-bench COMMAND [ARGS]  (COMMAND --help for its options)\n");
	for (i = 0; i < sizeof(bench_cmds) / sizeof(bench_cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", bench_cmds[i].name, bench_cmds[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(bench_cmds) / sizeof(bench_cmds[0]); i++)
		if (!strcmp(argv[1], bench_cmds[i].name))
			return bench_cmds[i].main(argc - 1, argv + 1);
	fprintf(stderr, "bitnet-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
