// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The blocking convenience calls: submit, collect the streamed text and wait
 * for Finished, dispatching everything else that arrives meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libclient/internal.h"

struct collector {
	char *text;
	size_t len;
	size_t cap;
	bool failed_alloc;
	bool done;
	struct bitnet_result *result;
	char *error;
};

static void collect_tokens(struct bitnet_session *session, uint64_t request, const int32_t *ids,
			   size_t n_ids, const char *piece, void *userdata)
{
	struct collector *c = userdata;
	size_t n = strlen(piece);

	(void)session;
	(void)request;
	(void)ids;
	(void)n_ids;
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *bigger = realloc(c->text, cap);

		if (!bigger) {
			c->failed_alloc = true;
			return;
		}
		c->text = bigger;
		c->cap = cap;
	}
	memcpy(c->text + c->len, piece, n + 1);
	c->len += n;
}

static void collect_finished(struct bitnet_session *session, uint64_t request, const char *reason,
			     const struct bitnet_finish_stats *stats, void *userdata)
{
	struct collector *c = userdata;
	struct bitnet_result *res = c->result;

	(void)session;
	(void)request;
	c->done = true;
	res->reason = strdup(reason);
	if (!res->reason)
		c->failed_alloc = true;
	res->prompt_tokens = stats->prompt_tokens;
	res->tokens = stats->tokens;
	res->cached_tokens = stats->cached_tokens;
	res->prefill_tps = stats->prefill_tps;
	res->decode_tps = stats->decode_tps;
	if (strcmp(reason, "error") == 0)
		c->error = strdup(*stats->error ? stats->error : "unknown error");
}

static const struct bitnet_stream_ops collector_ops = {
	.token = collect_tokens,
	.finished = collect_finished,
};

static int wait_collected(struct bitnet_session *session, struct collector *c)
{
	struct bitnet_client *client = session->client;
	int r;

	while (!c->done) {
		r = bitnet_client_process(client);
		if (r < 0)
			return r; /* pending requests were ended: c->done is set */
		if (r > 0)
			continue;
		r = bitnet_client_wait(client, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			return r;
	}
	return 0;
}

/* Runs one request started by start() and fills result. */
static int run_blocking(struct bitnet_session *session, struct bitnet_result *result,
			int (*start)(struct bitnet_session *session, const void *arg,
				     const struct bitnet_stream_ops *ops, void *userdata,
				     uint64_t *request),
			const void *arg)
{
	struct bitnet_client *client = session->client;
	struct collector c = { .result = result };
	uint64_t request;
	int r;

	memset(result, 0, sizeof(*result));
	r = start(session, arg, &collector_ops, &c, &request);
	if (r < 0)
		return r;
	r = wait_collected(session, &c);
	if (!c.done) {
		bcl_session_forget(session, request); /* c is about to go away */
		free(c.text);
		bitnet_result_clear(result);
		return r;
	}
	result->text = c.text ? c.text : strdup("");
	if (!result->text || c.failed_alloc) {
		free(c.error);
		bitnet_result_clear(result);
		return bcl_client_fail(client, -ENOMEM, "collecting the generated text");
	}
	if (c.error) {
		free(client->error);
		if (asprintf(&client->error, "generation failed: %s", c.error) < 0)
			client->error = NULL;
		free(c.error);
		return -EIO;
	}
	return r;
}

struct generate_args {
	const char *prompt;
	const struct bitnet_params *params;
};

static int start_generate(struct bitnet_session *session, const void *arg,
			  const struct bitnet_stream_ops *ops, void *userdata, uint64_t *request)
{
	const struct generate_args *a = arg;

	return bitnet_generate(session, a->prompt, a->params, ops, userdata, request);
}

int bitnet_generate_blocking(struct bitnet_session *session, const char *prompt,
			     const struct bitnet_params *params, struct bitnet_result *result)
{
	const struct generate_args args = { prompt, params };

	if (!session || !prompt || !result)
		return -EINVAL;
	return run_blocking(session, result, start_generate, &args);
}

struct chat_args {
	const struct bitnet_message *messages;
	size_t n_messages;
	const struct bitnet_params *params;
};

static int start_chat(struct bitnet_session *session, const void *arg,
		      const struct bitnet_stream_ops *ops, void *userdata, uint64_t *request)
{
	const struct chat_args *a = arg;

	return bitnet_chat(session, a->messages, a->n_messages, a->params, ops, userdata, request);
}

int bitnet_chat_blocking(struct bitnet_session *session, const struct bitnet_message *messages,
			 size_t n_messages, const struct bitnet_params *params,
			 struct bitnet_result *result)
{
	const struct chat_args args = { messages, n_messages, params };

	if (!session || !result)
		return -EINVAL;
	return run_blocking(session, result, start_chat, &args);
}

void bitnet_result_clear(struct bitnet_result *result)
{
	if (!result)
		return;
	free(result->text);
	free(result->reason);
	memset(result, 0, sizeof(*result));
}
