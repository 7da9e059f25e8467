// SPDX-License-Identifier: GPL-2.0
/* bitnetctl models, load and unload. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

static json_object *model_json(const struct bitnet_model_info *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "state", json_object_new_string(m->state));
	json_object_object_add(o, "file", json_object_new_string(m->file));
	json_object_object_add(o, "architecture", json_object_new_string(m->architecture));
	json_object_object_add(o, "weight_type", json_object_new_string(m->weight_type));
	json_object_object_add(o, "vocab_size", ctl_json_u64(m->vocab_size));
	json_object_object_add(o, "context_size", ctl_json_u64(m->context_size));
	json_object_object_add(o, "parameters", ctl_json_u64(m->parameters));
	json_object_object_add(o, "memory_bytes", ctl_json_u64(m->memory_bytes));
	json_object_object_add(o, "load_progress", json_object_new_double(m->load_progress));
	json_object_object_add(o, "error", json_object_new_string(m->error));
	return o;
}

static void model_print(const struct bitnet_model_info *m)
{
	char mem[32];

	printf("%-20s %-8s %-12s %-8s %7" PRIu32 " %10" PRIu64 " %10s  %s\n", m->name, m->state,
	       m->architecture, m->weight_type, m->context_size, m->parameters,
	       ctl_format_bytes(m->memory_bytes, mem, sizeof(mem)), m->file);
	if (*m->error)
		printf("%-20s error: %s\n", "", m->error);
}

int cmd_models(struct ctl *ctl, int argc, char **argv)
{
	struct bitnet_model *models;
	json_object *list;
	size_t n;
	int r, ret;

	ret = ctl_parse_json_only(ctl, argc, argv);
	if (ret)
		return ret;
	r = bitnet_list_models(ctl->client, &models, &n);
	if (r < 0)
		return ctl_fail(ctl, r, "models");
	list = ctl_list_begin(ctl, "%-20s %-8s %-12s %-8s %7s %10s %10s  %s\n", "NAME", "STATE",
			      "ARCH", "WEIGHTS", "CONTEXT", "PARAMS", "MEMORY", "FILE");
	for (size_t i = 0; i < n; i++) {
		struct bitnet_model_info info;

		r = bitnet_get_model_info(ctl->client, models[i].name, &info);
		if (r == -ENOENT)
			continue; /* unloaded meanwhile */
		if (r < 0) {
			ret = ctl_fail(ctl, r, models[i].name);
			break;
		}
		if (list)
			json_object_array_add(list, model_json(&info));
		else
			model_print(&info);
		bitnet_model_info_clear(&info);
	}
	ctl_list_end(list, ret == EXIT_OK);
	bitnet_models_free(models, n);
	return ret;
}

static void show_progress(double progress, void *userdata)
{
	ctl_progress_bar(progress, userdata);
}

int cmd_load(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { { "no-wait", no_argument, NULL, 'w' },
						 { "timeout", required_argument, NULL, 't' },
						 { NULL, 0, NULL, 0 } };
	uint64_t timeout = UINT64_MAX, secs;
	bool wait = true, bar;
	char *path, *label;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'w':
			wait = false;
			break;
		case 't':
			if (ctl_parse_u64(ctl, "--timeout", optarg, &secs))
				return EXIT_USAGE;
			timeout = secs * 1000000;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return ctl_usage_error(ctl, "load takes NAME PATH");
	r = ctl_connect(ctl);
	if (r)
		return r;
	/* The daemon resolves paths itself: hand it an absolute one. */
	path = realpath(argv[optind + 1], NULL);
	r = bitnet_load_model(ctl->client, argv[optind], path ? path : argv[optind + 1], NULL);
	free(path);
	if (r < 0)
		return ctl_fail(ctl, r, "load");
	if (!wait)
		return EXIT_OK;
	bar = isatty(STDERR_FILENO);
	if (asprintf(&label, "loading %s", argv[optind]) < 0)
		return ctl_fail(ctl, -ENOMEM, "load");
	r = bitnet_wait_model_ready(ctl->client, argv[optind], 100000, timeout,
				    bar ? show_progress : NULL, label);
	if (bar)
		fputc('\n', stderr);
	free(label);
	if (r < 0)
		return ctl_fail(ctl, r, "load");
	return EXIT_OK;
}

int cmd_unload(struct ctl *ctl, int argc, char **argv)
{
	int r;

	if (argc != 2)
		return ctl_usage_error(ctl, "unload takes NAME");
	r = ctl_connect(ctl);
	if (r)
		return r;
	r = bitnet_unload_model(ctl->client, argv[1]);
	if (r < 0)
		return ctl_fail(ctl, r, "unload");
	return EXIT_OK;
}
