// SPDX-License-Identifier: GPL-2.0
/*
 * Logging to the journal or to stderr (see log.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "daemon/bitnetd/log.h"

static bool use_journal;

void bnetd_log_init(bool under_systemd)
{
	use_journal = under_systemd;
}

void bnetd_log(int prio, const char *model, const char *session, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (use_journal) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=bitnetd",
				"BITNET_MODEL=%s", model ? model : "", "BITNET_SESSION=%s",
				session ? session : "", NULL);
		return;
	}
	fprintf(stderr, "bitnetd: <%d> %s%s%s\n", prio, model ? model : "", model ? ": " : "", msg);
}
