// SPDX-License-Identifier: GPL-2.0
/* GET /v1/models, /health and /metrics: read-only views of bitnetd. */
#include <bitnet-client.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd/httpd.h"

static enum MHD_Result daemon_gone(struct MHD_Connection *conn, struct bitnet_client *client, int r)
{
	const char *type;
	unsigned int status = httpd_status_of(r, &type);

	return httpd_reply_error(conn, status, type, "bitnetd: %s",
				 client ? bitnet_client_last_error(client) :
					  bitnet_client_connect_error());
}

enum MHD_Result httpd_models(struct MHD_Connection *conn)
{
	struct bitnet_client *client = NULL;
	struct bitnet_model *models;
	struct json_object *obj, *data;
	enum MHD_Result ret;
	size_t n, i;
	int r;

	r = httpd_connect(&client);
	if (r < 0)
		return daemon_gone(conn, NULL, r);
	r = bitnet_list_models(client, &models, &n);
	if (r < 0) {
		ret = daemon_gone(conn, client, r);
		bitnet_client_free(client);
		return ret;
	}
	data = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *m;

		/* Only models that can answer are offered. */
		if (strcmp(models[i].state, "ready"))
			continue;
		m = json_object_new_object();
		json_object_object_add(m, "id", json_object_new_string(models[i].name));
		json_object_object_add(m, "object", json_object_new_string("model"));
		json_object_object_add(m, "created", json_object_new_int64(0));
		json_object_object_add(m, "owned_by", json_object_new_string("bitnetd"));
		json_object_array_add(data, m);
	}
	bitnet_models_free(models, n);
	bitnet_client_free(client);
	obj = json_object_new_object();
	json_object_object_add(obj, "object", json_object_new_string("list"));
	json_object_object_add(obj, "data", data);
	return httpd_reply_json(conn, MHD_HTTP_OK, obj);
}

enum MHD_Result httpd_health(struct MHD_Connection *conn)
{
	struct bitnet_client *client = NULL;
	struct bitnet_status st = { 0 };
	enum MHD_Result ret;
	int r;

	r = httpd_connect(&client);
	if (r < 0)
		return daemon_gone(conn, NULL, r);
	r = bitnet_get_status(client, &st);
	if (r < 0)
		ret = daemon_gone(conn, client, r);
	else
		ret = httpd_reply_text(conn, MHD_HTTP_OK, "application/json",
				       "{\"status\":\"ok\"}");
	bitnet_status_clear(&st);
	bitnet_client_free(client);
	return ret;
}

/* Appends to a growing text buffer; on allocation failure the text is cut. */
struct text {
	char *s;
	size_t len, cap;
};

static __attribute__((format(printf, 2, 3))) void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->len + n < t->cap) {
			t->len += n;
			return;
		}
		char *s = realloc(t->s, t->cap * 2 + n + 1);

		if (!s)
			return;
		t->s = s;
		t->cap = t->cap * 2 + n + 1;
	}
}

static void metric(struct text *t, const char *name, const char *type, const char *help,
		   double value)
{
	add(t, "# HELP bitnet_%s %s\n# TYPE bitnet_%s %s\nbitnet_%s %.17g\n", name, help, name,
	    type, name, value);
}

/* A device counter's name as a Prometheus metric name (lower case, [a-z0-9_]). */
static void metric_name(char *out, size_t size, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		out[i] = isalnum((unsigned char)name[i]) ? tolower((unsigned char)name[i]) : '_';
	out[i] = '\0';
}

enum MHD_Result httpd_metrics(struct MHD_Connection *conn)
{
	struct bitnet_client *client = NULL;
	struct bitnet_status st = { 0 };
	struct bitnet_counter *counters = NULL;
	struct text t = { .cap = 4096 };
	enum MHD_Result ret;
	size_t n = 0, i;
	int r;

	r = httpd_connect(&client);
	if (r < 0)
		return daemon_gone(conn, NULL, r);
	r = bitnet_get_status(client, &st);
	if (r >= 0)
		r = bitnet_get_device_counters(client, &counters, &n);
	if (r < 0) {
		ret = daemon_gone(conn, client, r);
		goto out;
	}
	t.s = malloc(t.cap);
	if (!t.s) {
		ret = httpd_reply_error(conn, 500, "server_error", "out of memory");
		goto out;
	}
	t.s[0] = '\0';
	metric(&t, "requests_total", "counter", "Requests bitnetd has accepted.", st.requests);
	metric(&t, "prompt_tokens_total", "counter", "Prompt tokens processed.", st.tokens_in);
	metric(&t, "generated_tokens_total", "counter", "Tokens generated.", st.tokens_out);
	metric(&t, "queue_length", "gauge", "Requests waiting or running.", st.queue_length);
	metric(&t, "active_sessions", "gauge", "Sessions open.", st.active_sessions);
	metric(&t, "decode_tokens_per_second", "gauge", "Recent aggregate decode rate.",
	       st.decode_tokens_per_second);
	metric(&t, "memory_used_bytes", "gauge", "KV cache memory in use.", st.memory_used);
	metric(&t, "memory_budget_bytes", "gauge", "KV cache memory budget.", st.memory_budget);
	metric(&t, "max_queue", "gauge", "Queue limit.", st.max_queue);
	metric(&t, "device_available", "gauge", "1 when /dev/bitnet is in use.",
	       st.device_available);
	for (i = 0; i < n; i++) {
		char name[128], full[160];

		metric_name(name, sizeof(name), counters[i].name);
		snprintf(full, sizeof(full), "device_%s", name);
		metric(&t, full, "counter", "A /dev/bitnet counter.", counters[i].value);
	}
	ret = httpd_reply_text(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", t.s);
	free(t.s);
out:
	bitnet_counters_free(counters, n);
	bitnet_status_clear(&st);
	bitnet_client_free(client);
	return ret;
}
