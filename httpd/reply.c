// SPDX-License-Identifier: GPL-2.0
/* Responses: JSON bodies, OpenAI-style errors and their HTTP statuses. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "httpd/httpd.h"

enum MHD_Result httpd_reply_text(struct MHD_Connection *conn, unsigned int status, const char *type,
				 const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result httpd_reply_json(struct MHD_Connection *conn, unsigned int status,
				 struct json_object *obj)
{
	enum MHD_Result ret;

	ret = httpd_reply_text(conn, status, "application/json",
			       json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	return ret;
}

enum MHD_Result httpd_reply_error(struct MHD_Connection *conn, unsigned int status,
				  const char *type, const char *fmt, ...)
{
	struct json_object *obj, *err;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = json_object_new_object();
	json_object_object_add(err, "message", json_object_new_string(msg));
	json_object_object_add(err, "type", json_object_new_string(type));
	json_object_object_add(err, "param", NULL);
	json_object_object_add(err, "code", NULL);
	obj = json_object_new_object();
	json_object_object_add(obj, "error", err);
	return httpd_reply_json(conn, status, obj);
}

unsigned int httpd_status_of(int err, const char **type)
{
	switch (err) {
	case -ENOENT:
		*type = "not_found_error";
		return MHD_HTTP_NOT_FOUND;
	case -EINVAL:
	case -ENOSPC:
		*type = "invalid_request_error";
		return MHD_HTTP_BAD_REQUEST;
	case -EAGAIN:
	case -EDQUOT:
	case -EBUSY:
		*type = "rate_limit_error";
		return MHD_HTTP_TOO_MANY_REQUESTS;
	case -EACCES:
	case -EPERM:
		*type = "permission_error";
		return MHD_HTTP_FORBIDDEN;
	case -ENOMEM:
		*type = "server_error";
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		/* Connection refused/reset, no such name on the bus, timeouts. */
		*type = "service_unavailable";
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
}
