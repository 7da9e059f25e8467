/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generation requests: queued by Submit/Chat, started by the scheduler,
 * fed one token at a time by the engine's generator (bn_gen), streamed as
 * Tokens signals (or into a pipe) and ended with a Finished signal. The
 * queue holds them all, with the counters the Manager shows.
 */
#ifndef BITNETD_REQUEST_H
#define BITNETD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon/engine/engine.h"
#include "daemon/bitnetd/config.h"
#include "daemon/bitnetd/list.h"
#include "daemon/bitnetd/params.h"

struct bnetd_session;

enum bnetd_req_phase {
	BNETD_REQ_QUEUED,
	BNETD_REQ_PREFILL,
	BNETD_REQ_DECODE,
};

struct bnetd_queue {
	struct bnetd_list waiting; /* FIFO */
	struct bnetd_list running; /* prefilling or decoding */
	unsigned int n_queue, n_running;
	uint64_t next_request_id;
	uint64_t requests, tokens_in, tokens_out;
	bool stopping; /* the daemon is stopping: no new work */
	sd_event *event;
	sd_bus *bus;
	const struct bnetd_limits *limits; /* the manager's current limits */
};

struct bnetd_request {
	struct bnetd_list link; /* q->waiting or q->running */
	struct bnetd_queue *q;
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
	struct bn_gen *gen; /* once running */
	float *logits;	    /* the generator's: the forward pass writes here */
	int32_t *pend_ids;  /* ids not yet signalled */
	uint32_t n_pend, cap_pend;
	bool in_batch;
	bool cancelled;
	uint64_t t_queued, t_prefill_start, t_first_token, t_last_flush;
	int fd; /* SubmitToFd: write end, or -1 */
	sd_event_source *fd_source;
	char *fd_buf;
	size_t fd_len;
	bool fd_closing;
};

void bnetd_queue_init(struct bnetd_queue *q, sd_event *event, sd_bus *bus,
		      const struct bnetd_limits *limits);
/* Finishes every request as cancelled. */
void bnetd_queue_cancel_all(struct bnetd_queue *q);
uint64_t bnetd_queue_reserved_of_uid(struct bnetd_queue *q, uid_t uid);

/*
 * Queues a request of @s (the caller kicks the scheduler); takes @tokens
 * and @p (freed on failure too).
 */
int bnetd_request_submit(struct bnetd_queue *q, struct bnetd_session *s, int32_t *tokens,
			 uint32_t n_tokens, bool replace_context, struct bnetd_params *p, int fd,
			 uint64_t *id, sd_bus_error *err);
/* Moves a queued request to running: sets up its sequence and target. */
int bnetd_request_start(struct bnetd_request *r);
struct bnetd_request *bnetd_request_find(struct bnetd_queue *q, struct bnetd_session *s,
					 uint64_t id);
void bnetd_request_cancel(struct bnetd_request *r);
void bnetd_request_finish(struct bnetd_request *r, const char *reason, const char *error);
/*
 * Has the generator sample from @logits (copied to r->logits unless they
 * are there already) and handles the token. Returns 1 when the request
 * goes on (its next_token is to be fed; the token waits in its pending
 * ones for bnetd_request_flush()), 0 when it was finished here.
 */
int bnetd_request_take_token(struct bnetd_request *r, const float *logits);
/* Sends the pending tokens once TokensPerSignal are there, or any if @force. */
void bnetd_request_flush(struct bnetd_request *r, bool force);
/*
 * Cancels the requests of a closing session. False when one is in the
 * worker's hands: the session is to be freed after that batch.
 */
bool bnetd_queue_end_session(struct bnetd_queue *q, struct bnetd_session *s);

#endif /* BITNETD_REQUEST_H */
