// SPDX-License-Identifier: GPL-2.0
/* bitnetctl sessions and kill. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

#define SESSION_PATH_PREFIX "/org/bitnet/Inference1/session/"

int cmd_sessions(struct ctl *ctl, int argc, char **argv)
{
	struct bitnet_session_info *s;
	size_t n;
	int r, ret;

	ret = ctl_parse_json_only(ctl, argc, argv);
	if (ret)
		return ret;
	r = bitnet_list_sessions(ctl->client, &s, &n);
	if (r < 0)
		return ctl_fail(ctl, r, "sessions");
	if (ctl->json) {
		json_object *list = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "path", json_object_new_string(s[i].object_path));
			json_object_object_add(o, "model", json_object_new_string(s[i].model));
			json_object_object_add(o, "owner", json_object_new_string(s[i].owner));
			json_object_object_add(o, "uid", ctl_json_u64(s[i].uid));
			json_object_object_add(o, "state", json_object_new_string(s[i].state));
			json_object_array_add(list, o);
		}
		ctl_print_json(list);
	} else {
		printf("%-63s %-16s %-10s %6s %s\n", "SESSION", "MODEL", "OWNER", "UID", "STATE");
		for (size_t i = 0; i < n; i++)
			printf("%-63s %-16s %-10s %6" PRIu32 " %s\n", s[i].object_path, s[i].model,
			       s[i].owner, s[i].uid, s[i].state);
	}
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
