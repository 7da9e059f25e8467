// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Generation parameters: an opaque set of the a{sv} keys Submit and Chat
 * take, so new keys can be added without changing any struct layout.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libclient/internal.h"

enum param_key {
	P_MAX_TOKENS,
	P_TEMPERATURE,
	P_TOP_K,
	P_TOP_P,
	P_MIN_P,
	P_TYPICAL_P,
	P_REPEAT_PENALTY,
	P_REPEAT_LAST_N,
	P_PRESENCE_PENALTY,
	P_FREQUENCY_PENALTY,
	P_SEED,
	P_IGNORE_EOS,
	P_ADD_BOS,
	P_COUNT
};

/* D-Bus name and type of each scalar key, indexed by enum param_key. */
static const struct {
	const char *name;
	char type;
} param_keys[P_COUNT] = {
	[P_MAX_TOKENS] = { "max_tokens", 'u' },
	[P_TEMPERATURE] = { "temperature", 'd' },
	[P_TOP_K] = { "top_k", 'i' },
	[P_TOP_P] = { "top_p", 'd' },
	[P_MIN_P] = { "min_p", 'd' },
	[P_TYPICAL_P] = { "typical_p", 'd' },
	[P_REPEAT_PENALTY] = { "repeat_penalty", 'd' },
	[P_REPEAT_LAST_N] = { "repeat_last_n", 'i' },
	[P_PRESENCE_PENALTY] = { "presence_penalty", 'd' },
	[P_FREQUENCY_PENALTY] = { "frequency_penalty", 'd' },
	[P_SEED] = { "seed", 't' },
	[P_IGNORE_EOS] = { "ignore_eos", 'b' },
	[P_ADD_BOS] = { "add_bos", 'b' },
};

union param_value {
	uint32_t u;
	int32_t i;
	uint64_t t;
	double d;
	int b;
};

struct logit_bias {
	int32_t id;
	double bias;
};

struct bitnet_params {
	bool set[P_COUNT];
	union param_value value[P_COUNT];
	char **stop;
	size_t n_stop;
	struct logit_bias *bias;
	size_t n_bias;
};

