/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The long options of a tool (bitnet-bench's subcommands, bitnet-mkmodel)
 * as one table: each option says what it stores where, one loop parses them.
 */
#ifndef BITNET_TOOLS_OPTS_H
#define BITNET_TOOLS_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum tool_opt_kind {
	TOOL_OPT_STR,	 /* const char *: the argument */
	TOOL_OPT_INT,	 /* int: atoi() of it */
	TOOL_OPT_DOUBLE, /* double: atof() of it */
	TOOL_OPT_U32,	 /* uint32_t: a decimal number in [lo, hi], else invalid */
	TOOL_OPT_SET,	 /* bool: true (no argument) */
	TOOL_OPT_CLEAR,	 /* bool: false (no argument) */
	TOOL_OPT_FN,	 /* fn(argument, dst), false if the argument is invalid */
};

struct tool_opt {
	const char *name;
	enum tool_opt_kind kind;
	void *dst;
	uint32_t lo, hi;			/* TOOL_OPT_U32 */
	bool (*fn)(const char *arg, void *dst); /* TOOL_OPT_FN */
};

/* Table entries: an option of @kind; of a number in [lo, hi]; parsed by @fn. */
#define TOOL_OPT(n, k, d)                            \
	{                                            \
		.name = (n), .kind = (k), .dst = (d) \
	}
#define TOOL_OPT_RANGE(n, d, l, h)                                                  \
	{                                                                           \
		.name = (n), .kind = TOOL_OPT_U32, .dst = (d), .lo = (l), .hi = (h) \
	}
#define TOOL_OPT_PARSE(n, d, f)                                         \
	{                                                               \
		.name = (n), .kind = TOOL_OPT_FN, .dst = (d), .fn = (f) \
	}
#define TOOL_OPT_END         \
	{                    \
		.name = NULL \
	}

/*
 * Parses argv's options (argv[0] names the command) against @opts, which
 * TOOL_OPT_END ends, with getopt_long() from optind 1; @operands must
 * follow them. --help (or -h) prints @usage to stdout and exits 0. An
 * unknown option, a missing argument or another number of operands prints
 * @usage to stderr, an invalid value "@prog: invalid value: ARG"; both
 * return 2. Returns 0 with optind at the first operand.
 */
int tool_opts_parse(int argc, char **argv, const struct tool_opt *opts, int operands,
		    const char *prog, void (*usage)(FILE *f));

/* "N" or "N1-N2" with 1 <= N1 <= N2 (e.g. --tokens), for TOOL_OPT_PARSE. */
struct tool_span {
	uint32_t lo, hi;
};

bool tool_opt_span(const char *arg, void *dst);

#endif /* BITNET_TOOLS_OPTS_H */
