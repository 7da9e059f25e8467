/* SPDX-License-Identifier: GPL-2.0 */
/* bitnetctl: what the command files share. */
#ifndef BITNETCTL_H
#define BITNETCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "libclient/include/bitnet-client.h"

/* Exit codes; documented in man/bitnetctl.1. */
enum ctl_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* anything not listed below */
	EXIT_USAGE = 2,		/* bad command line or invalid argument */
	EXIT_NO_DAEMON = 3,	/* bus unreachable or bitnetd not running */
	EXIT_NOT_FOUND = 4,	/* no such model, session or request */
	EXIT_DENIED = 5,	/* permission denied */
	EXIT_BUSY = 6,		/* busy, queue full, quota, context or memory limit */
	EXIT_LOAD_FAILED = 7,	/* the model could not be loaded */
	EXIT_INTERRUPTED = 130, /* Ctrl-C: the request was cancelled */
};

enum ctl_bus {
	CTL_BUS_DEFAULT,
	CTL_BUS_SYSTEM,
	CTL_BUS_USER,
	CTL_BUS_ADDRESS
};

struct ctl {
	struct bitnet_client *client; /* NULL until ctl_connect() */
	enum ctl_bus bus;
	const char *address;
	bool json;
	const char *prog;
};

struct ctl_command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/*
 * Connects as the global options said; commands call it after parsing their
 * own arguments so usage errors never depend on the bus. Idempotent;
 * returns EXIT_OK or an exit code after printing why.
 */
int ctl_connect(struct ctl *ctl);
/* Prints "bitnetctl: what: last error" and maps err (-errno) to an exit code. */
int ctl_fail(struct ctl *ctl, int err, const char *what);
int ctl_usage_error(struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctl_exit_code(int err);

/* Prints obj (consumed) as pretty JSON on stdout. */
void ctl_print_json(json_object *obj);
json_object *ctl_json_u64(uint64_t v);
/*
 * A listing's output: with --json, the JSON array to fill (returned);
 * without, NULL once the table's header is printed from @fmt.
 */
json_object *ctl_list_begin(struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the array (consumed) if @ok, else only frees it; NULL: nothing. */
void ctl_list_end(json_object *list, bool ok);
/* Human size, e.g. "12.3 MiB", into buf. */
const char *ctl_format_bytes(uint64_t bytes, char *buf, size_t size);
/* Redraws a progress bar for 0..1 on stderr. */
void ctl_progress_bar(double fraction, const char *label);

/* For commands whose only option is --json: parses, connects; 0 or exit code. */
int ctl_parse_json_only(struct ctl *ctl, int argc, char **argv);
/*
 * Model named by -m, else the only ready model; *name is owned by the caller.
 * Returns 0 or minus an exit code (the error was printed).
 */
int ctl_resolve_model(struct ctl *ctl, const char *wanted, char **name);
/* Parses a number option; 0, or EXIT_USAGE after printing why. */
int ctl_parse_u64(struct ctl *ctl, const char *opt, const char *s, uint64_t *v);
int ctl_parse_double(struct ctl *ctl, const char *opt, const char *s, double *v);
/* Joins argv[0..argc) with spaces; NULL on no memory. */
char *ctl_join_args(int argc, char **argv);

/*
 * Generation options shared by generate, chat and bench: -n, --temp,
 * --top-k, --top-p, --min-p, --repeat-penalty, --seed, --stop, --ignore-eos.
 * ctl_gen_option() returns 1 if it took opt, 0 if not its option, or a
 * negative exit code.
 */
enum ctl_gen_opt {
	CTL_OPT_TEMP = 0x100,
	CTL_OPT_TOP_K,
	CTL_OPT_TOP_P,
	CTL_OPT_MIN_P,
	CTL_OPT_REPEAT_PENALTY,
	CTL_OPT_SEED,
	CTL_OPT_STOP,
	CTL_OPT_IGNORE_EOS,
};

#define CTL_GEN_LONG_OPTIONS                                                           \
	{ "max-tokens", required_argument, NULL, 'n' },                                \
		{ "temp", required_argument, NULL, CTL_OPT_TEMP },                     \
		{ "top-k", required_argument, NULL, CTL_OPT_TOP_K },                   \
		{ "top-p", required_argument, NULL, CTL_OPT_TOP_P },                   \
		{ "min-p", required_argument, NULL, CTL_OPT_MIN_P },                   \
		{ "repeat-penalty", required_argument, NULL, CTL_OPT_REPEAT_PENALTY }, \
		{ "seed", required_argument, NULL, CTL_OPT_SEED },                     \
		{ "stop", required_argument, NULL, CTL_OPT_STOP },                     \
	{                                                                              \
		"ignore-eos", no_argument, NULL, CTL_OPT_IGNORE_EOS                    \
	}
int ctl_gen_option(struct ctl *ctl, struct bitnet_params *params, int opt, const char *arg);

/* Another fd for ctl_loop to wait on, read by ready(userdata). */
struct ctl_watch {
	int fd;			       /* < 0: nothing (any more) to watch */
	void (*ready)(void *userdata); /* fd is readable or hung up */
};

/*
 * Runs the client's event loop until *done, with SIGINT and SIGTERM blocked
 * outside the wait. On the first signal on_signal(userdata) is called once
 * (it cancels the request); a second one exits with EXIT_INTERRUPTED at once.
 * watch (may be NULL) is re-read on every iteration.
 */
int ctl_loop(struct ctl *ctl, const bool *done, void (*on_signal)(void *userdata), void *userdata,
	     const struct ctl_watch *watch);
/* True once SIGINT or SIGTERM arrived (after ctl_catch_signals). */
bool ctl_interrupted(void);
/*
 * Catches SIGINT/SIGTERM and blocks them until ctl_loop waits, so that a
 * Ctrl-C during a method call is not lost; idempotent.
 */
void ctl_catch_signals(void);
/* Unblocks them again (the handler stays: blocking reads see EINTR). */
void ctl_release_signals(void);

int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_device(struct ctl *ctl, int argc, char **argv);
int cmd_limit(struct ctl *ctl, int argc, char **argv);
int cmd_models(struct ctl *ctl, int argc, char **argv);
int cmd_load(struct ctl *ctl, int argc, char **argv);
int cmd_unload(struct ctl *ctl, int argc, char **argv);
int cmd_sessions(struct ctl *ctl, int argc, char **argv);
int cmd_kill(struct ctl *ctl, int argc, char **argv);
int cmd_generate(struct ctl *ctl, int argc, char **argv);
int cmd_chat(struct ctl *ctl, int argc, char **argv);
int cmd_tokenize(struct ctl *ctl, int argc, char **argv);
int cmd_detokenize(struct ctl *ctl, int argc, char **argv);
int cmd_bench(struct ctl *ctl, int argc, char **argv);

#endif /* BITNETCTL_H */
