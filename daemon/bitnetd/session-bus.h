/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Session objects under /org/bitnet/Inference1/session (session-bus.c).
 */
#ifndef BITNETD_SESSION_BUS_H
#define BITNETD_SESSION_BUS_H

struct bnetd;

int bnetd_session_bus_register(struct bnetd *d);

#endif /* BITNETD_SESSION_BUS_H */
