// SPDX-License-Identifier: GPL-2.0
/*
 * Running a completion: a session of its own on bitnetd, the request's
 * tokens collected from libbitnet-client callbacks, and the answer as one
 * JSON object or as server-sent events. MHD gives each connection a thread,
 * so the stream's content reader may block on the D-Bus connection; when
 * the HTTP client goes away MHD frees the response, whose free callback
 * closes the session, and bitnetd cancels what was still running.
 */
#include <bitnet-client.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd/completion.h"

/* Seconds a non-streamed answer may take (the connection is silent meanwhile). */
#define ANSWER_TIMEOUT 600

struct run {
	struct httpd_completion_req req;
	struct bitnet_client *client;
	struct bitnet_session *session;
	uint64_t request;
	char id[64];
	int64_t created;
	/* Text not yet sent (stream) or the whole answer (not streamed). */
	char *text;
	size_t len, cap;
	bool oom;
	bool finished;
	bool done_sent;
	bool role_sent;
	char reason[16];
	char error[256];
	uint32_t prompt_tokens, tokens;
	/* SSE bytes ready to go out, and how far they went. */
	char *out;
	size_t out_len, out_pos;
};

static void append(struct run *run, const char *s, size_t n)
{
	if (run->len + n + 1 > run->cap) {
		size_t cap = (run->len + n + 1) * 2;
		char *t = realloc(run->text, cap);

		if (!t) {
			run->oom = true;
			return;
		}
		run->text = t;
		run->cap = cap;
	}
	memcpy(run->text + run->len, s, n);
	run->len += n;
	run->text[run->len] = '\0';
}

static void on_token(struct bitnet_session *session, uint64_t request, const int32_t *ids,
		     size_t n_ids, const char *text, void *userdata)
{
	(void)session;
	(void)request;
	(void)ids;
	(void)n_ids;
	append(userdata, text, strlen(text));
}

static void on_finished(struct bitnet_session *session, uint64_t request, const char *reason,
			const struct bitnet_finish_stats *stats, void *userdata)
{
	struct run *run = userdata;

	(void)session;
	(void)request;
	run->finished = true;
	snprintf(run->reason, sizeof(run->reason), "%s", reason);
	snprintf(run->error, sizeof(run->error), "%s", stats->error ? stats->error : "");
	run->prompt_tokens = stats->prompt_tokens;
	run->tokens = stats->tokens;
}

static const struct bitnet_stream_ops ops = {
	.token = on_token,
	.finished = on_finished,
};

static void run_free(struct run *run)
{
	if (run->session)
		bitnet_session_close(run->session);
	bitnet_client_free(run->client);
	httpd_completion_req_clear(&run->req);
	free(run->text);
	free(run->out);
	free(run);
}

/* OpenAI's finish_reason: eos and stop strings are both "stop". */
static const char *finish_reason(const struct run *run)
{
	return strcmp(run->reason, "length") ? "stop" : "length";
}

static struct json_object *usage(const struct run *run)
{
	struct json_object *u = json_object_new_object();

	json_object_object_add(u, "prompt_tokens", json_object_new_int64(run->prompt_tokens));
	json_object_object_add(u, "completion_tokens", json_object_new_int64(run->tokens));
	json_object_object_add(u, "total_tokens",
			       json_object_new_int64(run->prompt_tokens + run->tokens));
	return u;
}

static struct json_object *envelope(const struct run *run, const char *object)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(run->id));
	json_object_object_add(o, "object", json_object_new_string(object));
	json_object_object_add(o, "created", json_object_new_int64(run->created));
	json_object_object_add(o, "model", json_object_new_string(run->req.model));
	return o;
}

/* One choice carrying text (NULL: none) and a finish_reason (NULL: null). */
static struct json_object *choice(struct run *run, const char *text, const char *reason)
{
	struct json_object *c = json_object_new_object(), *delta;

