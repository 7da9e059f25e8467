/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the daemon's threads (the forward-pass worker, model loaders) hand
 * results back to the event loop: they set their results under @lock,
 * then bnetd_wakeup_notify() makes @fd readable, which the loop watches.
 */
#ifndef BITNETD_WAKEUP_H
#define BITNETD_WAKEUP_H

#include <pthread.h>

struct bnetd_wakeup {
	int fd; /* an eventfd; -1 until bnetd_wakeup_init() */
	pthread_mutex_t lock;
};

int bnetd_wakeup_init(struct bnetd_wakeup *w);
void bnetd_wakeup_notify(struct bnetd_wakeup *w);
/* Reads the eventfd empty (the loop's handler, first): 0 or -errno (-EAGAIN). */
int bnetd_wakeup_drain(struct bnetd_wakeup *w);
void bnetd_wakeup_fini(struct bnetd_wakeup *w);

#endif /* BITNETD_WAKEUP_H */
