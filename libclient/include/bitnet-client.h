/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbitnet-client: a small C client for bitnetd's public D-Bus API
 * (org.bitnet.Inference1, see data/dbus/org.bitnet.Inference1.xml).
 *
 * Errors: every function returning int returns >= 0 on success and a
 * negative errno on failure; bitnet_client_last_error() then describes the
 * failure in a sentence the caller can print. D-Bus errors of the daemon map
 * to errno as documented in the XML (no such model/session: -ENOENT, busy:
 * -EBUSY, queue full: -EAGAIN, quota: -EDQUOT, context full: -ENOSPC,
 * permission: -EACCES, bad argument: -EINVAL, ...).
 *
 * Threads: one struct bitnet_client (and the sessions opened on it) may be
 * used by one thread at a time; callers that share a handle between threads
 * must serialise every call on it, including bitnet_client_process(). Distinct
 * handles are independent and may be used concurrently. Callbacks run on the
 * thread that calls bitnet_client_process() or a blocking function.
 *
 * Event loops: poll bitnet_client_get_fd() for bitnet_client_get_events(),
 * wake up at bitnet_client_get_timeout() (CLOCK_MONOTONIC, usec), and call
 * bitnet_client_process() until it returns 0. Method calls (Submit, Chat,
 * ListModels, ...) wait for the daemon's reply; streamed tokens and the end of
 * a request are delivered from bitnet_client_process() through callbacks.
 * Blocking users call bitnet_client_wait() or the *_blocking() helpers.
 *
 * Memory: strings and arrays returned through out-parameters belong to the
 * caller; free them with free() or the matching *_free() function.
 */
#ifndef BITNET_CLIENT_H
#define BITNET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bitnet_client;
struct bitnet_session;
struct bitnet_params;

/* ---- connection ---------------------------------------------------- */

/* The system bus, where bitnetd normally runs. */
int bitnet_client_new_system(struct bitnet_client **out);
/* The calling user's session bus. */
int bitnet_client_new_user(struct bitnet_client **out);
/* A bus given by its D-Bus address, e.g. "unix:path=/run/x/bus". */
int bitnet_client_new_address(struct bitnet_client **out, const char *address);
/* $BITNET_BUS_ADDRESS when set and non-empty, else the system bus. */
int bitnet_client_new_default(struct bitnet_client **out);
/* Closes every session still open on the handle, then the connection. */
void bitnet_client_free(struct bitnet_client *client);

/*
 * The last failure on this handle as "what failed: why" (never NULL; "" when
 * nothing failed yet). Valid until the next call on the handle.
 */
const char *bitnet_client_last_error(const struct bitnet_client *client);
/* Same for a failure to create a handle (thread-local). */
const char *bitnet_client_connect_error(void);

/* ---- event loop integration (like sd-bus) -------------------------- */

int bitnet_client_get_fd(struct bitnet_client *client);
/* poll(2) events to wait for on the fd (POLLIN, maybe POLLOUT). */
int bitnet_client_get_events(struct bitnet_client *client);
/* Absolute CLOCK_MONOTONIC deadline in usec; UINT64_MAX when none. */
int bitnet_client_get_timeout(struct bitnet_client *client, uint64_t *usec);
/* Handles one pending message; > 0 if it did something, 0 if idle. */
int bitnet_client_process(struct bitnet_client *client);
/*
 * Blocks until there may be something to process or timeout_usec passes
 * (UINT64_MAX: no timeout). Returns > 0 on activity, 0 on timeout.
 */
int bitnet_client_wait(struct bitnet_client *client, uint64_t timeout_usec);

/* ---- service status ------------------------------------------------- */

struct bitnet_status {
	char *version;
	char *backend; /* "kmod" or "cpu" */
	bool device_available;
	uint64_t requests;
	uint64_t tokens_in;
	uint64_t tokens_out;
	uint32_t queue_length;
	uint32_t active_sessions;
	double decode_tokens_per_second;
	uint32_t max_queue;
	uint32_t max_sessions_per_user;
	uint64_t max_tokens_per_user;
	uint64_t memory_budget;
	uint64_t memory_used;
	uint32_t idle_timeout_sec;
	uint32_t prefill_chunk;
};

int bitnet_get_status(struct bitnet_client *client, struct bitnet_status *status);
void bitnet_status_clear(struct bitnet_status *status);

/*
 * Changes one service limit, named like its Manager property (MaxQueue,
 * MaxSessionsPerUser, MaxTokensPerUser, MemoryBudget, IdleTimeoutSec,
 * PrefillChunk, ...). Needs polkit org.bitnet.manage. Unknown names and
 * out-of-range values are -EINVAL with the daemon's reason.
 */
int bitnet_set_limit(struct bitnet_client *client, const char *name, uint64_t value);

struct bitnet_counter {
	char *name;
	uint64_t value;
};

/* /dev/bitnet counters; *n == 0 when the daemon runs without the module. */
int bitnet_get_device_counters(struct bitnet_client *client, struct bitnet_counter **counters,
			       size_t *n);
