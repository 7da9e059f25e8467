/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generation parameters: the a{sv} of Submit, SubmitToFd and Chat.
 */
#ifndef BITNETD_PARAMS_H
#define BITNETD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "daemon/engine/engine.h"

#define BNETD_MAX_STOPS 16
#define BNETD_MAX_STOP_LEN 256
#define BNETD_MAX_LOGIT_BIAS 1024

struct bnetd_params {
	struct bn_sampler_params sp;
	uint32_t max_tokens; /* 0: until the context is full */
	char **stop;
	size_t n_stop;
	struct bn_logit_bias *bias;
	bool ignore_eos;
	int add_bos; /* -1: the vocab's choice */
};

void bnetd_params_init(struct bnetd_params *p);
void bnetd_params_free(struct bnetd_params *p);
/*
 * Reads an a{sv} from @m. Unknown keys, wrong types and bad values give
 * InvalidArgs naming the key. @n_vocab bounds logit_bias ids; @allow_add_bos
 * is false for Chat.
 */
int bnetd_params_read(sd_bus_message *m, struct bnetd_params *p, uint32_t n_vocab,
		      bool allow_add_bos, sd_bus_error *err);

#endif /* BITNETD_PARAMS_H */
