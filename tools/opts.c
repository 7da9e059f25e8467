// SPDX-License-Identifier: GPL-2.0
/* One option loop for the tools' option tables (tools/opts.h). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tools/opts.h"

#define OPT_HELP 'h'
#define OPT_FIRST 256 /* getopt_long's value of opts[i]: OPT_FIRST + i */

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool tool_opt_span(const char *arg, void *dst)
{
	struct tool_span *sp = dst;
	const char *dash = strchr(arg, '-');
	char lo[16];

	if (!dash) {
		if (!parse_u32(arg, 1, UINT32_MAX, &sp->lo))
			return false;
		sp->hi = sp->lo;
		return true;
	}
	if ((size_t)(dash - arg) >= sizeof(lo))
		return false;
	memcpy(lo, arg, dash - arg);
	lo[dash - arg] = 0;
	return parse_u32(lo, 1, UINT32_MAX, &sp->lo) &&
	       parse_u32(dash + 1, sp->lo, UINT32_MAX, &sp->hi);
}

static bool store(const struct tool_opt *o, const char *arg)
{
	switch (o->kind) {
	case TOOL_OPT_STR:
		*(const char **)o->dst = arg;
		return true;
	case TOOL_OPT_INT:
		*(int *)o->dst = atoi(arg);
		return true;
	case TOOL_OPT_DOUBLE:
		*(double *)o->dst = atof(arg);
		return true;
	case TOOL_OPT_U32:
		return parse_u32(arg, o->lo, o->hi, o->dst);
	case TOOL_OPT_SET:
	case TOOL_OPT_CLEAR:
		*(bool *)o->dst = o->kind == TOOL_OPT_SET;
		return true;
	case TOOL_OPT_FN:
		return o->fn(arg, o->dst);
	}
	return false;
}

int tool_opts_parse(int argc, char **argv, const struct tool_opt *opts, int operands,
		    const char *prog, void (*usage)(FILE *f))
{
	struct option *lo;
	size_t i, n = 0;
	int c, rc = 0;

	while (opts[n].name)
		n++;
	lo = calloc(n + 2, sizeof(*lo));
	if (!lo) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (i = 0; i < n; i++) {
		bool flag = opts[i].kind == TOOL_OPT_SET || opts[i].kind == TOOL_OPT_CLEAR;

		lo[i] = (struct option){ opts[i].name, flag ? no_argument : required_argument, NULL,
					 OPT_FIRST + (int)i };
	}
	lo[n] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	optind = 1;
	while (!rc && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			free(lo);
			usage(stdout);
			exit(0);
		}
		if (c < OPT_FIRST || c >= OPT_FIRST + (int)n) {
			usage(stderr);
			rc = 2;
		} else if (!store(&opts[c - OPT_FIRST], optarg)) {
			fprintf(stderr, "%s: invalid value: %s\n", prog, argv[optind - 1]);
			rc = 2;
		}
	}
	free(lo);
	if (!rc && argc - optind != operands) {
		usage(stderr);
		rc = 2;
	}
	return rc;
}
