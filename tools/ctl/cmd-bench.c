// SPDX-License-Identifier: GPL-2.0
/*
 * bitnetctl bench: N sessions generate at the same time on one connection;
 * prints each session's tokens and the aggregate tokens/s over wall time.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/ctl/ctl.h"

struct bench_slot {
	struct bitnet_session *session;
	uint64_t request;
	bool done;
	char reason[16];
	struct bitnet_finish_stats stats;
	double seconds;
};

struct bench {
	struct bench_slot *slots;
	size_t n;
	size_t finished;
	bool all_done;
	struct timespec start;
};

static double elapsed(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Wall time of the run: until the last request finished. */
static double last_finish(const struct bench *b)
{
	double wall = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->slots[i].seconds > wall)
			wall = b->slots[i].seconds;
	return wall;
}

static struct bench *bench_of; /* finished callbacks find the run here */

static void on_finished(struct bitnet_session *session, uint64_t request, const char *reason,
			const struct bitnet_finish_stats *stats, void *userdata)
{
	struct bench_slot *slot = userdata;

	(void)session;
	(void)request;
	slot->done = true;
	snprintf(slot->reason, sizeof(slot->reason), "%s", reason);
	slot->stats = *stats;
	slot->stats.error = NULL;
	slot->seconds = elapsed(&bench_of->start);
	if (++bench_of->finished == bench_of->n)
		bench_of->all_done = true;
}

static const struct bitnet_stream_ops bench_ops = { .finished = on_finished };

static void cancel_all(void *userdata)
{
	struct bench *b = userdata;

	for (size_t i = 0; i < b->n; i++)
		if (b->slots[i].session && !b->slots[i].done)
			bitnet_cancel_async(b->slots[i].session, b->slots[i].request);
}

static void report(struct ctl *ctl, const struct bench *b, const char *model, double wall,
		   uint32_t max_tokens)
{
	uint64_t total = 0;

	for (size_t i = 0; i < b->n; i++)
		total += b->slots[i].stats.tokens;
	if (ctl->json) {
		json_object *o = json_object_new_object();
		json_object *list = json_object_new_array();

		for (size_t i = 0; i < b->n; i++) {
			const struct bench_slot *s = &b->slots[i];
			json_object *e = json_object_new_object();

			json_object_object_add(e, "reason", json_object_new_string(s->reason));
			json_object_object_add(e, "tokens", ctl_json_u64(s->stats.tokens));
			json_object_object_add(e, "seconds", json_object_new_double(s->seconds));
			json_object_object_add(e, "decode_tps",
					       json_object_new_double(s->stats.decode_tps));
			json_object_array_add(list, e);
		}
		json_object_object_add(o, "model", json_object_new_string(model));
		json_object_object_add(o, "sessions", ctl_json_u64(b->n));
		json_object_object_add(o, "max_tokens", ctl_json_u64(max_tokens));
		json_object_object_add(o, "tokens", ctl_json_u64(total));
		json_object_object_add(o, "seconds", json_object_new_double(wall));
		json_object_object_add(o, "tokens_per_second",
				       json_object_new_double(wall > 0 ? total / wall : 0));
		json_object_object_add(o, "results", list);
		ctl_print_json(o);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		printf("session %zu: %u tokens in %.2f s (%s, decode %.1f tokens/s)\n", i,
		       b->slots[i].stats.tokens, b->slots[i].seconds, b->slots[i].reason,
		       b->slots[i].stats.decode_tps);
	printf("%zu sessions, %llu tokens in %.2f s: %.1f tokens/s\n", b->n,
	       (unsigned long long)total, wall, wall > 0 ? total / wall : 0);
}

int cmd_bench(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { { "model", required_argument, NULL, 'm' },
						 { "sessions", required_argument, NULL, 'c' },
						 { "prompt", required_argument, NULL, 'p' },
						 { "json", no_argument, NULL, 'j' },
						 CTL_GEN_LONG_OPTIONS,
						 { NULL, 0, NULL, 0 } };
	const char *wanted = NULL, *prompt = "To be, or not to be";
	struct bitnet_params *params = NULL;
	struct bench b = { 0 };
	uint64_t n_sessions = 2, max_tokens = 64;
	char *model = NULL;
	int opt, r, ret = EXIT_OK;

	if (bitnet_params_new(&params) < 0)
		return ctl_fail(ctl, -ENOMEM, "bench");
	while ((opt = getopt_long(argc, argv, "m:c:n:p:j", options, NULL)) != -1) {
		if (opt == 'n') {
			if (ctl_parse_u64(ctl, "-n", optarg, &max_tokens))
				ret = EXIT_USAGE;
			continue;
		}
		r = ctl_gen_option(ctl, params, opt, optarg);
		if (r < 0)
			ret = -r;
		if (r)
			continue;
		if (opt == 'm')
			wanted = optarg;
		else if (opt == 'c' && ctl_parse_u64(ctl, "--sessions", optarg, &n_sessions))
			ret = EXIT_USAGE;
		else if (opt == 'p')
			prompt = optarg;
		else if (opt == 'j')
			ctl->json = true;
		else if (opt != 'c')
			ret = EXIT_USAGE;
	}
	if (ret == EXIT_OK && (n_sessions < 1 || n_sessions > 256 || max_tokens < 1 ||
			       max_tokens > UINT32_MAX || optind != argc))
		ret = ctl_usage_error(ctl, "bench: 1..256 sessions, -n >= 1, no operands");
	if (ret)
		goto out;
	r = ctl_resolve_model(ctl, wanted, &model);
	if (r < 0) {
		ret = -r;
		goto out;
	}
	/* Every session produces exactly max_tokens unless a limit interferes. */
	bitnet_params_set_max_tokens(params, (uint32_t)max_tokens);
	bitnet_params_set_ignore_eos(params, true);
	b.n = n_sessions;
	b.slots = calloc(b.n, sizeof(*b.slots));
	if (!b.slots) {
		ret = ctl_fail(ctl, -ENOMEM, "bench");
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		r = bitnet_session_open(ctl->client, model, 0, &b.slots[i].session);
		if (r < 0) {
			ret = ctl_fail(ctl, r, "opening sessions");
			goto out;
		}
	}
	bench_of = &b;
	ctl_catch_signals();
	clock_gettime(CLOCK_MONOTONIC, &b.start);
	for (size_t i = 0; i < b.n; i++) {
		r = bitnet_generate(b.slots[i].session, prompt, params, &bench_ops, &b.slots[i],
				    &b.slots[i].request);
		if (r < 0) {
			ret = ctl_fail(ctl, r, "submitting");
			cancel_all(&b);
			b.n = i; /* wait only for the ones submitted */
			b.all_done = b.finished == b.n;
			break;
		}
	}
	r = ctl_loop(ctl, &b.all_done, cancel_all, &b, NULL);
	if (ret == EXIT_OK && r == EXIT_OK && ctl_interrupted())
		ret = EXIT_INTERRUPTED;
	else if (ret == EXIT_OK)
		ret = r;
	if (ret == EXIT_OK)
		report(ctl, &b, model, last_finish(&b), (uint32_t)max_tokens);
out:
	for (size_t i = 0; b.slots && i < n_sessions; i++)
		bitnet_session_close(b.slots[i].session);
	free(b.slots);
	bitnet_params_free(params);
	free(model);
	return ret;
}
