// SPDX-License-Identifier: GPL-2.0
/* bitnetctl sessions and kill. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

#define SESSION_PATH_PREFIX "/org/bitnet/Inference1/session/"

static json_object *session_json(const struct bitnet_session_info *s,
				 const struct bitnet_session_details *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(s->object_path));
	json_object_object_add(o, "model", json_object_new_string(s->model));
	json_object_object_add(o, "owner", json_object_new_string(s->owner));
	json_object_object_add(o, "uid", ctl_json_u64(s->uid));
	json_object_object_add(o, "state", json_object_new_string(d ? d->state : s->state));
	/* null: bitnetd shows them to the session's owner only (or it just ended) */
	json_object_object_add(o, "context_used", d ? ctl_json_u64(d->context_used) : NULL);
	json_object_object_add(o, "context_size", d ? ctl_json_u64(d->context_size) : NULL);
	json_object_object_add(o, "tokens_generated", d ? ctl_json_u64(d->tokens_generated) : NULL);
	return o;
}

static void session_row(const struct bitnet_session_info *s, const struct bitnet_session_details *d)
{
	char context[32] = "-", generated[24] = "-";

	if (d) {
		snprintf(context, sizeof(context), "%" PRIu32 "/%" PRIu32, d->context_used,
			 d->context_size);
		snprintf(generated, sizeof(generated), "%" PRIu64, d->tokens_generated);
	}
	printf("%-63s %-16s %-10s %6" PRIu32 " %-8s %11s %9s\n", s->object_path, s->model, s->owner,
	       s->uid, d ? d->state : s->state, context, generated);
}

int cmd_sessions(struct ctl *ctl, int argc, char **argv)
{
	struct bitnet_session_info *s;
	json_object *list;
	size_t n;
	int r, ret;

	ret = ctl_parse_json_only(ctl, argc, argv);
	if (ret)
		return ret;
	r = bitnet_list_sessions(ctl->client, &s, &n);
	if (r < 0)
		return ctl_fail(ctl, r, "sessions");
	list = ctl_list_begin(ctl, "%-63s %-16s %-10s %6s %-8s %11s %9s\n", "SESSION", "MODEL",
			      "OWNER", "UID", "STATE", "CONTEXT", "GENERATED");
	for (size_t i = 0; i < n; i++) {
		struct bitnet_session_details d;
		bool have = bitnet_session_get_info(ctl->client, s[i].object_path, &d) == 0;

		if (list)
			json_object_array_add(list, session_json(&s[i], have ? &d : NULL));
		else
			session_row(&s[i], have ? &d : NULL);
		if (have)
			bitnet_session_details_clear(&d);
	}
	ctl_list_end(list, true);
	bitnet_sessions_free(s, n);
	return EXIT_OK;
}

int cmd_kill(struct ctl *ctl, int argc, char **argv)
{
	char *path;
	int r;

	if (argc != 2)
		return ctl_usage_error(ctl, "kill takes one SESSION (object path or id)");
	r = ctl_connect(ctl);
	if (r)
		return r;
	if (argv[1][0] == '/')
		path = strdup(argv[1]);
	else if (asprintf(&path, SESSION_PATH_PREFIX "%s", argv[1]) < 0)
		path = NULL;
	if (!path)
		return ctl_fail(ctl, -ENOMEM, "kill");
	r = bitnet_kill_session(ctl->client, path);
	free(path);
	if (r < 0)
		return ctl_fail(ctl, r, "kill");
	return EXIT_OK;
}
