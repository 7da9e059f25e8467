/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service's named D-Bus errors (bus-names.h) mapped to errno values.
 */
#ifndef BITNETD_ERRORS_H
#define BITNETD_ERRORS_H

void bnetd_errors_register(void);

#endif /* BITNETD_ERRORS_H */
