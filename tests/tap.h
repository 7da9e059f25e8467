/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output for every C test of the tree: numbered results, skips with their
 * reason, the plan and the exit status. One translation unit per test
 * program uses it (the counters are static).
 */
#ifndef BITNET_TESTS_TAP_H
#define BITNET_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
}

/* The description stays one TAP line: newlines in it are printed as \n. */
static inline void tap_vline(const char *fmt, va_list ap)
{
	char *msg = NULL;
	const char *p;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	for (p = msg ? msg : fmt; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	free(msg);
}

static inline __attribute__((format(printf, 2, 3))) bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	tap_vline(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* A test that cannot be made here: "ok N - what # SKIP why". */
static inline __attribute__((format(printf, 2, 3))) void tap_skip(const char *why, const char *fmt,
								  ...)
{
	va_list ap;

	printf("ok %d - ", ++tap_n);
	va_start(ap, fmt);
	tap_vline(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

static inline int tap_exit(void)
{
	return tap_failed ? 1 : 0;
}

#endif /* BITNET_TESTS_TAP_H */
