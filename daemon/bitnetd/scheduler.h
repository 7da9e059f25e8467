/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Continuous batching over the request queue: one batch at a time, run by
 * a worker thread (see scheduler.c).
 */
#ifndef BITNETD_SCHEDULER_H
#define BITNETD_SCHEDULER_H

#include <stdbool.h>
#include <systemd/sd-event.h>

struct bnetd_batch;
struct bnetd_model;
struct bnetd_queue;
struct bnetd_wakeup;

struct bnetd_sched {
	struct bnetd_queue *q;
	sd_event *event;
	struct bnetd_wakeup *wake; /* the worker wakes the loop through it */
	struct bnetd_batch *batch; /* the worker and its job */
	struct bnetd_model *last_batch_model;
	double decode_tps;	      /* decode tokens/s, smoothed over batches */
	sd_event_source *kick_source; /* deferred bnetd_sched_kick() */
	/* the manager's: */
	void (*idle)(void *userdata);	    /* nothing left to run */
	void (*changed)(void *userdata);    /* a batch went to the worker */
	void (*batch_done)(void *userdata); /* a batch's results were handled */
	void *userdata;
};

int bnetd_sched_start(struct bnetd_sched *sc);
void bnetd_sched_stop(struct bnetd_sched *sc);
/* Admits queued requests and sends the next batch, if none is out. */
void bnetd_sched_kick(struct bnetd_sched *sc);
/*
 * The same from the event loop rather than from inside a method handler,
 * so the caller has its reply (the request id) before any signal about it.
 */
void bnetd_sched_kick_later(struct bnetd_sched *sc);
bool bnetd_sched_busy(struct bnetd_sched *sc);
/* Whether the last batch was of @mo (it may not be unloaded then). */
bool bnetd_sched_computing(struct bnetd_sched *sc, struct bnetd_model *mo);
/* The worker woke the loop: handle a finished batch, send the next. */
void bnetd_sched_on_done(struct bnetd_sched *sc);

#endif /* BITNETD_SCHEDULER_H */
