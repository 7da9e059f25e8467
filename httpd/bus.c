// SPDX-License-Identifier: GPL-2.0
/* The D-Bus side: one libbitnet-client handle per HTTP request. */
#include <bitnet-client.h>

#include "httpd/httpd.h"

int httpd_connect(struct bitnet_client **out)
{
	if (httpd_cfg.bus)
		return bitnet_client_new_address(out, httpd_cfg.bus);
	return bitnet_client_new_default(out);
}
