// SPDX-License-Identifier: GPL-2.0
/*
 * Stop-string matching over streamed text. Only the tail that could still
 * grow into a stop string is held back, so streaming is delayed by at most
 * (longest stop string - 1) bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gen/stop.h"

void bn_stop_init(struct bn_stop *st, const char *const *stops, size_t n_stops)
{
	memset(st, 0, sizeof(*st));
	st->stops = stops;
	st->n_stops = n_stops;
}

void bn_stop_free(struct bn_stop *st)
{
	free(st->text);
	st->text = NULL;
	st->len = st->cap = st->released = 0;
}

static size_t longest_stop(const struct bn_stop *st)
{
	size_t m = 0;

	for (size_t i = 0; i < st->n_stops; i++)
		if (strlen(st->stops[i]) > m)
			m = strlen(st->stops[i]);
	return m;
}

int bn_stop_append(struct bn_stop *st, const char *s, size_t len)
{
	size_t from, maxs;

	if (st->hit)
		return 0;
	if (st->len + len + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 256;
		char *t;

		while (cap < st->len + len + 1)
			cap *= 2;
		t = realloc(st->text, cap);
		if (!t)
			return -ENOMEM;
		st->text = t;
		st->cap = cap;
	}
	memcpy(st->text + st->len, s, len);
	maxs = longest_stop(st);
	/* a new match must end inside the appended bytes */
	from = st->len + 1 > maxs ? st->len + 1 - maxs : 0;
	st->len += len;
	st->text[st->len] = '\0';
	for (size_t p = from; p < st->len; p++) {
		for (size_t i = 0; i < st->n_stops; i++) {
			size_t n = strlen(st->stops[i]);

			if (n && p + n <= st->len && !memcmp(st->text + p, st->stops[i], n)) {
				st->len = p;
				st->text[p] = '\0';
				st->hit = true;
				return 0;
			}
		}
	}
	return 0;
}

size_t bn_stop_releasable(const struct bn_stop *st, bool final)
{
	size_t keep = 0;

	if (final || st->hit)
		return st->len;
	/* longest suffix of the text that is a proper prefix of a stop string */
	for (size_t i = 0; i < st->n_stops; i++) {
		size_t n = strlen(st->stops[i]);

		for (size_t k = n > 0 ? n - 1 : 0; k > keep; k--) {
			if (k <= st->len && !memcmp(st->text + st->len - k, st->stops[i], k)) {
				keep = k;
				break;
			}
		}
	}
	return st->len - keep;
}