int bitnet_params_new(struct bitnet_params **out)
{
	if (!out)
		return -EINVAL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void bitnet_params_free(struct bitnet_params *params)
{
	if (!params)
		return;
	for (size_t i = 0; i < params->n_stop; i++)
		free(params->stop[i]);
	free(params->stop);
	free(params->bias);
	free(params);
}

static int set_value(struct bitnet_params *params, enum param_key key, union param_value v)
{
	if (!params)
		return -EINVAL;
	if (param_keys[key].type == 'd' && !isfinite(v.d))
		return -EINVAL;
	params->set[key] = true;
	params->value[key] = v;
	return 0;
}

int bitnet_params_set_max_tokens(struct bitnet_params *params, uint32_t n)
{
	return set_value(params, P_MAX_TOKENS, (union param_value){ .u = n });
}

int bitnet_params_set_temperature(struct bitnet_params *params, double t)
{
	return set_value(params, P_TEMPERATURE, (union param_value){ .d = t });
}

int bitnet_params_set_top_k(struct bitnet_params *params, int32_t k)
{
	return set_value(params, P_TOP_K, (union param_value){ .i = k });
}

int bitnet_params_set_top_p(struct bitnet_params *params, double p)
{
	return set_value(params, P_TOP_P, (union param_value){ .d = p });
}

int bitnet_params_set_min_p(struct bitnet_params *params, double p)
{
	return set_value(params, P_MIN_P, (union param_value){ .d = p });
}

int bitnet_params_set_typical_p(struct bitnet_params *params, double p)
{
	return set_value(params, P_TYPICAL_P, (union param_value){ .d = p });
}

int bitnet_params_set_repeat_penalty(struct bitnet_params *params, double v)
{
	return set_value(params, P_REPEAT_PENALTY, (union param_value){ .d = v });
}

int bitnet_params_set_repeat_last_n(struct bitnet_params *params, int32_t n)
{
	return set_value(params, P_REPEAT_LAST_N, (union param_value){ .i = n });
}

int bitnet_params_set_presence_penalty(struct bitnet_params *params, double v)
{
	return set_value(params, P_PRESENCE_PENALTY, (union param_value){ .d = v });
}

int bitnet_params_set_frequency_penalty(struct bitnet_params *params, double v)
{
	return set_value(params, P_FREQUENCY_PENALTY, (union param_value){ .d = v });
}

int bitnet_params_set_seed(struct bitnet_params *params, uint64_t seed)
{
	return set_value(params, P_SEED, (union param_value){ .t = seed });
}

int bitnet_params_set_ignore_eos(struct bitnet_params *params, bool b)
{
	return set_value(params, P_IGNORE_EOS, (union param_value){ .b = b });
}

int bitnet_params_set_add_bos(struct bitnet_params *params, bool b)
{
	return set_value(params, P_ADD_BOS, (union param_value){ .b = b });
}

int bitnet_params_add_stop(struct bitnet_params *params, const char *stop)
{
	char **bigger, *copy;

	if (!params || !stop || !*stop)
		return -EINVAL;
	copy = strdup(stop);
	bigger = realloc(params->stop, (params->n_stop + 1) * sizeof(*bigger));
	if (!copy || !bigger) {
		free(copy);
		if (bigger)
			params->stop = bigger;
		return -ENOMEM;
	}
	bigger[params->n_stop++] = copy;
	params->stop = bigger;
	return 0;
}

int bitnet_params_add_logit_bias(struct bitnet_params *params, int32_t id, double bias)
{
	struct logit_bias *bigger;

	if (!params || !isfinite(bias))
		return -EINVAL;
	bigger = realloc(params->bias, (params->n_bias + 1) * sizeof(*bigger));
	if (!bigger)
		return -ENOMEM;
	bigger[params->n_bias++] = (struct logit_bias){ .id = id, .bias = bias };
	params->bias = bigger;
	return 0;
}

static int append_scalar(sd_bus_message *m, enum param_key key, const union param_value *v)
{
	char sig[2] = { param_keys[key].type, '\0' };

	switch (param_keys[key].type) {
	case 'u':
		return sd_bus_message_append(m, "{sv}", param_keys[key].name, sig, v->u);
	case 'i':
		return sd_bus_message_append(m, "{sv}", param_keys[key].name, sig, v->i);
	case 't':
		return sd_bus_message_append(m, "{sv}", param_keys[key].name, sig, v->t);
	case 'd':
		return sd_bus_message_append(m, "{sv}", param_keys[key].name, sig, v->d);
	default:
		return sd_bus_message_append(m, "{sv}", param_keys[key].name, sig, v->b);
	}
}

/*
 * Opens the entry @key of an a{sv} whose value is an array of @elem:
 * append the elements, then close_array_entry().
 */
static int open_array_entry(sd_bus_message *m, const char *key, const char *elem)
{
	char vsig[16];
	int r;

	snprintf(vsig, sizeof(vsig), "a%s", elem);
	r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', vsig);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', elem);
	return r;
}

/* Closes the array, the variant and the entry, if @r says all went well. */
static int close_array_entry(sd_bus_message *m, int r)
{
	for (int depth = 0; r >= 0 && depth < 3; depth++)
		r = sd_bus_message_close_container(m);
	return r;
}

static int append_stop(sd_bus_message *m, const struct bitnet_params *params)
{
	int r = open_array_entry(m, "stop", "s");

	for (size_t i = 0; r >= 0 && i < params->n_stop; i++)
		r = sd_bus_message_append(m, "s", params->stop[i]);
	return close_array_entry(m, r);
}

static int append_logit_bias(sd_bus_message *m, const struct bitnet_params *params)
{
	int r = open_array_entry(m, "logit_bias", "{id}");

	for (size_t i = 0; r >= 0 && i < params->n_bias; i++)
		r = sd_bus_message_append(m, "{id}", params->bias[i].id, params->bias[i].bias);
	return close_array_entry(m, r);
}

int bcl_params_append(sd_bus_message *m, const struct bitnet_params *params)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (int key = 0; params && r >= 0 && key < P_COUNT; key++)
		if (params->set[key])
			r = append_scalar(m, key, &params->value[key]);
	if (params && r >= 0 && params->n_stop)
		r = append_stop(m, params);
	if (params && r >= 0 && params->n_bias)
		r = append_logit_bias(m, params);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}
