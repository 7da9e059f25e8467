// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bitnet-example: stream a completion from bitnetd.
 *
 *   cc example.c $(pkg-config --cflags --libs bitnet-client)
 *   ./a.out MODEL "To be, or not to be"
 *
 * Connects to $BITNET_BUS_ADDRESS (else the system bus), opens a session on
 * MODEL, prints tokens as they arrive and the statistics at the end.
 */
#include <bitnet-client.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool finished;

static void on_token(struct bitnet_session *session, uint64_t request, const int32_t *ids,
		     size_t n_ids, const char *text, void *userdata)
{
	(void)session;
	(void)request;
	(void)ids;
	(void)n_ids;
	(void)userdata;
	fputs(text, stdout);
	fflush(stdout);
}

static void on_finished(struct bitnet_session *session, uint64_t request, const char *reason,
			const struct bitnet_finish_stats *stats, void *userdata)
{
	(void)session;
	(void)userdata;
	printf("\n[request %llu: %s, %u prompt tokens, %u generated, %.1f tokens/s]\n",
	       (unsigned long long)request, reason, stats->prompt_tokens, stats->tokens,
	       stats->decode_tps);
	finished = true;
}

static const struct bitnet_stream_ops ops = {
	.token = on_token,
	.finished = on_finished,
};

int main(int argc, char **argv)
{
	struct bitnet_client *client;
	struct bitnet_session *session;
	struct bitnet_params *params;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MODEL PROMPT\n", argv[0]);
		return 2;
	}
	r = bitnet_client_new_default(&client);
	if (r < 0) {
		fprintf(stderr, "%s\n", bitnet_client_connect_error());
		return 1;
	}
	r = bitnet_session_open(client, argv[1], 0, &session);
	if (r < 0)
		goto fail;
	r = bitnet_params_new(&params);
	if (r < 0)
		goto fail;
	bitnet_params_set_max_tokens(params, 32);
	bitnet_params_set_temperature(params, 0.0);
	r = bitnet_generate(session, argv[2], params, &ops, NULL, NULL);
	bitnet_params_free(params);
	if (r < 0)
		goto fail;

	/* A minimal event loop; a real program adds its own fds to the poll. */
	fputs(argv[2], stdout);
	while (!finished) {
		struct pollfd pfd = {
			.fd = bitnet_client_get_fd(client),
			.events = bitnet_client_get_events(client),
		};

		r = bitnet_client_process(client);
		if (r < 0)
			goto fail;
		if (r == 0 && !finished && poll(&pfd, 1, -1) < 0)
			break;
	}
	bitnet_session_close(session);
	bitnet_client_free(client);
	return 0;

fail:
	fprintf(stderr, "bitnet-example: %s\n", bitnet_client_last_error(client));
	bitnet_client_free(client);
	return 1;
}
