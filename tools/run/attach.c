// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-run --attach NAME: the weights of bitnetd's model NAME, pinned on
 * /dev/bitnet, come over D-Bus (Manager.ShareWeights, a unix socket of
 * export fds); the engine imports them read-only and only reads the rest
 * of the model (embeddings, norms, vocab) from the file, which must be the
 * one the daemon loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libclient/include/bitnet-client.h"
#include "tools/run/attach.h"

static char daemon_file[4096];

static const char *bus_name(void)
{
	const char *a = getenv("BITNET_BUS_ADDRESS");

	return a && a[0] ? a : "the system bus";
}

int run_attach_setup(const char *name, struct bn_load_opts *load, char *err, size_t errlen)
{
	struct bitnet_model_info info = { 0 };
	struct bitnet_client *c;
	int fd = -1, r;

	r = bitnet_client_new_default(&c);
	if (r < 0) {
		snprintf(err, errlen, "--attach: cannot reach bitnetd on %s: %s", bus_name(),
			 bitnet_client_connect_error());
		return r;
	}
	r = bitnet_model_share_weights(c, name, &fd);
	if (r < 0) {
		snprintf(err, errlen, "--attach: bitnetd's model '%s': %s", name,
			 bitnet_client_last_error(c));
	} else if (!bitnet_get_model_info(c, name, &info)) {
		snprintf(daemon_file, sizeof(daemon_file), "%s", info.file);
		bitnet_model_info_clear(&info);
	}
	bitnet_client_free(c);
	if (r < 0)
		return r;
	load->backend = BN_BACKEND_KMOD;
	load->attach = true;
	load->attach_sock = fd;
	return 0;
}

void run_attach_done(struct bn_load_opts *load, int rc, char *err, size_t errlen)
{
	size_t n = strlen(err);

	if (load->attach)
		close(load->attach_sock);
	load->attach = false;
	if (rc == -ESTALE && daemon_file[0] && n < errlen)
		snprintf(err + n, errlen - n, " (bitnetd loaded %s)", daemon_file);
}
