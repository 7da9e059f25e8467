// SPDX-License-Identifier: GPL-2.0
/*
 * bitnetctl generate and chat: tokens stream to stdout as they arrive;
 * Ctrl-C cancels the request on the daemon and waits for its Finished.
 * generate --pipe receives the text through a pipe (SubmitToFd) instead of
 * signals; Ctrl-C then closes the pipe, which cancels the request.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

struct gen_opts {
	char *model;
	char *system;
	uint32_t n_ctx;
	bool verbose;
	bool pipe;
	struct bitnet_params *params;
};

/* One request's progress and outcome. */
struct gen_run {
	struct ctl *ctl;
	struct bitnet_session *session;
	uint64_t request;
	bool finished;
	bool done; /* finished, and the pipe (if any) is closed */
	bool stream;
	struct ctl_watch watch; /* the pipe of --pipe */
	char *text;
	size_t len;
	size_t cap;
	char *reason;
	char *error;
	struct bitnet_finish_stats stats;
};

/* Prints (when streaming) and keeps n bytes of generated text. */
static void gen_append(struct gen_run *run, const char *piece, size_t n)
{
	if (run->stream) {
		fwrite(piece, 1, n, stdout);
		fflush(stdout);
	}
	if (run->len + n + 1 > run->cap) {
		size_t cap = (run->len + n + 1) * 2;
		char *bigger = realloc(run->text, cap);

		if (!bigger)
			return; /* the stream was printed; only the copy is short */
		run->text = bigger;
		run->cap = cap;
	}
	memcpy(run->text + run->len, piece, n);
	run->len += n;
	run->text[run->len] = '\0';
}

static void on_token(struct bitnet_session *session, uint64_t request, const int32_t *ids,
		     size_t n_ids, const char *piece, void *userdata)
{
	(void)session;
	(void)request;
	(void)ids;
	(void)n_ids;
	gen_append(userdata, piece, strlen(piece));
}

static void close_pipe(struct gen_run *run)
{
	if (run->watch.fd >= 0)
		close(run->watch.fd);
	run->watch.fd = -1;
	run->done = run->finished;
}

/* --pipe: the daemon wrote text, or closed its end after the request. */
static void on_pipe_ready(void *userdata)
{
	struct gen_run *run = userdata;
	char buf[4096];
	ssize_t n = read(run->watch.fd, buf, sizeof(buf));

	if (n > 0)
		gen_append(run, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_pipe(run);
}

static void on_finished(struct bitnet_session *session, uint64_t request, const char *reason,
			const struct bitnet_finish_stats *stats, void *userdata)
{
	struct gen_run *run = userdata;

	(void)session;
	(void)request;
	run->finished = true;
	run->done = run->watch.fd < 0; /* else the rest of the text is still in the pipe */
	run->reason = strdup(reason);
	run->error = strdup(stats->error);
	run->stats = *stats;
	run->stats.error = NULL;
}

static const struct bitnet_stream_ops gen_ops = {
	.token = on_token,
	.finished = on_finished,
};

static void cancel_request(void *userdata)
{
	struct gen_run *run = userdata;
	int r;

	fprintf(stderr, "\n%s: cancelling request %llu%s\n", run->ctl->prog,
		(unsigned long long)run->request, run->watch.fd >= 0 ? " by closing its pipe" : "");
	if (run->watch.fd >= 0) {
		close_pipe(run); /* the daemon's next write fails: it cancels */
		return;
	}
	/* Not waiting for the answer keeps a second Ctrl-C effective. */
	r = bitnet_cancel_async(run->session, run->request);
	if (r < 0)
		ctl_fail(run->ctl, r, "cancel");
}

static void gen_run_clear(struct gen_run *run)
{
	free(run->text);
	free(run->reason);
	free(run->error);
}

static void print_result_json(struct gen_run *run, const char *model)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "model", json_object_new_string(model));
	json_object_object_add(o, "session",
			       json_object_new_string(bitnet_session_get_path(run->session)));
	json_object_object_add(o, "request", ctl_json_u64(run->request));
	json_object_object_add(o, "text", json_object_new_string(run->text ? run->text : ""));
	json_object_object_add(o, "reason", json_object_new_string(run->reason));
	json_object_object_add(o, "prompt_tokens", ctl_json_u64(run->stats.prompt_tokens));
	json_object_object_add(o, "tokens", ctl_json_u64(run->stats.tokens));
	json_object_object_add(o, "cached_tokens", ctl_json_u64(run->stats.cached_tokens));
	json_object_object_add(o, "prefill_tps", json_object_new_double(run->stats.prefill_tps));
	json_object_object_add(o, "decode_tps", json_object_new_double(run->stats.decode_tps));
	json_object_object_add(o, "error", json_object_new_string(run->error ? run->error : ""));
	ctl_print_json(o);
}

