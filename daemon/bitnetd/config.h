/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnetd's configuration: /etc/bitnet/bitnetd.conf (or --config=PATH),
 * an INI file with a [Limits] section and one [Model] section per model to
 * preload. Parsing is pure (no daemon state) so it is unit-tested.
 */
#ifndef BITNETD_CONFIG_H
#define BITNETD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define BNETD_DEFAULT_CONFIG "/etc/bitnet/bitnetd.conf"

struct bnetd_limits {
	uint32_t max_queue;		/* waiting requests, all sessions */
	uint32_t max_sessions_per_user; /* 0: unlimited */
	uint64_t max_tokens_per_user;	/* outstanding tokens; 0: unlimited */
	uint64_t memory_budget;		/* weights + KV bytes; 0: unlimited */
	uint32_t idle_timeout_sec;	/* 0: never evict */
	uint32_t prefill_chunk;		/* a request's prompt tokens per forward pass */
	uint32_t max_batch;		/* requests running at once */
	uint32_t tokens_per_signal;	/* Tokens signal carries up to this */
};

struct bnetd_preload {
	char *name;
	char *path;
};

struct bnetd_config {
	struct bnetd_limits limits;
	struct bnetd_preload *models;
	size_t n_models;
	int threads;   /* 0: all online CPUs */
	char *backend; /* "auto", "cpu", "kmod" */
	char *head;    /* "auto", "file", "q8", "q4" (bn_head_kind_parse) */
	char *pack;    /* auto r16 t5 dual lut3 dual-lut3 (bn_pack_kind_parse) */
};

void bnetd_config_defaults(struct bnetd_config *c);
void bnetd_config_free(struct bnetd_config *c);
/*
 * Parses @text into @c (which holds defaults); -EINVAL with "line N: why"
 * in @err on the first bad line.
 */
int bnetd_config_parse(struct bnetd_config *c, const char *text, char *err, size_t errlen);
int bnetd_config_load(struct bnetd_config *c, const char *path, char *err, size_t errlen);
/* Sets one limit by its D-Bus property name (SetLimits, [Limits] keys). */
int bnetd_limits_set(struct bnetd_limits *l, const char *key, uint64_t value);

#endif /* BITNETD_CONFIG_H */
