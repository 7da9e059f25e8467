/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging: to the journal with structured fields (BITNET_MODEL,
 * BITNET_SESSION) when running under systemd, else to stderr.
 */
#ifndef BITNETD_LOG_H
#define BITNETD_LOG_H

#include <stdbool.h>
#include <syslog.h>

void bnetd_log_init(bool under_systemd);
void bnetd_log(int prio, const char *model, const char *session, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* BITNETD_LOG_H */
