/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnetd: the shared state of the daemon. The sd-event loop thread owns
 * every object here; the forward-pass worker thread only touches the batch
 * it was handed (see scheduler.c) and model loader threads only their model's
 * loader fields.
 */
#ifndef BITNETD_H
#define BITNETD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <syslog.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon/engine/engine.h"
#include "daemon/bitnetd/config.h"
#include "daemon/bitnetd/params.h"
#include "daemon/bitnetd/stop.h"

#define BNETD_VERSION "0.1"
#define BNETD_BUS_NAME "org.bitnet.Inference1"
#define BNETD_ROOT_PATH "/org/bitnet/Inference1"
#define BNETD_MODEL_PREFIX "/org/bitnet/Inference1/model"
#define BNETD_SESSION_PREFIX "/org/bitnet/Inference1/session"
#define BNETD_IFACE_MANAGER "org.bitnet.Inference1.Manager"
#define BNETD_IFACE_MODEL "org.bitnet.Inference1.Model"
#define BNETD_IFACE_SESSION "org.bitnet.Inference1.Session"

#define BNETD_ERR_NO_SUCH_MODEL "org.bitnet.Inference1.Error.NoSuchModel"
#define BNETD_ERR_NO_SUCH_SESSION "org.bitnet.Inference1.Error.NoSuchSession"
#define BNETD_ERR_NO_SUCH_REQUEST "org.bitnet.Inference1.Error.NoSuchRequest"
#define BNETD_ERR_MODEL_BUSY "org.bitnet.Inference1.Error.ModelBusy"
#define BNETD_ERR_LOAD_FAILED "org.bitnet.Inference1.Error.ModelLoadFailed"
#define BNETD_ERR_QUEUE_FULL "org.bitnet.Inference1.Error.QueueFull"
#define BNETD_ERR_QUOTA "org.bitnet.Inference1.Error.QuotaExceeded"
#define BNETD_ERR_CONTEXT_FULL "org.bitnet.Inference1.Error.ContextFull"
#define BNETD_ERR_NO_MEMORY "org.bitnet.Inference1.Error.OutOfMemory"

#define BNETD_ACTION_MANAGE "org.bitnet.manage"

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

/* A minimal intrusive doubly linked list. */
struct bnetd_list {
	struct bnetd_list *prev, *next;
};

static inline void bnetd_list_init(struct bnetd_list *h)
{
	h->prev = h->next = h;
}

static inline bool bnetd_list_empty(const struct bnetd_list *h)
{
	return h->next == h;
}

