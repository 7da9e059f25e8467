#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: the uapi layout test passes, i386 comparison included, on a host
# that cannot execute i386 binaries. Such a host is made here, whatever the
# real one can do: every program the uapi test runs goes through
# refuse-foreign-exec.sh, and no i386 executable may even be produced.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
OUT=$BUILD/tests/uapi-no-i386
WRAP=$SRC/tests/uapi/refuse-foreign-exec.sh
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
TAP_LOG=$OUT/last.log
. "$SRC/tests/tap.sh"

# The wrapper itself: it refuses an i386 ELF and lets x86-64 through.
# (An ELF header is enough for it; the file is never really run.)
printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\003\000' \
	>"$OUT/i386-elf" && chmod +x "$OUT/i386-elf"
"$WRAP" "$OUT/i386-elf" >"$OUT/last.log" 2>&1
rc=$?
[ "$rc" -eq 126 ] && grep -q 'Exec format error' "$OUT/last.log"
result $? "the wrapper refuses an i386 ELF like a host without IA32 emulation (exit $rc)"
"$WRAP" /bin/true >"$OUT/last.log" 2>&1
result $? "the wrapper runs an x86-64 program"

BITNET_TEST_EXEC=$WRAP UAPI_OUT=$OUT/run SRC=$SRC BUILD=$BUILD \
	"$SRC/tests/uapi/run-uapi-test.sh" >"$OUT/uapi.tap" 2>&1
rc=$?
cp "$OUT/uapi.tap" "$OUT/last.log"
[ "$rc" -eq 0 ] && ! grep -q '^not ok' "$OUT/uapi.tap"
result $? "run-uapi-test.sh passes with i386 execution refused"
grep -Eq '^ok [0-9]+ - x86-64 and i386 agree on ' "$OUT/uapi.tap" &&
	! grep -Eq '^ok [0-9]+ - x86-64 and i386 agree.*# SKIP' "$OUT/uapi.tap"
result $? "the x86-64 vs i386 comparison was made, not skipped"

# No i386 executable anywhere in what it built: objects only.
: >"$OUT/last.log"
for f in "$OUT"/run/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	h=$(od -An -tx1 -N5 "$f" | tr -d ' \n')
	[ "$h" = 7f454c4601 ] && echo "$f is an i386 executable" >>"$OUT/last.log"
done
[ ! -s "$OUT/last.log" ]
result $? "no i386 executable was produced"
tap_end
