// SPDX-License-Identifier: GPL-2.0
/* bitnetctl status and device: the service's and the module's counters. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/ctl/ctl.h"

static json_object *status_json(const struct bitnet_status *st, const struct bitnet_model *models,
				size_t n_models, size_t n_sessions)
{
	json_object *o = json_object_new_object();
	json_object *list = json_object_new_array();

	json_object_object_add(o, "version", json_object_new_string(st->version));
	json_object_object_add(o, "backend", json_object_new_string(st->backend));
	json_object_object_add(o, "device_available",
			       json_object_new_boolean(st->device_available));
	json_object_object_add(o, "requests", ctl_json_u64(st->requests));
	json_object_object_add(o, "tokens_in", ctl_json_u64(st->tokens_in));
	json_object_object_add(o, "tokens_out", ctl_json_u64(st->tokens_out));
	json_object_object_add(o, "queue_length", ctl_json_u64(st->queue_length));
	json_object_object_add(o, "max_queue", ctl_json_u64(st->max_queue));
	json_object_object_add(o, "active_sessions", ctl_json_u64(st->active_sessions));
	json_object_object_add(o, "visible_sessions", ctl_json_u64(n_sessions));
	json_object_object_add(o, "decode_tokens_per_second",
			       json_object_new_double(st->decode_tokens_per_second));
	json_object_object_add(o, "max_sessions_per_user", ctl_json_u64(st->max_sessions_per_user));
	json_object_object_add(o, "max_tokens_per_user", ctl_json_u64(st->max_tokens_per_user));
	json_object_object_add(o, "memory_budget", ctl_json_u64(st->memory_budget));
	json_object_object_add(o, "memory_used", ctl_json_u64(st->memory_used));
	json_object_object_add(o, "idle_timeout_sec", ctl_json_u64(st->idle_timeout_sec));
	json_object_object_add(o, "prefill_chunk", ctl_json_u64(st->prefill_chunk));
	for (size_t i = 0; i < n_models; i++) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "name", json_object_new_string(models[i].name));
		json_object_object_add(m, "state", json_object_new_string(models[i].state));
		json_object_array_add(list, m);
	}
	json_object_object_add(o, "models", list);
	return o;
}

static void status_print(const struct bitnet_status *st, const struct bitnet_model *models,
			 size_t n_models, size_t n_sessions)
{
	char used[32], budget[32];

	printf("bitnetd %s\n", st->version);
	printf("backend:   %s (device %s)\n", st->backend,
	       st->device_available ? "available" : "not available");
	printf("models:   ");
	if (!n_models)
		printf(" none");
	for (size_t i = 0; i < n_models; i++)
		printf(" %s (%s)%s", models[i].name, models[i].state, i + 1 < n_models ? "," : "");
	printf("\nsessions:  %" PRIu32 " active (%zu visible to you)\n", st->active_sessions,
	       n_sessions);
	printf("queue:     %" PRIu32 " / %" PRIu32 "\n", st->queue_length, st->max_queue);
	printf("requests:  %" PRIu64 " (tokens in %" PRIu64 ", out %" PRIu64 ")\n", st->requests,
	       st->tokens_in, st->tokens_out);
	printf("decode:    %.1f tokens/s\n", st->decode_tokens_per_second);
	printf("memory:    %s of %s\n", ctl_format_bytes(st->memory_used, used, sizeof(used)),
	       st->memory_budget ? ctl_format_bytes(st->memory_budget, budget, sizeof(budget)) :
				   "unlimited");
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	struct bitnet_session_info *sessions = NULL;
	struct bitnet_model *models = NULL;
	size_t n_models = 0, n_sessions = 0;
	struct bitnet_status st;
	int r, ret;

	ret = ctl_parse_json_only(ctl, argc, argv);
	if (ret)
		return ret;
	r = bitnet_get_status(ctl->client, &st);
	if (r < 0)
		return ctl_fail(ctl, r, "status");
	r = bitnet_list_models(ctl->client, &models, &n_models);
	if (r >= 0)
		r = bitnet_list_sessions(ctl->client, &sessions, &n_sessions);
	if (r < 0)
		ret = ctl_fail(ctl, r, "status");
	else if (ctl->json)
		ctl_print_json(status_json(&st, models, n_models, n_sessions));
	else
		status_print(&st, models, n_models, n_sessions);
	bitnet_sessions_free(sessions, n_sessions);
	bitnet_models_free(models, n_models);
	bitnet_status_clear(&st);
	return ret;
}

int cmd_device(struct ctl *ctl, int argc, char **argv)
{
	struct bitnet_counter *counters;
	size_t n;
	int r, ret;

	ret = ctl_parse_json_only(ctl, argc, argv);
	if (ret)
		return ret;
	r = bitnet_get_device_counters(ctl->client, &counters, &n);
	if (r < 0)
		return ctl_fail(ctl, r, "device counters");
	if (ctl->json) {
		json_object *o = json_object_new_object();

		for (size_t i = 0; i < n; i++)
			json_object_object_add(o, counters[i].name,
					       ctl_json_u64(counters[i].value));
		ctl_print_json(o);
	} else if (!n) {
		printf("no device counters: bitnetd is not using /dev/bitnet\n");
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-24s %" PRIu64 "\n", counters[i].name, counters[i].value);
	}
	bitnet_counters_free(counters, n);
	return EXIT_OK;
}

int cmd_limit(struct ctl *ctl, int argc, char **argv)
{
	int r, ret;

	if (argc < 2)
		return ctl_usage_error(ctl, "limit takes NAME=VALUE...");
	for (int i = 1; i < argc; i++)
		if (!strchr(argv[i], '=') || argv[i][0] == '=')
			return ctl_usage_error(ctl, "limit: '%s' is not NAME=VALUE", argv[i]);
	ret = ctl_connect(ctl);
	for (int i = 1; !ret && i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		uint64_t value;

		*eq = '\0';
		if (ctl_parse_u64(ctl, argv[i], eq + 1, &value))
			return EXIT_USAGE;
		r = bitnet_set_limit(ctl->client, argv[i], value);
		if (r < 0)
			ret = ctl_fail(ctl, r, "limit");
	}
	return ret;
}
