// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration file parsing. Format:
 *
 *   [Service]              Threads=N, Backend=auto|cpu|kmod,
 *                          Head=auto|file|q8|q4 (the output head's format),
 *                          Pack=auto|r16|t5|dual|lut3|dual-lut3 (ternary layout)
 *   [Limits]               MaxQueue=, MaxSessionsPerUser=, ... (the
 *                          Manager's property names)
 *   [Model]                Name=, Path= (one section per preloaded model)
 *
 * '#' and ';' start comments; sizes accept K, M, G suffixes (powers of 2).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "daemon/bitnetd/config.h"

void bnetd_config_defaults(struct bnetd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->limits.max_queue = 64;
	c->limits.max_sessions_per_user = 16;
	c->limits.max_tokens_per_user = 0;
	c->limits.memory_budget = 0;
	c->limits.idle_timeout_sec = 600;
	c->limits.prefill_chunk = 64;
	c->limits.max_batch = 16;
	c->limits.tokens_per_signal = 4;
}

void bnetd_config_free(struct bnetd_config *c)
{
	for (size_t i = 0; i < c->n_models; i++) {
		free(c->models[i].name);
		free(c->models[i].path);
	}
	free(c->models);
	free(c->backend);
	free(c->head);
	free(c->pack);
	c->models = NULL;
	c->n_models = 0;
	c->backend = NULL;
	c->head = NULL;
	c->pack = NULL;
}

int bnetd_limits_set(struct bnetd_limits *l, const char *key, uint64_t v)
{
	static const struct {
		const char *key;
		size_t off;
		bool wide;
		uint64_t min;
	} keys[] = {
		{ "MaxQueue", offsetof(struct bnetd_limits, max_queue), false, 1 },
		{ "MaxSessionsPerUser", offsetof(struct bnetd_limits, max_sessions_per_user), false,
		  0 },
		{ "MaxTokensPerUser", offsetof(struct bnetd_limits, max_tokens_per_user), true, 0 },
		{ "MemoryBudget", offsetof(struct bnetd_limits, memory_budget), true, 0 },
		{ "IdleTimeoutSec", offsetof(struct bnetd_limits, idle_timeout_sec), false, 0 },
		{ "PrefillChunk", offsetof(struct bnetd_limits, prefill_chunk), false, 1 },
		{ "MaxBatch", offsetof(struct bnetd_limits, max_batch), false, 1 },
		{ "TokensPerSignal", offsetof(struct bnetd_limits, tokens_per_signal), false, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].key, key))
			continue;
		if (v < keys[i].min || (!keys[i].wide && v > UINT32_MAX))
			return -ERANGE;
		if (keys[i].wide)
			*(uint64_t *)((char *)l + keys[i].off) = v;
		else
			*(uint32_t *)((char *)l + keys[i].off) = (uint32_t)v;
		return 0;
	}
	return -ENOENT;
}

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		const char *units = "KMG", *u = strchr(units, *end);

		if (!u)
			return -EINVAL;
		shift = 10 * (unsigned int)(u - units + 1);
		end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

enum section {
	SEC_NONE,
	SEC_SERVICE,
	SEC_LIMITS,
	SEC_MODEL
};

/*
 * [Service] keys whose value is one of the engine's names; checked here (the
 * parser links no engine) so that a typo fails the parse, not the start.
 */
static const struct choice_key {
	const char *key;
	const char *const *names; /* NULL-terminated */
	const char *list;	  /* for the message */
	size_t offset;		  /* of the char * in struct bnetd_config */
} choice_keys[] = {
	{ "Backend", (const char *const[]){ "auto", "cpu", "kmod", NULL }, "auto, cpu or kmod",
	  offsetof(struct bnetd_config, backend) },
	{ "Head", (const char *const[]){ "auto", "file", "q8", "q4", NULL }, "auto, file, q8 or q4",
	  offsetof(struct bnetd_config, head) },
	{ "Pack", (const char *const[]){ "auto", "r16", "t5", "dual", "lut3", "dual-lut3", NULL },
	  "auto, r16, t5, dual, lut3 or dual-lut3", offsetof(struct bnetd_config, pack) },
};

static const struct choice_key *choice_key_find(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(choice_keys); i++)
		if (!strcmp(key, choice_keys[i].key))
			return &choice_keys[i];
	return NULL;
}

