#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: libbitnet-client.so exports exactly what bitnet-client.h declares,
# each through the version script's explicit list: nothing internal leaks
# into the ABI and no declared function is missing from it.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
OUT=$BUILD/tests/unit/client
SO=$BUILD/lib/libbitnet-client.so
mkdir -p "$OUT" || exit 1
TAP_LOG=$OUT/last.log
. "$SRC/tests/tap.sh"

# Functions the header declares, as the compiler sees them (-aux-info).
echo '#include "bitnet-client.h"' |
	gcc -I"$SRC/libclient/include" -x c -fsyntax-only -aux-info "$OUT/aux.txt" - \
		>"$OUT/last.log" 2>&1 &&
	grep 'bitnet-client\.h:' "$OUT/aux.txt" | grep -oE '\bbitnet_[a-z0-9_]+ \(' |
	sed 's/ ($//' | sort -u >"$OUT/header.txt" && [ -s "$OUT/header.txt" ]
result $? "bitnet-client.h declares $(wc -l <"$OUT/header.txt" 2>/dev/null) functions"

sed -n '/^global:/,/^local:/p' "$SRC/libclient/libbitnet-client.sym" |
	grep -oE '^[[:space:]]*[a-z_0-9]+;' | tr -d ' \t;' | sort -u >"$OUT/script.txt"
diff "$OUT/header.txt" "$OUT/script.txt" >"$OUT/last.log" 2>&1
result $? "the version script lists exactly those (no wildcard)"

nm -D --defined-only "$SO" >"$OUT/nm.txt" 2>"$OUT/last.log" &&
	awk '$2 != "A" { print $3 }' "$OUT/nm.txt" | sed 's/@.*//' | sort -u >"$OUT/exports.txt"
diff "$OUT/header.txt" "$OUT/exports.txt" >"$OUT/last.log" 2>&1
result $? "the shared library exports exactly those, nothing else"

! awk '$2 != "A" && $3 !~ /@@LIBBITNET_CLIENT_[0-9.]+$/' "$OUT/nm.txt" | grep . >"$OUT/last.log"
result $? "every export carries a LIBBITNET_CLIENT_ version"
tap_end
