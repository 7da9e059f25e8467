// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing an OpenAI-style completion request body into what libbitnet-client
 * takes. Every field is checked for its type and range, and fields this
 * server does not implement are refused by name rather than ignored, so a
 * client never gets an answer to a question it did not ask.
 */
#include <bitnet-client.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/completion.h"

/* Accepted and meaningless here (no effect on the answer). */
static const char *const ignored_fields[] = { "user", "stream_options", NULL };

static int fail(struct httpd_completion_req *req, const char *fmt, const char *what)
{
	snprintf(req->error, sizeof(req->error), fmt, what);
	return -EINVAL;
}

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int);
}

static int get_range(struct httpd_completion_req *req, struct json_object *v, const char *key,
		     double lo, double hi, double *out)
{
	double d;

	if (!is_number(v))
		return fail(req, "'%s' must be a number", key);
	d = json_object_get_double(v);
	if (!(d >= lo && d <= hi)) {
		snprintf(req->error, sizeof(req->error), "'%s' must be between %g and %g", key, lo,
			 hi);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

static int get_int(struct httpd_completion_req *req, struct json_object *v, const char *key,
		   int64_t lo, int64_t hi, int64_t *out)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return fail(req, "'%s' must be an integer", key);
	i = json_object_get_int64(v);
	if (i < lo || i > hi) {
		snprintf(req->error, sizeof(req->error), "'%s' must be between %lld and %lld", key,
			 (long long)lo, (long long)hi);
		return -EINVAL;
	}
	*out = i;
	return 0;
}

/* Chat content: a string, or an array of {"type": "text", "text": ...} parts. */
static int get_content(struct httpd_completion_req *req, struct json_object *v, size_t i)
{
	size_t k, n;
	char *s;

	if (json_object_is_type(v, json_type_string)) {
		req->contents[i] = strdup(json_object_get_string(v));
		return req->contents[i] ? 0 : -ENOMEM;
	}
	if (!json_object_is_type(v, json_type_array))
		return fail(req, "'%s' must be a string or an array of text parts",
			    "messages[].content");
	n = json_object_array_length(v);
	s = strdup("");
	for (k = 0; s && k < n; k++) {
		struct json_object *part = json_object_array_get_idx(v, k), *type, *text;
		char *joined;

		if (!json_object_object_get_ex(part, "type", &type) ||
		    strcmp(json_object_get_string(type), "text") ||
		    !json_object_object_get_ex(part, "text", &text) ||
		    !json_object_is_type(text, json_type_string)) {
			free(s);
			return fail(req, "'%s': only text parts are supported",
				    "messages[].content");
		}
		if (asprintf(&joined, "%s%s", s, json_object_get_string(text)) < 0)
			joined = NULL;
		free(s);
		s = joined;
	}
	req->contents[i] = s;
	return s ? 0 : -ENOMEM;
}

static int get_messages(struct httpd_completion_req *req, struct json_object *v)
{
	size_t i, n;

	if (!json_object_is_type(v, json_type_array) || !json_object_array_length(v))
		return fail(req, "'%s' must be a non-empty array", "messages");
	n = json_object_array_length(v);
	req->messages = calloc(n, sizeof(*req->messages));
	req->contents = calloc(n, sizeof(*req->contents));
	if (!req->messages || !req->contents)
		return -ENOMEM;
	req->n_messages = n;
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(v, i), *role, *content;
		const char *r;
		int ret;

		if (!json_object_is_type(m, json_type_object) ||
		    !json_object_object_get_ex(m, "role", &role) ||
		    !json_object_is_type(role, json_type_string) ||
		    !json_object_object_get_ex(m, "content", &content))
			return fail(req, "'%s' must be objects with a role and a content",
				    "messages");
		r = json_object_get_string(role);
		if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant"))
			return fail(req, "'%s' must be system, user or assistant",
				    "messages[].role");
		ret = get_content(req, content, i);
		if (ret < 0)
			return ret;
		req->messages[i].role = r;
		req->messages[i].content = req->contents[i];
	}
	return 0;
}

static int get_stop(struct httpd_completion_req *req, struct json_object *v)
{
	size_t i, n;

	if (json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return bitnet_params_add_stop(req->params, json_object_get_string(v));
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > 4)
		return fail(req, "'%s' must be a string or an array of up to 4 strings", "stop");
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(v, i);
		int r;

		if (!json_object_is_type(s, json_type_string) || !*json_object_get_string(s))
			return fail(req, "'%s' must hold non-empty strings", "stop");
		r = bitnet_params_add_stop(req->params, json_object_get_string(s));
		if (r < 0)
			return r;
	}
	return 0;
}

