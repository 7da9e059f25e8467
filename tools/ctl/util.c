// SPDX-License-Identifier: GPL-2.0
/*
 * bitnetctl helpers: output formatting, argument parsing, the generation
 * options every generating command accepts, and the model default.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

void ctl_print_json(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

json_object *ctl_json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

json_object *ctl_list_begin(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	if (ctl->json)
		return json_object_new_array();
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	return NULL;
}

void ctl_list_end(json_object *list, bool ok)
{
	if (list && ok)
		ctl_print_json(list);
	else
		json_object_put(list);
}

const char *ctl_format_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

void ctl_progress_bar(double fraction, const char *label)
{
	const int width = 40;
	int filled;

	if (!(fraction >= 0))
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	filled = (int)(fraction * width + 0.5);
	fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label, filled,
		"########################################", width - filled, "",
		(int)(fraction * 100 + 0.5));
	fflush(stderr);
}

/* Commands without options of their own accept only --json. */
int ctl_parse_json_only(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { { "json", no_argument, NULL, 'j' },
						 { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		if (opt != 'j')
			return EXIT_USAGE;
		ctl->json = true;
	}
	if (optind != argc)
		return ctl_usage_error(ctl, "%s takes no arguments", argv[0]);
	return ctl_connect(ctl);
}

int ctl_parse_u64(struct ctl *ctl, const char *opt, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return ctl_usage_error(ctl, "%s: '%s' is not a non-negative integer", opt, s);
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return ctl_usage_error(ctl, "%s: '%s' is not a non-negative integer", opt, s);
	return 0;
}

int ctl_parse_double(struct ctl *ctl, const char *opt, const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || !*s || *end || !isfinite(*v))
		return ctl_usage_error(ctl, "%s: '%s' is not a number", opt, s);
	return 0;
}

char *ctl_join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	*s = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

int ctl_resolve_model(struct ctl *ctl, const char *wanted, char **name)
{
	struct bitnet_model *models;
	size_t n, ready = 0, pick = 0;
	int r;

	r = ctl_connect(ctl);
	if (r)
		return -r;
	if (wanted) {
		*name = strdup(wanted);
		return *name ? 0 : ctl_fail(ctl, -ENOMEM, "model");
	}
	r = bitnet_list_models(ctl->client, &models, &n);
	if (r < 0)
		return -ctl_fail(ctl, r, "listing models");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(models[i].state, "ready") == 0) {
			ready++;
			pick = i;
		}
	}
	if (ready != 1) {
		bitnet_models_free(models, n);
		if (ready == 0) {
			fprintf(stderr, "%s: no model is loaded (see 'bitnetctl load')\n",
				ctl->prog);
			return -EXIT_NOT_FOUND;
		}
		return -ctl_usage_error(ctl, "%zu models are loaded: choose one with -m", ready);
	}
	*name = strdup(models[pick].name);
	bitnet_models_free(models, n);
	return *name ? 0 : -ctl_fail(ctl, -ENOMEM, "model");
}

/*
 * Parses the number a generation option takes: 0, -1 when it is not a
 * number (usage error printed), -2 when it is out of range.
 */
static int gen_option_number(struct ctl *ctl, int opt, const char *arg, uint64_t *u, double *d)
{
	switch (opt) {
	case 'n':
		return ctl_parse_u64(ctl, "-n", arg, u) ? -1 : (*u > UINT32_MAX ? -2 : 0);
	case CTL_OPT_TOP_K:
		return ctl_parse_u64(ctl, "--top-k", arg, u) ? -1 : (*u > INT32_MAX ? -2 : 0);
	case CTL_OPT_SEED:
		return ctl_parse_u64(ctl, "--seed", arg, u) ? -1 : 0;
	case CTL_OPT_TEMP:
		return ctl_parse_double(ctl, "--temp", arg, d) ? -1 : 0;
	case CTL_OPT_TOP_P:
		return ctl_parse_double(ctl, "--top-p", arg, d) ? -1 : 0;
	case CTL_OPT_MIN_P:
		return ctl_parse_double(ctl, "--min-p", arg, d) ? -1 : 0;
	case CTL_OPT_REPEAT_PENALTY:
		return ctl_parse_double(ctl, "--repeat-penalty", arg, d) ? -1 : 0;
	default:
		return 0;
	}
}

int ctl_gen_option(struct ctl *ctl, struct bitnet_params *params, int opt, const char *arg)
{
	uint64_t u = 0;
	double d = 0;
	int r;

	r = gen_option_number(ctl, opt, arg, &u, &d);
	if (r == -1)
		return -EXIT_USAGE;
	if (r == -2)
		return -ctl_usage_error(ctl, "'%s' is too large", arg);
	switch (opt) {
	case 'n':
		r = bitnet_params_set_max_tokens(params, (uint32_t)u);
		break;
	case CTL_OPT_TEMP:
		r = bitnet_params_set_temperature(params, d);
		break;
	case CTL_OPT_TOP_K:
		r = bitnet_params_set_top_k(params, (int32_t)u);
		break;
	case CTL_OPT_TOP_P:
		r = bitnet_params_set_top_p(params, d);
		break;
	case CTL_OPT_MIN_P:
		r = bitnet_params_set_min_p(params, d);
		break;
	case CTL_OPT_REPEAT_PENALTY:
		r = bitnet_params_set_repeat_penalty(params, d);
		break;
	case CTL_OPT_SEED:
		r = bitnet_params_set_seed(params, u);
		break;
	case CTL_OPT_STOP:
		r = bitnet_params_add_stop(params, arg);
		if (r == -EINVAL)
			return -ctl_usage_error(ctl, "--stop: empty string");
		break;
	case CTL_OPT_IGNORE_EOS:
		r = bitnet_params_set_ignore_eos(params, true);
		break;
	default:
		return 0;
	}
	if (r < 0)
		return -ctl_fail(ctl, r, "generation parameters");
	return 1;
}