static int set_choice(struct bnetd_config *c, const struct choice_key *k, const char *val,
		      char *why, size_t whylen)
{
	char **slot = (char **)((char *)c + k->offset);
	const char *const *n;

	for (n = k->names; *n && strcmp(val, *n); n++)
		;
	if (!*n) {
		snprintf(why, whylen, "%s must be %s", k->key, k->list);
		return -EINVAL;
	}
	free(*slot);
	*slot = strdup(val);
	return *slot ? 0 : -ENOMEM;
}

static int set_key(struct bnetd_config *c, enum section sec, const char *key, const char *val,
		   char *why, size_t whylen)
{
	const struct choice_key *choice;
	uint64_t v;
	struct bnetd_preload *pm;
	char **slot;

	switch (sec) {
	case SEC_NONE:
		snprintf(why, whylen, "'%s' outside a section", key);
		return -EINVAL;
	case SEC_SERVICE:
		if (!strcmp(key, "Threads")) {
			if (parse_size(val, &v) || v > 1024) {
				snprintf(why, whylen, "bad Threads '%s'", val);
				return -EINVAL;
			}
			c->threads = (int)v;
			return 0;
		}
		choice = choice_key_find(key);
		if (choice)
			return set_choice(c, choice, val, why, whylen);
		break;
	case SEC_LIMITS:
		if (parse_size(val, &v)) {
			snprintf(why, whylen, "bad number '%s' for %s", val, key);
			return -EINVAL;
		}
		switch (bnetd_limits_set(&c->limits, key, v)) {
		case 0:
			return 0;
		case -ERANGE:
			snprintf(why, whylen, "%s out of range", key);
			return -EINVAL;
		}
		break;
	case SEC_MODEL:
		pm = &c->models[c->n_models - 1];
		if (!strcmp(key, "Name"))
			slot = &pm->name;
		else if (!strcmp(key, "Path"))
			slot = &pm->path;
		else
			break;
		if (!*val) {
			snprintf(why, whylen, "empty %s", key);
			return -EINVAL;
		}
		free(*slot);
		*slot = strdup(val);
		return *slot ? 0 : -ENOMEM;
	}
	snprintf(why, whylen, "unknown key '%s'", key);
	return -EINVAL;
}

static int check_models(const struct bnetd_config *c, char *why, size_t whylen)
{
	for (size_t i = 0; i < c->n_models; i++) {
		if (!c->models[i].name || !c->models[i].path) {
			snprintf(why, whylen, "[Model] #%zu needs Name= and Path=", i + 1);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->models[i].name, c->models[j].name)) {
				snprintf(why, whylen, "model '%s' twice", c->models[i].name);
				return -EINVAL;
			}
	}
	return 0;
}

int bnetd_config_parse(struct bnetd_config *c, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text), *line, *save = NULL, why[160];
	enum section sec = SEC_NONE;
	unsigned int lineno = 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	why[0] = '\0';
	/* strtok_r would merge empty lines and break line numbers */
	for (line = copy; line && !r; line = save) {
		char *nl = strchr(line, '\n'), *s, *eq;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		s = strip(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (!strcmp(s, "[Service]")) {
				sec = SEC_SERVICE;
			} else if (!strcmp(s, "[Limits]")) {
				sec = SEC_LIMITS;
			} else if (!strcmp(s, "[Model]")) {
				struct bnetd_preload *n =
					realloc(c->models, (c->n_models + 1) * sizeof(*n));
				if (!n) {
					r = -ENOMEM;
					break;
				}
				c->models = n;
				memset(&n[c->n_models++], 0, sizeof(*n));
				sec = SEC_MODEL;
			} else {
				snprintf(why, sizeof(why), "unknown section %s", s);
				r = -EINVAL;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(why, sizeof(why), "expected Key=Value");
			r = -EINVAL;
			continue;
		}
		*eq = '\0';
		r = set_key(c, sec, strip(s), strip(eq + 1), why, sizeof(why));
	}
	if (!r) {
		r = check_models(c, why, sizeof(why));
		lineno = 0;
	}
	if (r && err) {
		if (lineno)
			snprintf(err, errlen, "line %u: %s", lineno, why);
		else
			snprintf(err, errlen, "%s", why[0] ? why : strerror(-r));
	}
	free(copy);
	return r;
}

int bnetd_config_load(struct bnetd_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0, len = 0, n;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *t;

			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 20)) {
				snprintf(err, errlen, "%s: too large", path);
				free(text);
				fclose(f);
				return -EFBIG;
			}
			t = realloc(text, cap);
			if (!t) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = t;
		}
		n = fread(text + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(text);
		return -EINVAL;
	}
	r = bnetd_config_parse(c, text, err, errlen);
	free(text);
	return r;
}
