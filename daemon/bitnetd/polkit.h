/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Authorization of administrative calls through polkit, and the caller's
 * uid.
 */
#ifndef BITNETD_POLKIT_H
#define BITNETD_POLKIT_H

#include <sys/types.h>
#include <systemd/sd-bus.h>

/* Re-reads @m from the start and replies like a method handler. */
typedef int (*bnetd_authorized_fn)(void *userdata, sd_bus_message *m, sd_bus_error *err);

/*
 * Runs @cb(@userdata, @m, ...) once the sender of @m may do @action: at
 * once for root, else after the answer of polkit on @polkit_bus (NULL: no
 * polkit, only root). Replies AccessDenied when refused.
 */
int bnetd_authorize(sd_bus *polkit_bus, sd_bus_message *m, const char *action,
		    bnetd_authorized_fn cb, void *userdata, sd_bus_error *err);
int bnetd_sender_uid(sd_bus_message *m, uid_t *uid);

#endif /* BITNETD_POLKIT_H */
