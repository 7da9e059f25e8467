#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bitnetd's files include each other in layers, never in a circle: the
# graph of `#include "daemon/bitnetd/X.h"` lines, with x.c and x.h one node
# "x", must be a DAG (tsort orders it). A circle prints `not ok` with the
# circle found. The check is first run on two throwaway trees, one with a
# circle and one without, so a check that cannot fail fails here.
# The engine's parts (daemon/engine/*/) are checked the same way, one node
# per part, and no part's private header (*_priv.h, *_internal.h) may be
# included from outside its folder.
#
#   run-include-graph.sh [DIR]	TAP; DIR defaults to daemon/bitnetd
set -u
cd "$(dirname "$0")/../.." || exit 1

if ! command -v tsort >/dev/null; then
	echo "1..0 # SKIP tsort (coreutils) not installed"
	exit 0
fi

# "includer included" per line, node names (basename without .c/.h).
edges() {
	local dir=$1 f node inc

	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		node=$(basename "$f")
		node=${node%.[ch]}
		echo "$node $node"	# a node even without edges
		sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"daemon/bitnetd/\([^"]*\)\.h".*|\1|p' \
			"$f" | while read -r inc; do
			[ "$inc" = "$node" ] || echo "$node $inc"
		done
	done
}

# Prints the circle ("a -> b -> a") and fails, or prints the order.
check() {
	local out err

	err=$(edges "$1" | tsort 2>&1 >/dev/null)
	if [ -n "$err" ]; then
		# tsort reports each loop it breaks: show the first
		echo "$err" | awk '/input contains a loop/ { if (f) exit; next }
			/^tsort: [^ ]+$/ { c = c $2 " -> "; if (!f) f = $2 }
			END { print c f }'
		return 1
	fi
	edges "$1" | tsort | tr '\n' ' '
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..7"

# A circle of three through .c and .h files, beside a leaf.
mkdir "$tmp/circle" "$tmp/dag"
printf '#include "daemon/bitnetd/b.h"\n' >"$tmp/circle/a.c"
printf '#include "daemon/bitnetd/c.h"\n' >"$tmp/circle/b.h"
printf '#include "daemon/bitnetd/a.h"\n#include "daemon/bitnetd/leaf.h"\n' >"$tmp/circle/c.c"
printf '#include <stdio.h>\n' >"$tmp/circle/leaf.h"
if out=$(check "$tmp/circle"); then
	echo "not ok 1 - self-test: a circle a -> b -> c -> a is found (it was not: $out)"
else
	case " $out " in
	*" a "*" b "*|*" b "*" a "*) ok=1 ;;
	*) ok=0 ;;
	esac
	if [ $ok = 1 ] && echo "$out" | grep -q c && ! echo "$out" | grep -q leaf; then
		echo "ok 1 - self-test: a circle is found: $out"
	else
		echo "not ok 1 - self-test: the circle found is not a -> b -> c: $out"
	fi
fi

# The same files with the back edge removed.
cp "$tmp/circle"/* "$tmp/dag/"
printf '#include "daemon/bitnetd/leaf.h"\n' >"$tmp/dag/c.c"
if out=$(check "$tmp/dag"); then
	echo "ok 2 - self-test: a tree without a circle passes ($out)"
else
	echo "not ok 2 - self-test: a tree without a circle fails: $out"
fi

dir=${1:-daemon/bitnetd}
if out=$(check "$dir"); then
	echo "ok 3 - $dir: the include graph has no circle"
	echo "# includers first: $out"
else
	echo "not ok 3 - $dir: include circle $out"
fi

# The daemon reaches the device only through the engine (daemon/engine/engine.h).
bad=$(grep -l '#[[:space:]]*include[[:space:]]*"libdev/' "$dir"/*.[ch] 2>/dev/null | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "ok 4 - $dir: no libdev header is included"
else
	echo "not ok 4 - $dir: libdev included by $bad"
fi

# Bus files on top: only main.c and the *-bus.c files include a *-bus.h.
bad=$(grep -l '#[[:space:]]*include[[:space:]]*"daemon/bitnetd/[^"]*-bus\.h"' "$dir"/*.[ch] \
	2>/dev/null | grep -vE '/(main|[^/]*-bus)\.[ch]$' | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "ok 5 - $dir: only main.c and the *-bus.c files include a *-bus.h"
else
	echo "not ok 5 - $dir: a *-bus.h included below the bus layer by $bad"
fi

# The engine's parts: "includer part, included part" for every include of a
# header in another part.
part_edges() {
	local d part inc

	for d in daemon/engine/*/; do
		part=$(basename "$d")
		echo "$part $part"
		sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"daemon/engine/\([^/"]*\)/.*|\1|p' \
			"$d"*.[ch] 2>/dev/null | sort -u | while read -r inc; do
			[ "$inc" = "$part" ] || echo "$part $inc"
		done
	done
}

if err=$(part_edges | tsort 2>&1 >/dev/null) && [ -z "$err" ]; then
	echo "ok 6 - daemon/engine: the parts include each other without a circle"
	echo "# includers first: $(part_edges | tsort | tr '\n' ' ')"
else
	echo "not ok 6 - daemon/engine: the parts include each other in a circle: $err"
fi

# A part's private header stays in its folder.
bad=$(grep -rnE --include='*.[ch]' --exclude-dir=.git --exclude-dir=build \
	'#[[:space:]]*include[[:space:]]*"daemon/engine/[^/"]+/[^/"]*_(priv|internal)\.h"' . |
	awk -F: '{ f = substr($1, 3); match($0, /"daemon\/engine\/[^\/"]+\//)
		if (index(f, substr($0, RSTART + 1, RLENGTH - 1)) != 1) print f }' |
	sort -u | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "ok 7 - daemon/engine: no part's private header is included from outside it"
else
	echo "not ok 7 - daemon/engine: a part's private header is included by $bad"
fi
