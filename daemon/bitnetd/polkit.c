// SPDX-License-Identifier: GPL-2.0
/*
 * Authorization of administrative calls through polkit's
 * CheckAuthorization with a system-bus-name subject. Asynchronous: the
 * original method call is answered from the polkit reply.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/polkit.h"

struct authz {
	void *userdata;
	sd_bus_message *m;
	bnetd_authorized_fn cb;
	char action[64];
};

int bnetd_sender_uid(sd_bus_message *m, uid_t *uid)
{
	sd_bus_creds *c = NULL;
	int r;

	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &c);
	if (r < 0)
		return r;
	r = sd_bus_creds_get_euid(c, uid);
	if (r < 0)
		r = sd_bus_creds_get_uid(c, uid);
	sd_bus_creds_unref(c);
	return r;
}

static void answer(struct authz *a, bool allowed, const char *why)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r;

	if (!allowed) {
		bnetd_log(LOG_NOTICE, NULL, NULL, "%s refused to %s: %s", a->action,
			  sd_bus_message_get_sender(a->m), why);
		sd_bus_reply_method_errorf(a->m, SD_BUS_ERROR_ACCESS_DENIED,
					   "not authorized for %s: %s", a->action, why);
		return;
	}
	r = sd_bus_message_rewind(a->m, true);
	if (r >= 0)
		r = a->cb(a->userdata, a->m, &err);
	if (sd_bus_error_is_set(&err))
		sd_bus_reply_method_error(a->m, &err);
	else if (r < 0)
		sd_bus_reply_method_errno(a->m, r, NULL);
	sd_bus_error_free(&err);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct authz *a = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0, r;

	(void)ret_error;
	if (e) {
		answer(a, false, e->message ? e->message : e->name);
	} else {
		r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
		if (r >= 0)
			r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
		if (r < 0)
			answer(a, false, "unreadable reply from polkit");
		else
			answer(a, authorized,
			       challenge ? "interactive authentication required" :
					   "polkit said no");
	}
	sd_bus_message_unref(a->m);
	free(a);
	return 0;
}

int bnetd_authorize(sd_bus *polkit_bus, sd_bus_message *m, const char *action,
		    bnetd_authorized_fn cb, void *userdata, sd_bus_error *err)
{
	sd_bus_message *call = NULL;
	struct authz *a;
	uid_t uid;
	int r;

	r = bnetd_sender_uid(m, &uid);
	if (r < 0)
		return r;
	if (uid == 0)
		return cb(userdata, m, err);
	if (!polkit_bus)
		return sd_bus_error_setf(err, SD_BUS_ERROR_ACCESS_DENIED,
					 "not authorized for %s: no polkit connection", action);
	r = sd_bus_message_new_method_call(polkit_bus, &call, "org.freedesktop.PolicyKit1",
					   "/org/freedesktop/PolicyKit1/Authority",
					   "org.freedesktop.PolicyKit1.Authority",
					   "CheckAuthorization");
	if (r < 0)
		return r;
	r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
				  sd_bus_message_get_sender(m), action, 0,
				  sd_bus_message_get_allow_interactive_authorization(m) ? 1 : 0,
				  "");
	if (r < 0)
		goto out;
	a = calloc(1, sizeof(*a));
	if (!a) {
		r = -ENOMEM;
		goto out;
	}
	a->userdata = userdata;
	a->m = sd_bus_message_ref(m);
	a->cb = cb;
	snprintf(a->action, sizeof(a->action), "%s", action);
	/* interactive authentication may take a person's time */
	r = sd_bus_call_async(polkit_bus, NULL, call, on_polkit_reply, a, 120ULL * 1000000ULL);
	if (r < 0) {
		sd_bus_message_unref(a->m);
		free(a);
		goto out;
	}
	r = 1;
out:
	sd_bus_message_unref(call);
	return r;
}
