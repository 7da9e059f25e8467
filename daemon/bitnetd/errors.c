// SPDX-License-Identifier: GPL-2.0
/*
 * The service's named D-Bus errors and their errno values, so clients using
 * sd-bus get a meaningful errno and others a stable error name.
 */
#include <errno.h>

#include <systemd/sd-bus.h>

#include "daemon/bitnetd/bus-names.h"
#include "daemon/bitnetd/errors.h"

static const sd_bus_error_map bnetd_error_map[] = {
	SD_BUS_ERROR_MAP(BNETD_ERR_NO_SUCH_MODEL, ENOENT),
	SD_BUS_ERROR_MAP(BNETD_ERR_NO_SUCH_SESSION, ENOENT),
	SD_BUS_ERROR_MAP(BNETD_ERR_NO_SUCH_REQUEST, ESRCH),
	SD_BUS_ERROR_MAP(BNETD_ERR_MODEL_BUSY, EBUSY),
	SD_BUS_ERROR_MAP(BNETD_ERR_LOAD_FAILED, EBADMSG),
	SD_BUS_ERROR_MAP(BNETD_ERR_QUEUE_FULL, EAGAIN),
	SD_BUS_ERROR_MAP(BNETD_ERR_QUOTA, EDQUOT),
	SD_BUS_ERROR_MAP(BNETD_ERR_CONTEXT_FULL, ENOSPC),
	SD_BUS_ERROR_MAP(BNETD_ERR_NO_MEMORY, ENOMEM),
	SD_BUS_ERROR_MAP(BNETD_ERR_NOT_ON_DEVICE, ENODEV),
	SD_BUS_ERROR_MAP_END
};

void bnetd_errors_register(void)
{
	sd_bus_error_add_map(bnetd_error_map);
}
