// SPDX-License-Identifier: GPL-2.0
/*
 * Completions from other threads to the event loop (see wakeup.h).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/bitnetd/wakeup.h"

int bnetd_wakeup_init(struct bnetd_wakeup *w)
{
	pthread_mutex_init(&w->lock, NULL);
	w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return w->fd < 0 ? -errno : 0;
}

void bnetd_wakeup_notify(struct bnetd_wakeup *w)
{
	uint64_t one = 1;

	/* an eventfd write only fails when the counter would overflow */
	if (write(w->fd, &one, sizeof(one)) < 0)
		return;
}

int bnetd_wakeup_drain(struct bnetd_wakeup *w)
{
	uint64_t v;

	return read(w->fd, &v, sizeof(v)) < 0 ? -errno : 0;
}

void bnetd_wakeup_fini(struct bnetd_wakeup *w)
{
	if (w->fd >= 0)
		close(w->fd);
	/* the lock stays: a loader thread may still be running at exit */
	w->fd = -1;
}
