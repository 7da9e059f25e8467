// SPDX-License-Identifier: GPL-2.0
/*
 * bitnetctl's event loop: waits on the client's fd with ppoll() so that
 * SIGINT/SIGTERM are only delivered while waiting and cannot be lost between
 * checking for them and sleeping. The first signal cancels the request on
 * the daemon; the loop then waits for its Finished.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

static volatile sig_atomic_t signals_seen;
static sig_atomic_t signals_handled;
static sigset_t unblocked_mask;
static bool signals_blocked;

static void on_signal_caught(int sig)
{
	(void)sig;
	signals_seen++;
}

bool ctl_interrupted(void)
{
	return signals_seen > 0;
}

void ctl_catch_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	if (signals_blocked)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal_caught; /* no SA_RESTART: reads see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &unblocked_mask);
	signals_blocked = true;
}

void ctl_release_signals(void)
{
	if (!signals_blocked)
		return;
	sigprocmask(SIG_SETMASK, &unblocked_mask, NULL);
	signals_blocked = false;
}

/* Milliseconds until the client's next deadline, -1 for none. */
static int poll_timeout_ms(struct bitnet_client *client)
{
	struct timespec now;
	uint64_t until, now_us;

	if (bitnet_client_get_timeout(client, &until) < 0 || until == UINT64_MAX)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_us = (uint64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	if (until <= now_us)
		return 0;
	return (until - now_us + 999) / 1000 > 60000 ? 60000 : (until - now_us + 999) / 1000;
}

int ctl_loop(struct ctl *ctl, const bool *done, void (*on_signal)(void *userdata), void *userdata,
	     const struct ctl_watch *watch)
{
	int r, ret = EXIT_OK;

	ctl_catch_signals();
	while (!*done) {
		struct pollfd pfd[2];
		struct timespec ts, *tsp = NULL;
		nfds_t n = 1;
		int ms;

		if (signals_seen != signals_handled) {
			if (signals_handled > 0 || !on_signal) {
				/*
				 * Leave now without goodbyes: the daemon ends the
				 * sessions of a client that left the bus.
				 */
				fflush(stdout);
				fprintf(stderr, "%s: interrupted\n", ctl->prog);
				_exit(EXIT_INTERRUPTED);
			}
			signals_handled = signals_seen;
			on_signal(userdata);
			continue;
		}
		r = bitnet_client_process(ctl->client);
		if (r < 0) {
			ret = ctl_fail(ctl, r, "bus");
			break;
		}
		if (r > 0)
			continue;
		pfd[0].fd = bitnet_client_get_fd(ctl->client);
		pfd[0].events = bitnet_client_get_events(ctl->client);
		if (watch && watch->fd >= 0) {
			pfd[1] = (struct pollfd){ .fd = watch->fd, .events = POLLIN };
			n = 2;
		}
		ms = poll_timeout_ms(ctl->client);
		if (ms >= 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000L;
			tsp = &ts;
		}
		if (ppoll(pfd, n, tsp, &unblocked_mask) < 0) {
			if (errno == EINTR)
				continue;
			ret = ctl_fail(ctl, -errno, "waiting for the bus");
			break;
		}
		if (n == 2 && pfd[1].revents)
			watch->ready(userdata);
	}
	ctl_release_signals();
	return ret;
}
