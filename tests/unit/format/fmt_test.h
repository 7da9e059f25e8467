/* SPDX-License-Identifier: GPL-2.0 */
/* Reference-data paths for the format tests. */
#ifndef BITNET_FMT_TEST_H
#define BITNET_FMT_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tap.h"

/* $SRC/../shared/<rel>, or ../shared/<rel> from the repo root. */
static inline const char *shared_path(const char *rel, char *buf, size_t len)
{
	const char *src = getenv("SRC");

	snprintf(buf, len, "%s/../shared/%s", src && *src ? src : ".", rel);
	return buf;
}

static inline bool file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Reads a whole file; NUL-terminated; NULL on error. */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END))
		goto out;
	n = ftell(fp);
	if (n < 0 || fseek(fp, 0, SEEK_SET))
		goto out;
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
out:
	fclose(fp);
	return buf;
}

#endif /* BITNET_FMT_TEST_H */
