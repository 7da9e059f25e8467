/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stop strings on detokenized text: generated text is appended, the part
 * that can no longer become the start of a stop string is released for
 * streaming, and a complete stop string ends the text just before it.
 */
#ifndef BITNETD_STOP_H
#define BITNETD_STOP_H

#include <stdbool.h>
#include <stddef.h>

struct bnetd_stop {
	char **stops; /* borrowed from the request's params */
	size_t n_stops;
	char *text; /* everything generated so far */
	size_t len, cap;
	size_t released; /* bytes already handed out */
	bool hit;	 /* text ends at a stop string (cut off) */
};

void bnetd_stop_init(struct bnetd_stop *st, char **stops, size_t n_stops);
void bnetd_stop_free(struct bnetd_stop *st);
/* Appends @len bytes; -ENOMEM on allocation failure. Sets st->hit. */
int bnetd_stop_append(struct bnetd_stop *st, const char *s, size_t len);
/* Bytes that may be released now (all of them when @final). */
size_t bnetd_stop_releasable(const struct bnetd_stop *st, bool final);

#endif /* BITNETD_STOP_H */