static int get_prompt(struct httpd_completion_req *req, struct json_object *v)
{
	/* A batch of prompts would be n > 1 answers: one string only. */
	if (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 1)
		v = json_object_array_get_idx(v, 0);
	if (!json_object_is_type(v, json_type_string))
		return fail(req, "'%s' must be a string (or an array of one string)", "prompt");
	req->prompt = json_object_get_string(v);
	return 0;
}

/* One top-level field; -EINVAL with req->error set when it is not acceptable. */
static int field(struct httpd_completion_req *req, const char *key, struct json_object *v)
{
	double d;
	int64_t i;
	int r;

	if (!strcmp(key, "model")) {
		if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
			return fail(req, "'%s' must be a non-empty string", key);
		req->model = json_object_get_string(v);
		return 0;
	}
	if (!strcmp(key, "messages") && req->chat)
		return get_messages(req, v);
	if (!strcmp(key, "prompt") && !req->chat)
		return get_prompt(req, v);
	if (!strcmp(key, "stream")) {
		if (!json_object_is_type(v, json_type_boolean))
			return fail(req, "'%s' must be true or false", key);
		req->stream = json_object_get_boolean(v);
		return 0;
	}
	if (!strcmp(key, "n")) {
		r = get_int(req, v, key, 1, 1, &i);
		return r < 0 ? fail(req, "'%s': only n=1 is supported", key) : 0;
	}
	if (json_object_is_type(v, json_type_null))
		return 0; /* explicit null: the default */
	if (!strcmp(key, "max_tokens") || !strcmp(key, "max_completion_tokens")) {
		r = get_int(req, v, key, 1, UINT32_MAX, &i);
		return r < 0 ? r : bitnet_params_set_max_tokens(req->params, i);
	}
	if (!strcmp(key, "temperature")) {
		r = get_range(req, v, key, 0, 2, &d);
		return r < 0 ? r : bitnet_params_set_temperature(req->params, d);
	}
	if (!strcmp(key, "top_p")) {
		r = get_range(req, v, key, 0, 1, &d);
		return r < 0 ? r : bitnet_params_set_top_p(req->params, d);
	}
	if (!strcmp(key, "min_p")) {
		r = get_range(req, v, key, 0, 1, &d);
		return r < 0 ? r : bitnet_params_set_min_p(req->params, d);
	}
	if (!strcmp(key, "top_k")) {
		r = get_int(req, v, key, 0, INT32_MAX, &i);
		return r < 0 ? r : bitnet_params_set_top_k(req->params, i);
	}
	if (!strcmp(key, "presence_penalty")) {
		r = get_range(req, v, key, -2, 2, &d);
		return r < 0 ? r : bitnet_params_set_presence_penalty(req->params, d);
	}
	if (!strcmp(key, "frequency_penalty")) {
		r = get_range(req, v, key, -2, 2, &d);
		return r < 0 ? r : bitnet_params_set_frequency_penalty(req->params, d);
	}
	if (!strcmp(key, "seed")) {
		r = get_int(req, v, key, INT64_MIN, INT64_MAX, &i);
		return r < 0 ? r : bitnet_params_set_seed(req->params, (uint64_t)i);
	}
	if (!strcmp(key, "stop"))
		return get_stop(req, v);
	for (i = 0; ignored_fields[i]; i++)
		if (!strcmp(key, ignored_fields[i]))
			return 0;
	return fail(req, "unknown or unsupported field '%s'", key);
}

int httpd_completion_parse(struct httpd_completion_req *req, const char *body, size_t len,
			   bool chat)
{
	struct json_tokener *tok;
	struct json_object *so;
	int r;

	req->chat = chat;
	r = bitnet_params_new(&req->params);
	if (r < 0)
		return r;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	req->root = json_tokener_parse_ex(tok, body, len);
	if (!req->root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		snprintf(req->error, sizeof(req->error), "the body is not valid JSON: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(req->root, json_type_object))
		return fail(req, "the body must be a JSON %s", "object");
	json_object_object_foreach(req->root, key, v)
	{
		r = field(req, key, v);
		if (r < 0)
			return r;
	}
	if (!req->model)
		return fail(req, "'%s' is required", "model");
	if (chat && !req->messages)
		return fail(req, "'%s' is required", "messages");
	if (!chat && !req->prompt)
		return fail(req, "'%s' is required", "prompt");
	if (json_object_object_get_ex(req->root, "stream_options", &so) &&
	    json_object_is_type(so, json_type_object)) {
		struct json_object *u;

		req->include_usage = json_object_object_get_ex(so, "include_usage", &u) &&
				     json_object_get_boolean(u);
	}
	return 0;
}

void httpd_completion_req_clear(struct httpd_completion_req *req)
{
	size_t i;

	for (i = 0; req->contents && i < req->n_messages; i++)
		free(req->contents[i]);
	free(req->contents);
	free(req->messages);
	bitnet_params_free(req->params);
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}
