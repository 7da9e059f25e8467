/* SPDX-License-Identifier: GPL-2.0 */
/* A completion request: its parsed body (request.c) and its run (completion.c). */
#ifndef BITNET_HTTPD_COMPLETION_H
#define BITNET_HTTPD_COMPLETION_H

#include <bitnet-client.h>

#include "httpd/httpd.h"

struct httpd_completion_req {
	bool chat;
	bool stream;
	bool include_usage;
	struct json_object *root; /* owns the strings below */
	const char *model;
	const char *prompt;
	struct bitnet_message *messages;
	char **contents; /* the messages' text, joined from parts */
	size_t n_messages;
	struct bitnet_params *params;
	char error[256]; /* why parsing refused the body */
};

int httpd_completion_parse(struct httpd_completion_req *req, const char *body, size_t len,
			   bool chat);
void httpd_completion_req_clear(struct httpd_completion_req *req);

#endif /* BITNET_HTTPD_COMPLETION_H */
