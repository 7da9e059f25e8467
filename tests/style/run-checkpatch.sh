#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: the kernel's checkpatch.pl (normal strictness, 100 columns) over
# every .c/.h under kmod/ and uapi/, one result per file; an ERROR or a
# WARNING fails the file and is quoted. The script comes from Debian's
# linux-source-6.12 tarball via `make ksft-headers` ($BUILD/checkpatch).
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
checkpatch=${CHECKPATCH:-$BUILD/checkpatch/checkpatch.pl}

if [ ! -f "$checkpatch" ]; then
	echo "1..0 # SKIP $checkpatch missing (make ksft-headers; linux-source-6.12 from make deps)"
	exit 0
fi
cd "$SRC" || exit 1
files=$(find kmod uapi -name '*.[ch]' 2>/dev/null | sort)
[ -n "$files" ] || { echo "1..0 # SKIP no files under kmod/ or uapi/"; exit 0; }

# One checkpatch process for all files (its start-up dominates otherwise);
# --terse lines start with the file name they are about.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086
perl "$checkpatch" --no-tree -f --terse --show-types --no-summary --max-line-length=100 \
	$files >"$out" 2>&1
if ! grep -qE '^[^ ]+:[0-9]+: (ERROR|WARNING):' "$out" && [ -s "$out" ]; then
	echo "1..1"
	echo "not ok 1 - checkpatch ran: $(head -1 "$out")"
	exit 1
fi

n=0
failed=0
for f in $files; do
	n=$((n + 1))
	found=$(grep -E "^$f:[0-9]+: (ERROR|WARNING):" "$out")
	if [ -z "$found" ]; then
		echo "ok $n - checkpatch $f"
	else
		summary=$(grep -oE '(ERROR|WARNING):[A-Z_]+' <<<"$found" | sort | uniq -c |
			awk '{ printf "%s%s x%d", sep, $2, $1; sep = ", " }')
		echo "not ok $n - checkpatch $f: $summary"
		head -12 <<<"$found" | sed 's/^/#   /'
		failed=1
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