	json_object_object_add(c, "index", json_object_new_int(0));
	if (!run->req.chat) {
		json_object_object_add(c, "text", json_object_new_string(text ? text : ""));
		json_object_object_add(c, "logprobs", NULL);
	} else if (!run->req.stream) {
		delta = json_object_new_object();
		json_object_object_add(delta, "role", json_object_new_string("assistant"));
		json_object_object_add(delta, "content", json_object_new_string(text ? text : ""));
		json_object_object_add(c, "message", delta);
	} else {
		delta = json_object_new_object();
		if (!run->role_sent) {
			json_object_object_add(delta, "role", json_object_new_string("assistant"));
			run->role_sent = true;
		}
		if (text)
			json_object_object_add(delta, "content", json_object_new_string(text));
		json_object_object_add(c, "delta", delta);
	}
	json_object_object_add(c, "finish_reason", reason ? json_object_new_string(reason) : NULL);
	return c;
}

/* Adds one SSE event "data: <obj>\n\n" (obj consumed; NULL: [DONE]). */
static void event(struct run *run, struct json_object *obj)
{
	const char *s =
		obj ? json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE) :
		      "[DONE]";
	size_t n = strlen(s) + 8;
	char *out = realloc(run->out, run->out_len + n + 1);

	if (out) {
		run->out = out;
		run->out_len += snprintf(out + run->out_len, n + 1, "data: %s\n\n", s);
	} else {
		run->oom = true;
	}
	json_object_put(obj);
}

static struct json_object *chunk(struct run *run, const char *text, const char *reason)
{
	struct json_object *o, *choices = json_object_new_array();

	o = envelope(run, run->req.chat ? "chat.completion.chunk" : "text_completion");
	json_object_array_add(choices, choice(run, text, reason));
	json_object_object_add(o, "choices", choices);
	return o;
}

/* Turns what arrived since the last call into events. */
static void make_events(struct run *run)
{
	struct json_object *o;

	if (run->len) {
		event(run, chunk(run, run->text, NULL));
		run->len = 0;
	}
	if (!run->finished || run->done_sent)
		return;
	if (!strcmp(run->reason, "error") || !strcmp(run->reason, "cancelled")) {
		struct json_object *err = json_object_new_object();

		json_object_object_add(err, "message",
				       json_object_new_string(*run->error ? run->error :
									    run->reason));
		json_object_object_add(err, "type", json_object_new_string("server_error"));
		o = json_object_new_object();
		json_object_object_add(o, "error", err);
		event(run, o);
	} else {
		event(run, chunk(run, NULL, finish_reason(run)));
		if (run->req.include_usage) {
			o = envelope(run,
				     run->req.chat ? "chat.completion.chunk" : "text_completion");
			json_object_object_add(o, "choices", json_object_new_array());
			json_object_object_add(o, "usage", usage(run));
			event(run, o);
		}
	}
	event(run, NULL);
	run->done_sent = true;
}

/*
 * Waits on the D-Bus connection until tokens arrive (unless whole) or the
 * request ends (0), or wait_usec passes with neither (1).
 */
static int pump(struct run *run, uint64_t wait_usec, bool whole)
{
	int r;

	for (;;) {
		r = bitnet_client_process(run->client);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if ((run->len && !whole) || run->finished)
			return 0;
		r = bitnet_client_wait(run->client, wait_usec);
		if (r < 0)
			return r;
		if (r == 0)
			return 1;
	}
}

/*
 * While the daemon is quiet (a queue, a long prompt), an SSE comment goes
 * out at half the idle timeout: MHD would otherwise close the connection as
 * idle, and a client that left is noticed then rather than at the first
 * token.
 */