void bitnet_counters_free(struct bitnet_counter *counters, size_t n);

/* ---- models --------------------------------------------------------- */

struct bitnet_model {
	char *name;
	char *object_path;
	char *architecture;
	char *state; /* "loading", "ready" or "failed" */
};

int bitnet_list_models(struct bitnet_client *client, struct bitnet_model **models, size_t *n);
void bitnet_models_free(struct bitnet_model *models, size_t n);

struct bitnet_model_info {
	char *name;
	char *file;
	char *architecture;
	char *weight_type;
	char *state;
	char *error; /* "" unless state is "failed" */
	uint32_t vocab_size;
	uint32_t context_size;
	double load_progress; /* 0..1 */
	uint64_t memory_bytes;
	uint64_t parameters;
};

/* -ENOENT when no model has that name. */
int bitnet_get_model_info(struct bitnet_client *client, const char *name,
			  struct bitnet_model_info *info);
void bitnet_model_info_clear(struct bitnet_model_info *info);

/*
 * Starts loading the GGUF file at path (absolute, as the daemon sees it) as
 * name; returns at once. object_path may be NULL.
 */
int bitnet_load_model(struct bitnet_client *client, const char *name, const char *path,
		      char **object_path);

/* Called while waiting for a load with the current progress (0..1). */
typedef void (*bitnet_progress_fn)(double progress, void *userdata);

/*
 * Waits until model name is ready (returns 0) or failed (-EBADMSG, the
 * daemon's reason in last_error), polling its state every poll_usec
 * (0: 50 ms). timeout_usec UINT64_MAX waits forever, else -ETIMEDOUT.
 */
int bitnet_wait_model_ready(struct bitnet_client *client, const char *name, uint64_t poll_usec,
			    uint64_t timeout_usec, bitnet_progress_fn progress, void *userdata);
int bitnet_unload_model(struct bitnet_client *client, const char *name);

/*
 * The weights model name has pinned on /dev/bitnet, for this process to
 * run on read-only instead of loading its own copy: *fd is a unix socket
 * (close-on-exec, the caller's to close) carrying their export fds, for
 * the engine's attach (bitnet-run --attach). Needs the polkit action
 * org.bitnet.share-weights (root: always). -ENODEV (NotOnDevice) when the
 * model runs on the cpu backend, -ENOENT unknown, -EBUSY still loading,
 * -EBADMSG failed, -EACCES not authorized.
 */
int bitnet_model_share_weights(struct bitnet_client *client, const char *model, int *fd);

/* ---- tokenizer -------------------------------------------------------- */

int bitnet_tokenize(struct bitnet_client *client, const char *model, const char *text,
		    bool add_special, int32_t **ids, size_t *n);
int bitnet_detokenize(struct bitnet_client *client, const char *model, const int32_t *ids, size_t n,
		      char **text);

/* ---- sessions --------------------------------------------------------- */

struct bitnet_session_info {
	char *object_path;
	char *model;
	char *owner; /* unique bus name of the owner */
	uint32_t uid;
	char *state; /* idle | queued | running | evicted */
};

/* The caller's sessions (root: everyone's). */
int bitnet_list_sessions(struct bitnet_client *client, struct bitnet_session_info **sessions,
			 size_t *n);
void bitnet_sessions_free(struct bitnet_session_info *sessions, size_t n);
/* Ends any session by object path (the owner's, or with org.bitnet.manage). */
int bitnet_kill_session(struct bitnet_client *client, const char *object_path);

/* One session's properties (org.bitnet.Inference1.Session). */
struct bitnet_session_details {
	char *object_path;
	char *model;
	char *owner; /* unique bus name of the owner */
	uint32_t uid;
	char *state;	       /* idle | queued | running | evicted */
	uint32_t context_used; /* tokens in the session's context */
	uint32_t context_size;
	uint64_t tokens_generated; /* over the session's lifetime */
};

/*
 * Reads the properties of the session at object_path. bitnetd shows them to
 * the connection that owns the session only: for others (root included) and
 * for sessions that do not exist it is -ENOENT. Clear details with
 * bitnet_session_details_clear().
 */
int bitnet_session_get_info(struct bitnet_client *client, const char *object_path,
			    struct bitnet_session_details *details);
void bitnet_session_details_clear(struct bitnet_session_details *details);

/* Opens a session on model; n_ctx 0 means the model's context size. */
int bitnet_session_open(struct bitnet_client *client, const char *model, uint32_t n_ctx,
			struct bitnet_session **out);
/*
 * Closes the session on the daemon (if it still exists) and frees it;
 * requests still running are cancelled by the daemon.
 */
int bitnet_session_close(struct bitnet_session *session);
const char *bitnet_session_get_path(const struct bitnet_session *session);
struct bitnet_client *bitnet_session_get_client(const struct bitnet_session *session);
/* Drops the session's context and KV cache. */
int bitnet_session_reset(struct bitnet_session *session);

/* ---- generation parameters (unset ones take the daemon's default) ----- */