/* Waits for the submitted run and reports it; returns the exit code. */
static int finish_run(struct ctl *ctl, struct gen_run *run, const struct gen_opts *opts,
		      const char *model)
{
	int ret = ctl_loop(ctl, &run->done, cancel_request, run, &run->watch);

	if (!run->done)
		return ret; /* a broken bus */
	if (!run->reason || !run->error)
		return ctl_fail(ctl, -ENOMEM, "generate");
	if (ctl->json)
		print_result_json(run, model);
	else if (run->len && run->text[run->len - 1] != '\n')
		putchar('\n');
	if (opts->verbose)
		fprintf(stderr,
			"[%s: %u prompt tokens (%u cached), %u generated, "
			"prefill %.1f tokens/s, decode %.1f tokens/s]\n",
			run->reason, run->stats.prompt_tokens, run->stats.cached_tokens,
			run->stats.tokens, run->stats.prefill_tps, run->stats.decode_tps);
	if (strcmp(run->reason, "error") == 0) {
		fprintf(stderr, "%s: generation failed: %s\n", ctl->prog, run->error);
		return EXIT_FAIL;
	}
	if (strcmp(run->reason, "cancelled") == 0)
		return ctl_interrupted() ? EXIT_INTERRUPTED : EXIT_FAIL;
	return EXIT_OK;
}

