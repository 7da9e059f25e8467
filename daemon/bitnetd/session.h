/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Client sessions: one per CreateSession, at an unguessable path, visible
 * only to the bus name that created it, with its context and KV cache.
 * KV caches are evicted when idle and, least recently used first, when the
 * memory budget needs room.
 */
#ifndef BITNETD_SESSION_H
#define BITNETD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "daemon/bitnetd/config.h"
#include "daemon/bitnetd/list.h"

struct bnetd;
struct bnetd_model;
struct bnetd_request;

/* All sessions, and what the memory budget counts besides their KV caches. */
struct bnetd_sessions {
	struct bnetd_list list;
	struct bnetd_list *models;	   /* the manager's: their weights count too */
	const struct bnetd_limits *limits; /* the manager's current limits */
};

struct bnetd_session {
	struct bnetd_list link; /* in all->list */
	struct bnetd_sessions *all;
	struct bnetd *manager; /* passed back to the manager, never used here */
	struct bnetd_model *model;
	char *path;
	char *owner;
	uid_t uid;
	sd_bus_track *track;
	struct bn_seq *seq; /* NULL: evicted or not yet used */
	uint32_t n_ctx;
	int32_t *ctx; /* the logical context, in order */
	uint32_t n_ctx_tokens, cap_ctx;
	struct bnetd_request *active;
	unsigned int n_queued;
	uint64_t tokens_generated;
	uint64_t last_used;
	bool evicted;
	bool closed; /* freed once out of the batch */
};

void bnetd_sessions_init(struct bnetd_sessions *all, struct bnetd_list *models,
			 const struct bnetd_limits *limits);
/*
 * A session of @sender (@uid) on @mo with @n_ctx positions (0: the model's);
 * @on_gone(track, session) runs when @sender leaves @bus. QuotaExceeded or
 * InvalidArgs in @err for what the limits or the model refuse.
 */
int bnetd_session_new(struct bnetd_sessions *all, struct bnetd *manager, sd_bus *bus,
		      struct bnetd_model *mo, const char *sender, uid_t uid, uint32_t n_ctx,
		      sd_bus_track_handler_t on_gone, struct bnetd_session **out,
		      sd_bus_error *err);
/* Unlinks and frees @s (no request may refer to it any more). */
void bnetd_session_free(struct bnetd_session *s);

const char *bnetd_session_state(const struct bnetd_session *s);
/* Marks @s used now (idle eviction counts from here). */
void bnetd_session_touch(struct bnetd_session *s);
/* Whether @m's sender owns @s (no message: yes). */
bool bnetd_session_visible(struct bnetd_session *s, sd_bus_message *m);
void bnetd_session_drop_kv(struct bnetd_session *s);
/* A new KV cache for @s, room made for it: -ENOMEM, or -EDQUOT over budget. */
int bnetd_session_new_kv(struct bnetd_session *s);

struct bnetd_session *bnetd_sessions_find(struct bnetd_sessions *all, const char *path);
unsigned int bnetd_sessions_of_uid(struct bnetd_sessions *all, uid_t uid);
/* Open sessions (not closed). */
uint32_t bnetd_sessions_count(struct bnetd_sessions *all);
void bnetd_sessions_evict_idle(struct bnetd_sessions *all, uint64_t now);
/* Evicts least recently used idle KV caches (not @keep's) until @need fits. */
int bnetd_sessions_make_room(struct bnetd_sessions *all, size_t need, struct bnetd_session *keep);
/* Weights of ready models + KV caches: what the memory budget counts. */
uint64_t bnetd_memory_used(struct bnetd_sessions *all);

#endif /* BITNETD_SESSION_H */