int bitnet_params_new(struct bitnet_params **out);
void bitnet_params_free(struct bitnet_params *params);
int bitnet_params_set_max_tokens(struct bitnet_params *params, uint32_t n);
int bitnet_params_set_temperature(struct bitnet_params *params, double t);
int bitnet_params_set_top_k(struct bitnet_params *params, int32_t k);
int bitnet_params_set_top_p(struct bitnet_params *params, double p);
int bitnet_params_set_min_p(struct bitnet_params *params, double p);
int bitnet_params_set_typical_p(struct bitnet_params *params, double p);
int bitnet_params_set_repeat_penalty(struct bitnet_params *params, double v);
int bitnet_params_set_repeat_last_n(struct bitnet_params *params, int32_t n);
int bitnet_params_set_presence_penalty(struct bitnet_params *params, double v);
int bitnet_params_set_frequency_penalty(struct bitnet_params *params, double v);
int bitnet_params_set_seed(struct bitnet_params *params, uint64_t seed);
int bitnet_params_set_ignore_eos(struct bitnet_params *params, bool b);
int bitnet_params_set_add_bos(struct bitnet_params *params, bool b);
int bitnet_params_add_stop(struct bitnet_params *params, const char *stop);
int bitnet_params_add_logit_bias(struct bitnet_params *params, int32_t id, double bias);

/* ---- generation ---------------------------------------------------------- */

struct bitnet_finish_stats {
	uint32_t prompt_tokens;
	uint32_t tokens;
	uint32_t cached_tokens;
	double prefill_tps;
	double decode_tps;
	const char *error; /* "" unless reason is "error" */
};

/* Tokens as they arrive: several ids and their text per call. */
typedef void (*bitnet_token_fn)(struct bitnet_session *session, uint64_t request,
				const int32_t *ids, size_t n_ids, const char *text, void *userdata);
/*
 * The end of a request: reason is eos, stop, length, cancelled or error.
 * Called exactly once per request submitted with ops, also when the daemon
 * leaves the bus or the connection breaks (reason "error"), unless the
 * session is closed first. Do not close the session from a callback.
 */
typedef void (*bitnet_finished_fn)(struct bitnet_session *session, uint64_t request,
				   const char *reason, const struct bitnet_finish_stats *stats,
				   void *userdata);

struct bitnet_stream_ops {
	bitnet_token_fn token;	     /* may be NULL */
	bitnet_finished_fn finished; /* may be NULL */
};

struct bitnet_message {
	const char *role; /* "system", "user" or "assistant" */
	const char *content;
};

/*
 * Queues a completion of prompt; params may be NULL. ops and userdata must
 * stay valid until the finished callback. request may be NULL.
 */
int bitnet_generate(struct bitnet_session *session, const char *prompt,
		    const struct bitnet_params *params, const struct bitnet_stream_ops *ops,
		    void *userdata, uint64_t *request);
int bitnet_chat(struct bitnet_session *session, const struct bitnet_message *messages,
		size_t n_messages, const struct bitnet_params *params,
		const struct bitnet_stream_ops *ops, void *userdata, uint64_t *request);
/*
 * Like bitnet_generate(), but the daemon writes the generated text to a pipe
 * instead of sending Tokens signals: *fd is its read end (O_CLOEXEC, blocking;
 * the caller owns it). It reaches end of file after the request ends. Closing
 * it before then cancels the request: the daemon notices at its next write
 * and finishes the request with reason "cancelled". The finished callback of
 * ops (may be NULL) still reports the end; the token callback is never
 * called. Keep calling bitnet_client_process() meanwhile to receive it.
 */
int bitnet_generate_to_fd(struct bitnet_session *session, const char *prompt,
			  const struct bitnet_params *params, const struct bitnet_stream_ops *ops,
			  void *userdata, uint64_t *request, int *fd);
/*
 * Asks the daemon to stop request; its finished callback still follows.
 * Waits for the daemon's answer: -ESRCH when the request already ended.
 */
int bitnet_cancel(struct bitnet_session *session, uint64_t request);
/*
 * Same without waiting for the answer (safe from signal-driven code paths
 * that must stay responsive); the finished callback reports the outcome.
 */
int bitnet_cancel_async(struct bitnet_session *session, uint64_t request);

struct bitnet_result {
	char *text; /* the whole generated text */
	char *reason;
	uint32_t prompt_tokens;
	uint32_t tokens;
	uint32_t cached_tokens;
	double prefill_tps;
	double decode_tps;
};

/*
 * Generates and waits for the end. Returns 0 for reasons eos, stop, length
 * and cancelled, and -EIO for reason "error" (the daemon's message is in
 * last_error); in both cases result holds the text and statistics and must
 * be cleared with bitnet_result_clear(). Other failures leave it empty.
 */
int bitnet_generate_blocking(struct bitnet_session *session, const char *prompt,
			     const struct bitnet_params *params, struct bitnet_result *result);
int bitnet_chat_blocking(struct bitnet_session *session, const struct bitnet_message *messages,
			 size_t n_messages, const struct bitnet_params *params,
			 struct bitnet_result *result);
void bitnet_result_clear(struct bitnet_result *result);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_CLIENT_H */