static uint64_t keepalive_usec(void)
{
	return httpd_cfg.timeout ? httpd_cfg.timeout * 500000ULL : 10000000ULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct run *run = cls;
	size_t n;
	int r;

	(void)pos;
	while (run->out_pos == run->out_len) {
		if (run->done_sent)
			return MHD_CONTENT_READER_END_OF_STREAM;
		run->out_len = run->out_pos = 0;
		r = pump(run, keepalive_usec(), false);
		if (r == 1) {
			static const char ka[] = ": keep-alive\n\n";

			n = sizeof(ka) - 1 < max ? sizeof(ka) - 1 : max;
			memcpy(buf, ka, n);
			return n;
		}
		if (r < 0 || run->oom) {
			/* Headers are gone already: all that is left is to cut the stream. */
			fprintf(stderr, "bitnet-httpd: %s: stream cut: %s\n", run->id,
				r < 0 ? bitnet_client_last_error(run->client) : "out of memory");
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		make_events(run);
		if (run->oom)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = run->out_len - run->out_pos;
	if (n > max)
		n = max;
	memcpy(buf, run->out + run->out_pos, n);
	run->out_pos += n;
	return n;
}

static void stream_free(void *cls)
{
	run_free(cls);
}

static enum MHD_Result reply_stream(struct MHD_Connection *conn, struct run *run)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, run,
						 stream_free);
	if (!resp) {
		run_free(run);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_whole(struct MHD_Connection *conn, struct run *run)
{
	struct json_object *o, *choices;
	enum MHD_Result ret;
	int r;

	/*
	 * Nothing goes out until the answer is whole: the idle timeout, meant
	 * for slow clients, must not cut a long generation.
	 */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
				  httpd_cfg.timeout && httpd_cfg.timeout < ANSWER_TIMEOUT ?
					  ANSWER_TIMEOUT :
					  httpd_cfg.timeout);
	r = pump(run, UINT64_MAX, true);
	if (r < 0 || run->oom || strcmp(run->reason, "error") == 0) {
		ret = httpd_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
					"bitnetd: %s",
					r < 0	 ? bitnet_client_last_error(run->client) :
					run->oom ? "out of memory" :
						   run->error);
		run_free(run);
		return ret;
	}
	o = envelope(run, run->req.chat ? "chat.completion" : "text_completion");
	choices = json_object_new_array();
	json_object_array_add(choices, choice(run, run->text ? run->text : "", finish_reason(run)));
	json_object_object_add(o, "choices", choices);
	json_object_object_add(o, "usage", usage(run));
	run_free(run);
	return httpd_reply_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result bus_error(struct MHD_Connection *conn, struct run *run, int r)
{
	const char *type;
	unsigned int status = httpd_status_of(r, &type);
	enum MHD_Result ret;

	if (r == -ENOENT && !run->session)
		ret = httpd_reply_error(conn, status, type, "model '%s' not found", run->req.model);
	else
		ret = httpd_reply_error(conn, status, type, "bitnetd: %s",
					run->client ? bitnet_client_last_error(run->client) :
						      bitnet_client_connect_error());
	run_free(run);
	return ret;
}

enum MHD_Result httpd_completion(struct MHD_Connection *conn, const char *body, size_t len,
				 bool chat)
{
	struct run *run = calloc(1, sizeof(*run));
	struct timespec ts;
	enum MHD_Result ret;
	int r;

	if (!run)
		return MHD_NO;
	r = httpd_completion_parse(&run->req, body, len, chat);
	if (r < 0) {
		ret = httpd_reply_error(conn, MHD_HTTP_BAD_REQUEST, "invalid_request_error", "%s",
					r == -EINVAL ? run->req.error : strerror(-r));
		run_free(run);
		return ret;
	}
	r = httpd_connect(&run->client);
	if (r < 0)
		return bus_error(conn, run, r);
	r = bitnet_session_open(run->client, run->req.model, 0, &run->session);
	if (r < 0)
		return bus_error(conn, run, r);
	if (chat)
		r = bitnet_chat(run->session, run->req.messages, run->req.n_messages,
				run->req.params, &ops, run, &run->request);
	else
		r = bitnet_generate(run->session, run->req.prompt, run->req.params, &ops, run,
				    &run->request);
	if (r < 0)
		return bus_error(conn, run, r);
	clock_gettime(CLOCK_REALTIME, &ts);
	run->created = ts.tv_sec;
	snprintf(run->id, sizeof(run->id), "%s-%llx%09lx", chat ? "chatcmpl" : "cmpl",
		 (unsigned long long)run->request, (long)ts.tv_nsec);
	return run->req.stream ? reply_stream(conn, run) : reply_whole(conn, run);
}
