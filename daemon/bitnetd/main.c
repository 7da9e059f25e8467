// SPDX-License-Identifier: GPL-2.0
/*
 * bitnetd: the system-wide BitNet inference service. Sets up sd-event and
 * sd-bus, the configuration, signals, the watchdog and systemd notification;
 * the manager (manager.c) and its objects do the rest, the *-bus.c files put
 * them on the bus.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/errors.h"
#include "daemon/bitnetd/log.h"
#include "daemon/bitnetd/manager-bus.h"
#include "daemon/bitnetd/manager.h"
#include "daemon/bitnetd/model-bus.h"
#include "daemon/bitnetd/session-bus.h"
#include "daemon/bitnetd/time-util.h"

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct bnetd *d = userdata;

	(void)s;
	if (d->queue.stopping)
		return 0;
	bnetd_log(LOG_INFO, NULL, NULL, "signal %u: stopping; %u running, %u queued requests",
		  si->ssi_signo, d->queue.n_running, d->queue.n_queue);
	sd_notify(0, "STOPPING=1");
	d->queue.stopping = true;
	/* running requests end as "cancelled" when the worker hands back the batch */
	bnetd_manager_maybe_exit(d);
	return 0;
}

static int read_config(struct bnetd *d, struct bnetd_config *c, bool must_exist)
{
	char err[256];
	int r;

	bnetd_config_defaults(c);
	r = bnetd_config_load(c, d->config_path, err, sizeof(err));
	if (r == -ENOENT && !must_exist)
		return 0;
	if (r < 0) {
		bnetd_log(LOG_ERR, NULL, NULL, "config %s", err);
		bnetd_config_free(c);
	}
	return r;
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct bnetd *d = userdata;
	struct bnetd_config c;

	(void)s;
	(void)si;
	sd_notify(0, "RELOADING=1");
	if (read_config(d, &c, false) == 0) {
		c.threads = c.threads ? c.threads : d->cfg.threads;
		bnetd_config_free(&d->cfg);
		d->cfg = c;
		bnetd_log(LOG_INFO, NULL, NULL, "configuration reloaded from %s", d->config_path);
		bnetd_manager_preload(d);
		bnetd_sched_kick(&d->sched);
	}
	sd_notify(0, "READY=1");
	bnetd_manager_status_update(d);
	return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct bnetd *d = userdata;

	bnetd_sessions_evict_idle(&d->sessions, bnetd_now());
	sd_event_source_set_time(s, usec + 1000000ULL);
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void usage(void)
{
	printf("Usage: bitnetd [OPTIONS]\n"
	       "  --system               serve on the system bus (default)\n"
	       "  --user                 serve on the user's session bus\n"
	       "  --bus-address=ADDRESS  serve on the bus at ADDRESS (tests)\n"
	       "  --config=PATH          configuration file (default %s)\n"
	       "  --backend=auto|cpu|kmod  matmul backend (default auto)\n"
	       "  --model=NAME=PATH      load a model at start (repeatable)\n"
	       "  --threads=N            compute threads (default: all CPUs)\n"
	       "  --version, --help\n",
	       BNETD_DEFAULT_CONFIG);
}

struct args {
	int bus_kind; /* 0 system, 1 user, 2 address */
	const char *address;
	const char *backend;
	int threads;
	char **models;
	size_t n_models;
};

static int parse_args(int argc, char **argv, struct bnetd *d, struct args *a)
{
	static const struct option opts[] = { { "system", no_argument, NULL, 's' },
					      { "user", no_argument, NULL, 'u' },
					      { "bus-address", required_argument, NULL, 'a' },
					      { "config", required_argument, NULL, 'c' },
					      { "backend", required_argument, NULL, 'b' },
					      { "model", required_argument, NULL, 'm' },
					      { "threads", required_argument, NULL, 't' },
					      { "version", no_argument, NULL, 'V' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			a->bus_kind = 0;
			break;
		case 'u':
			a->bus_kind = 1;
			break;
		case 'a':
			a->bus_kind = 2;
			a->address = optarg;
			break;
		case 'c':
			d->config_path = optarg;
			break;
		case 'b':
			a->backend = optarg;
			break;
		case 't':
			a->threads = atoi(optarg);
			break;
		case 'm':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr, "bitnetd: --model wants NAME=PATH\n");
				return -EINVAL;
			}
			a->models = realloc(a->models, (a->n_models + 1) * sizeof(char *));
			if (!a->models)
				return -ENOMEM;
			a->models[a->n_models++] = optarg;
			break;
		case 'V':
			printf("bitnetd %s\n", BITNET_VERSION);
			exit(0);
		case 'h':
			usage();
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bitnetd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int apply_args(struct bnetd *d, struct args *a)
{
	const char *backend = a->backend ? a->backend : d->cfg.backend;

	d->backend = BN_BACKEND_AUTO;
	if (backend && bn_backend_kind_parse(backend, &d->backend))
		return -EINVAL;
	if (d->cfg.head && bn_head_kind_parse(d->cfg.head, &d->head))
		return -EINVAL;
	if (d->cfg.pack && bn_pack_kind_parse(d->cfg.pack, &d->pack))
		return -EINVAL;
	if (a->threads > 0)
		d->cfg.threads = a->threads;
	for (size_t i = 0; i < a->n_models; i++) {
		char *eq = strchr(a->models[i], '=');
		struct bnetd_preload *p =
			realloc(d->cfg.models, (d->cfg.n_models + 1) * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->cfg.models = p;
		p += d->cfg.n_models++;
		p->name = strndup(a->models[i], (size_t)(eq - a->models[i]));
		p->path = strdup(eq + 1);
		if (!p->name || !p->path)
			return -ENOMEM;
	}
	return 0;
}

static int connect_bus(struct bnetd *d, struct args *a)
{
	int r;

	switch (a->bus_kind) {
	case 1:
		r = sd_bus_open_user(&d->bus);
		break;
	case 2:
		r = sd_bus_new(&d->bus);
		if (r >= 0)
			r = sd_bus_set_address(d->bus, a->address);
		if (r >= 0)
			r = sd_bus_set_bus_client(d->bus, 1);
		if (r >= 0)
			r = sd_bus_start(d->bus);
		break;
	default:
		r = sd_bus_open_system(&d->bus);
	}
	if (r < 0)
		return r;
	/* polkit is a system service; a private test bus carries its own */
	if (a->bus_kind == 1) {
		if (sd_bus_open_system(&d->polkit_bus) < 0)
			bnetd_log(LOG_WARNING, NULL, NULL,
				  "no system bus: only root may administer");
		else
			sd_bus_attach_event(d->polkit_bus, d->event, 0);
	} else {
		d->polkit_bus = sd_bus_ref(d->bus);
	}
	r = sd_bus_attach_event(d->bus, d->event, 0);
	if (r >= 0)
		r = sd_bus_set_exit_on_disconnect(d->bus, 1);
	return r;
}

static int setup(struct bnetd *d, struct args *a)
{
	sigset_t ss;
	int r;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = sd_event_default(&d->event);
	if (r < 0)
		return r;
	r = sd_event_add_signal(d->event, NULL, SIGTERM, on_term, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGINT, on_term, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGHUP, on_hup, d);
	if (r < 0)
		return r;
	r = sd_event_set_watchdog(d->event, true);
	if (r < 0)
		return r;
	r = sd_event_add_time_relative(d->event, &d->idle_timer, CLOCK_MONOTONIC, 1000000ULL, 0,
				       on_tick, d);
	if (r < 0)
		return r;
	r = connect_bus(d, a);
	if (r < 0) {
		bnetd_log(LOG_ERR, NULL, NULL, "cannot connect to the bus: %s", strerror(-r));
		return r;
	}
	bnetd_errors_register();
	r = bnetd_manager_bus_register(d);
	if (r >= 0)
		r = bnetd_model_bus_register(d);
	if (r >= 0)
		r = bnetd_session_bus_register(d);
	if (r < 0)
		return r;
	r = bnetd_manager_start(d);
	if (r < 0)
		return r;
	r = sd_bus_request_name(d->bus, BNETD_BUS_NAME, 0);
	if (r < 0) {
		bnetd_log(LOG_ERR, NULL, NULL, "cannot own %s: %s", BNETD_BUS_NAME, strerror(-r));
		return r;
	}
	return 0;
}

static void teardown(struct bnetd *d)
{
	bnetd_manager_free(d);
	if (d->bus)
		sd_bus_flush_close_unref(d->bus);
	sd_bus_unref(d->polkit_bus);
	sd_event_source_disable_unref(d->idle_timer);
	sd_event_unref(d->event);
	bnetd_config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	static struct bnetd d;
	struct args a = { 0 };
	int r;

	bnetd_manager_init(&d);
	d.under_systemd = getenv("INVOCATION_ID") && sd_booted() > 0;
	bnetd_log_init(d.under_systemd);
	r = parse_args(argc, argv, &d, &a);
	if (r < 0) {
		usage();
		return 2;
	}
	r = read_config(&d, &d.cfg, strcmp(d.config_path, BNETD_DEFAULT_CONFIG) != 0);
	if (r < 0)
		return 1;
	if (apply_args(&d, &a) < 0) {
		fprintf(stderr, "bitnetd: bad --backend or out of memory\n");
		return 2;
	}
	free(a.models);
	d.device_available = bn_backend_kmod_available();
	bnetd_log(LOG_INFO, NULL, NULL, "backend %s (/dev/bitnet %s)",
		  d.backend == BN_BACKEND_CPU  ? "cpu (forced)" :
		  d.backend == BN_BACKEND_KMOD ? "kmod (forced)" :
		  d.device_available	       ? "kmod" :
						 "cpu",
		  d.device_available ? "present" : "absent");
	r = setup(&d, &a);
	if (r >= 0) {
		bnetd_manager_preload(&d);
		bnetd_manager_status_update(&d);
		sd_notify(0, "READY=1");
		bnetd_log(LOG_INFO, NULL, NULL, "serving %s", BNETD_BUS_NAME);
		r = sd_event_loop(d.event);
	}
	teardown(&d);
	if (r < 0) {
		bnetd_log(LOG_ERR, NULL, NULL, "exiting: %s", strerror(-r));
		return 1;
	}
	return 0;
}