/* Parses the options; on return argv[*first..argc) are the operands. */
static int parse_gen_opts(struct ctl *ctl, int argc, char **argv, bool chat, struct gen_opts *opts,
			  int *first)
{
	static const struct option options[] = { { "model", required_argument, NULL, 'm' },
						 { "system", required_argument, NULL, 'S' },
						 { "ctx", required_argument, NULL, 'c' },
						 { "verbose", no_argument, NULL, 'v' },
						 { "json", no_argument, NULL, 'j' },
						 { "pipe", no_argument, NULL, 'P' },
						 CTL_GEN_LONG_OPTIONS,
						 { NULL, 0, NULL, 0 } };
	uint64_t u;
	int opt, r;

	if (bitnet_params_new(&opts->params) < 0)
		return ctl_fail(ctl, -ENOMEM, argv[0]);
	while ((opt = getopt_long(argc, argv, "m:n:vj", options, NULL)) != -1) {
		r = ctl_gen_option(ctl, opts->params, opt, optarg);
		if (r < 0)
			return -r;
		if (r > 0)
			continue;
		switch (opt) {
		case 'm':
			opts->model = optarg;
			break;
		case 'S':
			if (!chat)
				return ctl_usage_error(ctl, "--system is for chat");
			opts->system = optarg;
			break;
		case 'c':
			if (ctl_parse_u64(ctl, "--ctx", optarg, &u))
				return EXIT_USAGE;
			if (u > UINT32_MAX)
				return ctl_usage_error(ctl, "--ctx: %s is too large", optarg);
			opts->n_ctx = (uint32_t)u;
			break;
		case 'v':
			opts->verbose = true;
			break;
		case 'P':
			if (chat)
				return ctl_usage_error(ctl, "--pipe is for generate");
			opts->pipe = true;
			break;
		case 'j':
			ctl->json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	*first = optind;
	return EXIT_OK;
}

/* Reads all of stdin (the prompt when none is given on the command line). */
static char *read_stdin(void)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	do {
		if (len + 4096 > cap) {
			char *bigger = realloc(buf, cap = len + 65536);

			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
		n = fread(buf + len, 1, cap - len - 1, stdin);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	return buf;
}

/* Resolves the model and opens the session both commands need. */
static int open_session(struct ctl *ctl, const struct gen_opts *opts, char **model,
			struct bitnet_session **session)
{
	int r = ctl_resolve_model(ctl, opts->model, model);

	if (r < 0)
		return -r;
	r = bitnet_session_open(ctl->client, *model, opts->n_ctx, session);
	if (r < 0)
		return ctl_fail(ctl, r, "opening a session");
	return EXIT_OK;
}

int cmd_generate(struct ctl *ctl, int argc, char **argv)
{
	struct gen_opts opts = { 0 };
	struct gen_run run = { .ctl = ctl, .watch = { -1, on_pipe_ready } };
	char *model = NULL, *prompt = NULL;
	int first, r, ret;

	ret = parse_gen_opts(ctl, argc, argv, false, &opts, &first);
	if (ret)
		goto out;
	prompt = first < argc ? ctl_join_args(argc - first, argv + first) : read_stdin();
	if (!prompt) {
		ret = ctl_fail(ctl, -ENOMEM, "prompt");
		goto out;
	}
	ret = open_session(ctl, &opts, &model, &run.session);
	if (ret)
		goto out;
	run.stream = !ctl->json;
	ctl_catch_signals();
	if (opts.pipe)
		r = bitnet_generate_to_fd(run.session, prompt, opts.params, &gen_ops, &run,
					  &run.request, &run.watch.fd);
	else
		r = bitnet_generate(run.session, prompt, opts.params, &gen_ops, &run, &run.request);
	if (r < 0)
		ret = ctl_fail(ctl, r, "generate");
	else
		ret = finish_run(ctl, &run, &opts, model);
	close_pipe(&run);
	bitnet_session_close(run.session);
out:
	gen_run_clear(&run);
	bitnet_params_free(opts.params);
	free(prompt);
	free(model);
	return ret;
}

struct chat_history {
	struct bitnet_message *msgs;
	size_t n;
};

static int history_add(struct chat_history *h, const char *role, const char *content)
{
	struct bitnet_message *bigger = realloc(h->msgs, (h->n + 1) * sizeof(*bigger));
	char *copy = strdup(content);

	if (bigger)
		h->msgs = bigger;
	if (!bigger || !copy) {
		free(copy);
		return -ENOMEM;
	}
	h->msgs[h->n].role = role;
	h->msgs[h->n++].content = copy;
	return 0;
}

static void history_free(struct chat_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		free((char *)h->msgs[i].content);
	free(h->msgs);
}

/* One user turn: sends the whole history, appends the reply to it. */
static int chat_turn(struct ctl *ctl, struct bitnet_session *session, struct chat_history *h,
		     const struct gen_opts *opts, const char *model, const char *user)
{
	struct gen_run run = {
		.ctl = ctl, .session = session, .stream = !ctl->json, .watch = { -1, NULL }
	};
	int r, ret;

	if (history_add(h, "user", user) < 0)
		return ctl_fail(ctl, -ENOMEM, "chat");
	ctl_catch_signals();
	r = bitnet_chat(session, h->msgs, h->n, opts->params, &gen_ops, &run, &run.request);
	if (r < 0)
		ret = ctl_fail(ctl, r, "chat");
	else
		ret = finish_run(ctl, &run, opts, model);
	if (ret == EXIT_OK && history_add(h, "assistant", run.text ? run.text : "") < 0)
		ret = ctl_fail(ctl, -ENOMEM, "chat");
	gen_run_clear(&run);
	return ret;
}

int cmd_chat(struct ctl *ctl, int argc, char **argv)
{
	struct chat_history history = { 0 };
	struct bitnet_session *session = NULL;
	struct gen_opts opts = { 0 };
	char *model = NULL, *line = NULL;
	size_t cap = 0;
	int first, ret;

	ret = parse_gen_opts(ctl, argc, argv, true, &opts, &first);
	if (ret)
		goto out;
	ret = open_session(ctl, &opts, &model, &session);
	if (ret)
		goto out;
	if (opts.system && history_add(&history, "system", opts.system) < 0) {
		ret = ctl_fail(ctl, -ENOMEM, "chat");
		goto out;
	}
	if (first < argc) {
		line = ctl_join_args(argc - first, argv + first);
		ret = line ? chat_turn(ctl, session, &history, &opts, model, line) :
			     ctl_fail(ctl, -ENOMEM, "chat");
		goto out;
	}
	/* Ctrl-C at the prompt ends the chat with EXIT_INTERRUPTED too. */
	ctl_catch_signals();
	ctl_release_signals();
	for (;;) {
		ssize_t n;

		if (isatty(STDIN_FILENO))
			fputs("> ", stderr);
		n = getline(&line, &cap, stdin);
		if (n < 0) {
			if (ctl_interrupted())
				ret = EXIT_INTERRUPTED;
			break;
		}
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (!n)
			continue;
		ret = chat_turn(ctl, session, &history, &opts, model, line);
		if (ret)
			break;
	}
out:
	bitnet_session_close(session);
	history_free(&history);
	bitnet_params_free(opts.params);
	free(line);
	free(model);
	return ret;
}
