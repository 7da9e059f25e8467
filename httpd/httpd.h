/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnet-httpd: an OpenAI-style HTTP front over bitnetd's D-Bus API, through
 * libbitnet-client only, so that batching, quotas and limits stay the
 * daemon's. MHD runs one thread per connection; each request opens its own
 * libbitnet-client handle (a handle is single-threaded) and its own session,
 * which is closed when the request ends, so a disconnect cancels it.
 */
#ifndef BITNET_HTTPD_H
#define BITNET_HTTPD_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct bitnet_client;

struct httpd_config {
	const char *listen;	/* "ADDR:PORT" or NULL (socket activation) */
	const char *bus;	/* D-Bus address or NULL ($BITNET_BUS_ADDRESS/system) */
	char *token;		/* bearer token or NULL (no auth) */
	size_t max_body;	/* bytes of a request body */
	unsigned int timeout;	/* seconds a connection may stay idle */
	unsigned int max_conns; /* connections at once */
};

extern struct httpd_config httpd_cfg;

/* One HTTP request being received (MHD's per-request pointer). */
struct httpd_req {
	char *body;
	size_t len;
	size_t cap;
	bool too_large;
	bool started;
};

/* reply.c: queue a response and free it; status and JSON or text body. */
enum MHD_Result httpd_reply_json(struct MHD_Connection *conn, unsigned int status,
				 struct json_object *obj);
enum MHD_Result httpd_reply_text(struct MHD_Connection *conn, unsigned int status, const char *type,
				 const char *text);
/* An OpenAI-style error: {"error": {"message", "type", "param", "code"}}. */
enum MHD_Result httpd_reply_error(struct MHD_Connection *conn, unsigned int status,
				  const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The HTTP status and error type of a libbitnet-client errno. */
unsigned int httpd_status_of(int err, const char **type);

/* client.c: a libbitnet-client handle on the configured bus. */
int httpd_connect(struct bitnet_client **out);

/* info.c: GET /v1/models, /health and /metrics. */
enum MHD_Result httpd_models(struct MHD_Connection *conn);
enum MHD_Result httpd_health(struct MHD_Connection *conn);
enum MHD_Result httpd_metrics(struct MHD_Connection *conn);

/* completion.c: POST /v1/completions (chat false) and /v1/chat/completions. */
enum MHD_Result httpd_completion(struct MHD_Connection *conn, const char *body, size_t len,
				 bool chat);

#endif /* BITNET_HTTPD_H */
