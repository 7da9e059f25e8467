// SPDX-License-Identifier: GPL-2.0
/*
 * bitnetctl: administer and use bitnetd through libbitnet-client.
 * Global options, command dispatch and the errno -> exit code policy.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

static const struct ctl_command commands[] = {
	{ "status", "", "service state: backend, device, models, sessions, queue, tokens/s",
	  cmd_status },
	{ "models", "", "loaded models", cmd_models },
	{ "load", "NAME PATH", "load a GGUF model (progress bar while loading)", cmd_load },
	{ "unload", "NAME", "unload a model", cmd_unload },
	{ "sessions", "", "open sessions", cmd_sessions },
	{ "kill", "SESSION", "end a session (object path or id)", cmd_kill },
	{ "generate", "[PROMPT...]", "complete a prompt, streaming tokens", cmd_generate },
	{ "chat", "[MESSAGE...]", "chat with the model (stdin lines when no MESSAGE)", cmd_chat },
	{ "tokenize", "TEXT...", "token ids of a text", cmd_tokenize },
	{ "detokenize", "ID...", "text of token ids", cmd_detokenize },
	{ "bench", "", "N concurrent sessions, prints tokens/s", cmd_bench },
	{ "device", "", "the kernel module's counters", cmd_device },
	{ "limit", "NAME=VALUE...", "change service limits (MaxQueue=64, ...)", cmd_limit },
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--system|--user|--address=ADDR] [--json] COMMAND [ARGS]\n\n"
		"commands:\n",
		prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %-12s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(f, "\ngeneration options (generate, chat, bench): -m MODEL, -n N, --temp T,\n"
		   "  --top-k K, --top-p P, --min-p P, --repeat-penalty R, --seed S,\n"
		   "  --stop STR, --ignore-eos; chat also --system TEXT; generate also\n"
		   "  --pipe (the text comes through a pipe, SubmitToFd).\n"
		   "The bus address may also come from $BITNET_BUS_ADDRESS.\n"
		   "See bitnetctl(1) for details and exit codes.\n");
}

int ctl_exit_code(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EINVAL:
		return EXIT_USAGE;
	case EHOSTDOWN:
	case ENXIO:
	case ECONNREFUSED:
	case ECONNRESET:
	case ENOTCONN:
		return EXIT_NO_DAEMON;
	case ENOENT:
	case ESRCH:
		return EXIT_NOT_FOUND;
	case EACCES:
	case EPERM:
		return EXIT_DENIED;
	case EBUSY:
	case EAGAIN:
	case EDQUOT:
	case ENOSPC:
	case ENOMEM:
		return EXIT_BUSY;
	case EBADMSG:
		return EXIT_LOAD_FAILED;
	default:
		return EXIT_FAIL;
	}
}

int ctl_fail(struct ctl *ctl, int err, const char *what)
{
	const char *msg = ctl->client ? bitnet_client_last_error(ctl->client) : "";

	if (*msg)
		fprintf(stderr, "%s: %s: %s\n", ctl->prog, what, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", ctl->prog, what, strerror(-err));
	return ctl_exit_code(err);
}

int ctl_usage_error(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctl->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", ctl->prog);
	return EXIT_USAGE;
}

static const struct ctl_command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int ctl_connect(struct ctl *ctl)
{
	int r;

	if (ctl->client)
		return EXIT_OK;
	switch (ctl->bus) {
	case CTL_BUS_SYSTEM:
		r = bitnet_client_new_system(&ctl->client);
		break;
	case CTL_BUS_USER:
		r = bitnet_client_new_user(&ctl->client);
		break;
	case CTL_BUS_ADDRESS:
		r = bitnet_client_new_address(&ctl->client, ctl->address);
		break;
	default:
		r = bitnet_client_new_default(&ctl->client);
		break;
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", ctl->prog, bitnet_client_connect_error());
		return r == -EINVAL ? EXIT_USAGE : EXIT_NO_DAEMON;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option options[] = { { "system", no_argument, NULL, 's' },
						 { "user", no_argument, NULL, 'u' },
						 { "address", required_argument, NULL, 'a' },
						 { "json", no_argument, NULL, 'j' },
						 { "help", no_argument, NULL, 'h' },
						 { "version", no_argument, NULL, 'V' },
						 { NULL, 0, NULL, 0 } };
	struct ctl ctl = { .prog = "bitnetctl" };
	const struct ctl_command *cmd;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "+hj", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			ctl.bus = CTL_BUS_SYSTEM;
			break;
		case 'u':
			ctl.bus = CTL_BUS_USER;
			break;
		case 'a':
			ctl.bus = CTL_BUS_ADDRESS;
			ctl.address = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout, ctl.prog);
			return EXIT_OK;
		case 'V':
			printf("bitnetctl %s\n", BITNET_VERSION);
			return EXIT_OK;
		default:
			usage(stderr, ctl.prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, ctl.prog);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return ctl_usage_error(&ctl, "unknown command '%s'", argv[optind]);

	argc -= optind;
	argv += optind;
	optind = 0; /* full getopt re-initialisation for the command */
	ret = cmd->run(&ctl, argc, argv);
	bitnet_client_free(ctl.client);
	return ret;
}
