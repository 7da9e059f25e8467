// SPDX-License-Identifier: GPL-2.0
/* bitnetctl tokenize and detokenize. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

/* -m MODEL, --json and (tokenize only) --no-special; *first: operands. */
static int parse_tok_opts(struct ctl *ctl, int argc, char **argv, const char **model, bool *special,
			  int *first)
{
	static const struct option options[] = { { "model", required_argument, NULL, 'm' },
						 { "no-special", no_argument, NULL, 'N' },
						 { "json", no_argument, NULL, 'j' },
						 { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "m:j", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			*model = optarg;
			break;
		case 'N':
			if (!special)
				return ctl_usage_error(ctl, "--no-special is for tokenize");
			*special = false;
			break;
		case 'j':
			ctl->json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, "%s needs %s", argv[0], special ? "TEXT" : "token IDs");
	*first = optind;
	return EXIT_OK;
}

int cmd_tokenize(struct ctl *ctl, int argc, char **argv)
{
	const char *wanted = NULL;
	char *model = NULL, *text = NULL;
	bool special = true;
	int32_t *ids = NULL;
	size_t n = 0;
	int first, r, ret;

	ret = parse_tok_opts(ctl, argc, argv, &wanted, &special, &first);
	if (ret)
		return ret;
	r = ctl_resolve_model(ctl, wanted, &model);
	if (r < 0)
		return -r;
	text = ctl_join_args(argc - first, argv + first);
	r = text ? bitnet_tokenize(ctl->client, model, text, special, &ids, &n) : -ENOMEM;
	if (r < 0) {
		ret = ctl_fail(ctl, r, "tokenize");
	} else if (ctl->json) {
		json_object *o = json_object_new_object();
		json_object *list = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_int(ids[i]));
		json_object_object_add(o, "model", json_object_new_string(model));
		json_object_object_add(o, "text", json_object_new_string(text));
		json_object_object_add(o, "count", ctl_json_u64(n));
		json_object_object_add(o, "ids", list);
		ctl_print_json(o);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? " " : "", ids[i]);
		putchar('\n');
	}
	free(ids);
	free(text);
	free(model);
	return ret;
}

int cmd_detokenize(struct ctl *ctl, int argc, char **argv)
{
	const char *wanted = NULL;
	char *model = NULL, *text = NULL, *end;
	int32_t *ids;
	int first, r, ret;
	size_t n;

	ret = parse_tok_opts(ctl, argc, argv, &wanted, NULL, &first);
	if (ret)
		return ret;
	n = argc - first;
	ids = calloc(n, sizeof(*ids));
	if (!ids)
		return ctl_fail(ctl, -ENOMEM, "detokenize");
	for (size_t i = 0; i < n; i++) {
		long v;

		errno = 0;
		v = strtol(argv[first + i], &end, 10);
		if (errno || !*argv[first + i] || *end || v < INT32_MIN || v > INT32_MAX) {
			free(ids);
			return ctl_usage_error(ctl, "'%s' is not a token id", argv[first + i]);
		}
		ids[i] = (int32_t)v;
	}
	r = ctl_resolve_model(ctl, wanted, &model);
	if (r < 0) {
		free(ids);
		return -r;
	}
	r = bitnet_detokenize(ctl->client, model, ids, n, &text);
	if (r < 0) {
		ret = ctl_fail(ctl, r, "detokenize");
	} else if (ctl->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "model", json_object_new_string(model));
		json_object_object_add(o, "text", json_object_new_string(text));
		ctl_print_json(o);
	} else {
		printf("%s\n", text);
	}
	free(text);
	free(ids);
	free(model);
	return ret;
}