static inline void bnetd_list_add_tail(struct bnetd_list *n, struct bnetd_list *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void bnetd_list_del(struct bnetd_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define bnetd_list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

/*
 * NULL-terminated strdup'd paths of the entries of @head for which @path_of
 * gives one (NULL: leave the entry out), as sd-bus node enumerators return.
 */
int bnetd_enumerate_paths(struct bnetd_list *head,
			  const char *(*path_of)(struct bnetd_list *pos, void *ctx), void *ctx,
			  char ***nodes);

enum bnetd_model_state {
	BNETD_MODEL_LOADING,
	BNETD_MODEL_READY,
	BNETD_MODEL_FAILED,
};

struct bnetd;

struct bnetd_model {
	struct bnetd_list link;
	struct bnetd *d;
	char *name;
	char *file;
	char *path; /* D-Bus object path */
	enum bnetd_model_state state;
	char *error;
	struct bn_model *m; /* NULL until ready */
	const struct bn_model_info *info;
	unsigned int n_sessions;
	/* loader thread: writes progress/result, then signals the loop */
	_Atomic double progress;
	bool loader_done; /* under d->done_lock */
	int load_rc;
	char load_err[256];
	struct bn_model *loaded;
	enum bn_backend_kind backend;
	enum bn_head_kind head;
	int threads;
};

enum bnetd_req_phase {
	BNETD_REQ_QUEUED,
	BNETD_REQ_PREFILL,
	BNETD_REQ_DECODE,
};

struct bnetd_request {
	struct bnetd_list link; /* d->queue or d->running */
	struct bnetd_session *s;
	uint64_t id;
	struct bnetd_params p;
	enum bnetd_req_phase phase;
	int32_t *prompt; /* the caller's tokens */
	uint32_t n_prompt;
	bool replace_context; /* Chat: prompt is the whole context */
	int32_t *target;      /* context after the prompt (once running) */
	uint32_t n_target;
	uint32_t max_gen;   /* tokens to generate at most */
	uint32_t cached;    /* reused from the KV cache */
	uint32_t prefilled; /* target tokens now in the KV cache */
	int32_t next_token; /* sampled, not yet fed */
	uint32_t reserved;  /* tokens counted against the quota */
	float *logits;
	struct bn_sampler *sampler;
	struct bn_detok detok;
	struct bnetd_stop stop;
	int32_t *pend_ids; /* ids not yet signalled */
	uint32_t n_pend, cap_pend;
	uint32_t n_generated;
	bool in_batch;
	bool cancelled;
	uint64_t t_queued, t_prefill_start, t_first_token, t_last_flush;
	int fd; /* SubmitToFd: write end, or -1 */
	sd_event_source *fd_source;
	char *fd_buf;
	size_t fd_len;
	bool fd_closing;
};

struct bnetd_session {
	struct bnetd_list link;
	struct bnetd *d;
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
	char last_state[16];
};

struct bnetd_batch;

struct bnetd {
	sd_event *event;
	sd_bus *bus;
	sd_bus *polkit_bus; /* where org.freedesktop.PolicyKit1 is */
	struct bnetd_config cfg;
	const char *config_path;
	bool under_systemd;
	bool stopping;
	enum bn_backend_kind backend; /* forced by --backend, or auto */
	enum bn_head_kind head;	      /* the config's Head=, or auto */
	bool device_available;
	struct bnetd_list models;
	struct bnetd_list sessions;
	struct bnetd_list queue;   /* waiting requests, FIFO */
	struct bnetd_list running; /* prefilling or decoding */
	unsigned int n_queue, n_running;
	uint64_t next_request_id;
	uint64_t requests, tokens_in, tokens_out;
	double decode_tps;
	struct bnetd_batch *batch; /* the worker and its job */
	struct bnetd_model *last_batch_model;
	/* completions from worker and loader threads */
	int done_fd;
	pthread_mutex_t done_lock;
	sd_event_source *done_source;
	sd_event_source *idle_timer;
	sd_event_source *kick_source; /* deferred bnetd_sched_kick() */
};

/* log.c */
void bnetd_log_init(bool under_systemd);
void bnetd_log(int prio, const char *model, const char *session, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* errors.c */
void bnetd_errors_register(void);

/*
 * polkit.c: runs @cb (which re-reads @m from the start and replies like a
 * method handler) once the sender of @m may do @action: at once for root,
 * else after polkit's answer. Replies AccessDenied when refused.
 */
typedef int (*bnetd_authorized_fn)(struct bnetd *d, sd_bus_message *m, sd_bus_error *err);
int bnetd_authorize(struct bnetd *d, sd_bus_message *m, const char *action, bnetd_authorized_fn cb,
		    sd_bus_error *err);
int bnetd_sender_uid(sd_bus_message *m, uid_t *uid);

/* bus_manager.c */
int bnetd_manager_register(struct bnetd *d);
void bnetd_manager_changed(struct bnetd *d);

/* bus_model.c */
int bnetd_models_register(struct bnetd *d);
struct bnetd_model *bnetd_model_find(struct bnetd *d, const char *name);
int bnetd_model_load(struct bnetd *d, const char *name, const char *file, struct bnetd_model **out,
		     sd_bus_error *err);
int bnetd_model_unload(struct bnetd *d, struct bnetd_model *mo, sd_bus_error *err);
void bnetd_models_poll_loaders(struct bnetd *d);
void bnetd_models_free(struct bnetd *d);
uint64_t bnetd_memory_used(struct bnetd *d);
const char *bnetd_model_state_name(enum bnetd_model_state s);

/* bus_session.c */
/* Text to a malloc'd id array; -EINVAL for text the vocab cannot encode. */
int bnetd_tokenize(const struct bn_vocab *v, const char *text, bool add_bos, bool parse_special,
		   int32_t **out, uint32_t *n_out);
int bnetd_sessions_register(struct bnetd *d);
int bnetd_session_create(struct bnetd *d, sd_bus_message *m, struct bnetd_model *mo, uint32_t n_ctx,
			 struct bnetd_session **out, sd_bus_error *err);
struct bnetd_session *bnetd_session_find(struct bnetd *d, const char *path);
void bnetd_session_close(struct bnetd_session *s);
void bnetd_session_state_changed(struct bnetd_session *s);
const char *bnetd_session_state(const struct bnetd_session *s);
unsigned int bnetd_sessions_of_uid(struct bnetd *d, uid_t uid);
void bnetd_sessions_evict_idle(struct bnetd *d, uint64_t now);
int bnetd_session_make_room(struct bnetd *d, size_t need, struct bnetd_session *keep);
bool bnetd_session_visible(struct bnetd_session *s, sd_bus_message *m);

/* request.c */
/* Queues a request; takes @tokens and @p (freed on failure too). */
int bnetd_request_submit(struct bnetd_session *s, int32_t *tokens, uint32_t n_tokens,
			 bool replace_context, struct bnetd_params *p, int fd, uint64_t *id,
			 sd_bus_error *err);
/* Moves a queued request to running: sets up its sequence and target. */
int bnetd_request_start(struct bnetd_request *r);
struct bnetd_request *bnetd_request_find(struct bnetd_session *s, uint64_t id);
void bnetd_request_cancel(struct bnetd_request *r);
void bnetd_request_finish(struct bnetd_request *r, const char *reason, const char *error);
int bnetd_request_take_token(struct bnetd_request *r, const float *logits);
void bnetd_request_flush(struct bnetd_request *r, bool force);
void bnetd_request_free(struct bnetd_request *r);
uint64_t bnetd_reserved_of_uid(struct bnetd *d, uid_t uid);

/* scheduler.c */
int bnetd_sched_start(struct bnetd *d);
void bnetd_sched_stop(struct bnetd *d);
void bnetd_sched_kick(struct bnetd *d);
void bnetd_sched_kick_later(struct bnetd *d);
bool bnetd_sched_busy(struct bnetd *d);
void bnetd_sched_on_done(struct bnetd *d);
void bnetd_notify_done(struct bnetd *d);

/* main.c */
uint64_t bnetd_now(void);
void bnetd_status_update(struct bnetd *d);
void bnetd_maybe_exit(struct bnetd *d);

#endif /* BITNETD_H */
