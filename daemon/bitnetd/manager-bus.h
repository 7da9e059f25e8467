/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Manager object at /org/bitnet/Inference1 (manager-bus.c).
 */
#ifndef BITNETD_MANAGER_BUS_H
#define BITNETD_MANAGER_BUS_H

struct bnetd;

int bnetd_manager_bus_register(struct bnetd *d);

#endif /* BITNETD_MANAGER_BUS_H */
