/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Model objects under /org/bitnet/Inference1/model (model-bus.c).
 */
#ifndef BITNETD_MODEL_BUS_H
#define BITNETD_MODEL_BUS_H

struct bnetd;

int bnetd_model_bus_register(struct bnetd *d);

#endif /* BITNETD_MODEL_BUS_H */
