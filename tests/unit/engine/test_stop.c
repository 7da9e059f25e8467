// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of stop-string matching on streamed text (TAP).
 */
#include <stdio.h>
#include <string.h>

#include "daemon/engine/gen/stop.h"
#include "tests/tap.h"

/* Streams @pieces through the matcher; returns what a client would see. */
static void stream(const char *const *stops, size_t n, const char *const *pieces, char *seen,
		   int *hit)
{
	struct bn_stop st;
	size_t i;

	seen[0] = '\0';
	bn_stop_init(&st, stops, n);
	for (i = 0; pieces[i] && !st.hit; i++) {
		size_t end;

		bn_stop_append(&st, pieces[i], strlen(pieces[i]));
		end = bn_stop_releasable(&st, false);
		strncat(seen, st.text + st.released, end - st.released);
		st.released = end;
	}
	strncat(seen, st.text + st.released, bn_stop_releasable(&st, true) - st.released);
	*hit = st.hit;
	bn_stop_free(&st);
}

int main(void)
{
	const char *const stops[] = { "\n\n", "END" };
	const char *const a[] = { "Hello", " wor", "ld\n", "\nmore", NULL };
	const char *const b[] = { "E", "N", "X", " E", "ND", "after", NULL };
	const char *const c[] = { "no stop", " here\n", NULL };
	const char *const e[] = { "xEN", "Dy", NULL };
	struct bn_stop st;
	char seen[256];
	int hit;

	printf("1..7\n");
	stream(stops, 2, a, seen, &hit);
	tap_ok(hit && !strcmp(seen, "Hello world"), "stop split across tokens cuts before it");
	stream(stops, 2, b, seen, &hit);
	tap_ok(hit && !strcmp(seen, "ENX "), "a broken partial match is released");
	stream(stops, 2, c, seen, &hit);
	tap_ok(!hit && !strcmp(seen, "no stop here\n"), "held-back tail released at the end");
	stream(stops, 2, e, seen, &hit);
	tap_ok(hit && !strcmp(seen, "x"), "stop inside one piece");
	stream(NULL, 0, c, seen, &hit);
	tap_ok(!hit && !strcmp(seen, "no stop here\n"), "no stop strings: everything passes");

	bn_stop_init(&st, stops, 2);
	bn_stop_append(&st, "abcE", 4);
	tap_ok(bn_stop_releasable(&st, false) == 3, "only a possible stop prefix is held back");
	bn_stop_append(&st, "N", 1);
	tap_ok(bn_stop_releasable(&st, false) == 3 && !st.hit, "longer prefix still held");
	bn_stop_free(&st);
	return tap_exit();
}
