/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stop strings on detokenized text: generated text is appended, the part
 * that can no longer become the start of a stop string is released for
 * streaming, and a complete stop string ends the text just before it.
 */
#ifndef BITNET_ENGINE_GEN_STOP_H
#define BITNET_ENGINE_GEN_STOP_H

#include <stdbool.h>
#include <stddef.h>

struct bn_stop {
	const char *const *stops; /* borrowed from the caller */
	size_t n_stops;
	char *text; /* everything generated so far */
	size_t len, cap;
	size_t released; /* bytes already handed out */
	bool hit;	 /* text ends at a stop string (cut off) */
};

void bn_stop_init(struct bn_stop *st, const char *const *stops, size_t n_stops);
void bn_stop_free(struct bn_stop *st);
/* Appends @len bytes; -ENOMEM on allocation failure. Sets st->hit. */
int bn_stop_append(struct bn_stop *st, const char *s, size_t len);
/* Bytes that may be released now (all of them when @final). */
size_t bn_stop_releasable(const struct bn_stop *st, bool final);

#endif /* BITNET_ENGINE_GEN_STOP_H */
