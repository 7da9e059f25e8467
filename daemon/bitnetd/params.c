// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and checking generation parameters from D-Bus. Every error names
 * the offending key, since the caller cannot otherwise tell which of a dozen
 * values was wrong.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "daemon/bitnetd/params.h"

void bnetd_params_init(struct bnetd_params *p)
{
	memset(p, 0, sizeof(*p));
	bn_sampler_params_default(&p->sp);
	p->add_bos = -1;
}

void bnetd_params_free(struct bnetd_params *p)
{
	for (size_t i = 0; i < p->n_stop; i++)
		free(p->stop[i]);
	free(p->stop);
	free(p->bias);
	p->stop = NULL;
	p->bias = NULL;
	p->n_stop = 0;
	p->sp.logit_bias = NULL;
	p->sp.n_logit_bias = 0;
}

static int invalid(sd_bus_error *err, const char *key, const char *why)
{
	return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "params: '%s' %s", key, why);
}

static int read_double(sd_bus_message *m, float *out)
{
	double v;
	int r = sd_bus_message_read(m, "d", &v);

	if (r < 0)
		return r;
	if (!isfinite(v))
		return -EDOM;
	*out = (float)v;
	return 0;
}

static int read_stops(sd_bus_message *m, struct bnetd_params *p, sd_bus_error *err)
{
	char **strv = NULL;
	size_t n = 0;
	int r = sd_bus_message_read_strv(m, &strv);

	if (r < 0)
		return r;
	while (strv && strv[n])
		n++;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(strv[i]);

		if (!len || len > BNETD_MAX_STOP_LEN) {
			r = invalid(err, "stop", "strings must be 1..256 bytes");
			goto fail;
		}
	}
	if (n > BNETD_MAX_STOPS) {
		r = invalid(err, "stop", "has more than 16 strings");
		goto fail;
	}
	for (size_t i = 0; i < p->n_stop; i++)
		free(p->stop[i]);
	free(p->stop);
	p->stop = strv;
	p->n_stop = n;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(strv[i]);
	free(strv);
	return r;
}

static int read_bias(sd_bus_message *m, struct bnetd_params *p, uint32_t n_vocab, sd_bus_error *err)
{
	struct bn_logit_bias *b = NULL;
	size_t n = 0;
	int32_t id;
	double bias;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{id}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(m, "{id}", &id, &bias)) > 0) {
		struct bn_logit_bias *t;

		if (n >= BNETD_MAX_LOGIT_BIAS) {
			free(b);
			return invalid(err, "logit_bias", "has more than 1024 entries");
		}
		if (id < 0 || (uint32_t)id >= n_vocab) {
			free(b);
			return invalid(err, "logit_bias", "has a token id out of range");
		}
		if (isnan(bias) || bias == INFINITY) {
			free(b);
			return invalid(err, "logit_bias", "has a NaN or +inf bias");
		}
		t = realloc(b, (n + 1) * sizeof(*b));
		if (!t) {
			free(b);
			return -ENOMEM;
		}
		b = t;
		b[n].id = id;
		b[n].bias = (float)bias;
		n++;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		free(b);
		return r;
	}
	free(p->bias);
	p->bias = b;
	p->sp.logit_bias = b;
	p->sp.n_logit_bias = n;
	return 0;
}

static int read_one(sd_bus_message *m, const char *key, struct bnetd_params *p, uint32_t n_vocab,
		    bool allow_add_bos, sd_bus_error *err)
{
	int b;

	if (!strcmp(key, "max_tokens"))
		return sd_bus_message_read(m, "u", &p->max_tokens);
	if (!strcmp(key, "temperature"))
		return read_double(m, &p->sp.temperature);
	if (!strcmp(key, "top_k"))
		return sd_bus_message_read(m, "i", &p->sp.top_k);
	if (!strcmp(key, "top_p"))
		return read_double(m, &p->sp.top_p);
	if (!strcmp(key, "min_p"))
		return read_double(m, &p->sp.min_p);
	if (!strcmp(key, "typical_p"))
		return read_double(m, &p->sp.typical_p);
	if (!strcmp(key, "repeat_penalty"))
		return read_double(m, &p->sp.repeat_penalty);
	if (!strcmp(key, "repeat_last_n"))
		return sd_bus_message_read(m, "i", &p->sp.repeat_last_n);
	if (!strcmp(key, "presence_penalty"))
		return read_double(m, &p->sp.presence_penalty);
	if (!strcmp(key, "frequency_penalty"))
		return read_double(m, &p->sp.frequency_penalty);
	if (!strcmp(key, "seed"))
		return sd_bus_message_read(m, "t", &p->sp.seed);
	if (!strcmp(key, "stop"))
		return read_stops(m, p, err);
	if (!strcmp(key, "logit_bias"))
		return read_bias(m, p, n_vocab, err);
	if (!strcmp(key, "ignore_eos")) {
		int r = sd_bus_message_read(m, "b", &b);

		p->ignore_eos = b;
		return r;
	}
	if (!strcmp(key, "add_bos") && allow_add_bos) {
		int r = sd_bus_message_read(m, "b", &b);

		p->add_bos = !!b;
		return r;
	}
	return invalid(err, key, "is not a known parameter");
}

static const char *param_type(const char *key)
{
	static const char *const types[][2] = {
		{ "max_tokens", "u" },
		{ "temperature", "d" },
		{ "top_k", "i" },
		{ "top_p", "d" },
		{ "min_p", "d" },
		{ "typical_p", "d" },
		{ "repeat_penalty", "d" },
		{ "repeat_last_n", "i" },
		{ "presence_penalty", "d" },
		{ "frequency_penalty", "d" },
		{ "seed", "t" },
		{ "stop", "as" },
		{ "logit_bias", "a{id}" },
		{ "ignore_eos", "b" },
		{ "add_bos", "b" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(types[i][0], key))
			return types[i][1];
	return NULL;
}

int bnetd_params_read(sd_bus_message *m, struct bnetd_params *p, uint32_t n_vocab,
		      bool allow_add_bos, sd_bus_error *err)
{
	char why[256];
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	for (;;) {
		const char *key, *contents, *want;
		char type;

		r = sd_bus_message_enter_container(m, 'e', "sv");
		if (r <= 0)
			break;
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(m, &type, &contents);
		if (r < 0)
			return r;
		want = param_type(key);
		if (!want || (!allow_add_bos && !strcmp(key, "add_bos")))
			return invalid(err, key, "is not a known parameter");
		if (strcmp(contents, want)) {
			snprintf(why, sizeof(why), "must be of type '%s', not '%s'", want,
				 contents);
			return invalid(err, key, why);
		}
		r = sd_bus_message_enter_container(m, 'v', contents);
		if (r < 0)
			return r;
		r = read_one(m, key, p, n_vocab, allow_add_bos, err);
		if (r == -EDOM)
			return invalid(err, key, "must be a finite number");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (bn_sampler_params_check(&p->sp, why, sizeof(why)) < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "params: %s", why);
	return 0;
}
