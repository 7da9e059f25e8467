#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: uapi/linux/bitnet.h compiles on its own as strict C99 (and C++),
# has no implicit padding, and has the same hand-checked layout
# (uapi_layout.c) and ioctl numbers for x86-64 and i386 callers.
#
# Nothing built for i386 is ever executed: the layout table is read out of
# the compiled objects with objcopy, because many hosts (containers,
# microVMs, ia32_emulation=0) cannot run i386 binaries. The one program that
# does run is native and goes through $BITNET_TEST_EXEC, if set, so
# run-no-i386-exec-test.sh can run this whole test on a host made unable to
# execute anything but x86-64.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
OUT=${UAPI_OUT:-$BUILD/tests/uapi}
EXEC=${BITNET_TEST_EXEC:-}
mkdir -p "$OUT" || exit 1
TAP_LOG=$OUT/last.log
. "$SRC/tests/tap.sh"

header_only() {
	echo '#include <linux/bitnet.h>' |
		"$@" -I"$SRC/uapi" -fsyntax-only - >"$OUT/last.log" 2>&1
}

# "name value" per line from an object's .bitnet_layout{,_names} sections.
layout_of() {
	local obj=$1 names=$OUT/names.$$ values=$OUT/values.$$

	objcopy -O binary -j .bitnet_layout_names "$obj" "$names" &&
		objcopy -O binary -j .bitnet_layout "$obj" "$values" || return 1
	paste -d' ' <(tr '\0' '\n' <"$names" | sed '/^$/d') \
		<(od -An -v -tx8 "$values" | tr -s ' ' '\n' | sed '/^$/d')
	rm -f "$names" "$values"
}

# A table is whole when every name has a value and there is at least one.
whole() {
	[ -s "$1" ] && ! grep -vqE '^[A-Za-z_.][A-Za-z0-9_. ]* [0-9a-f]{16}$' "$1"
}

compile() {
	gcc -std=c11 -pedantic -Wall -Wextra -Werror -I"$SRC/uapi" "$@" \
		>"$OUT/last.log" 2>&1
}

# Only compiling for i386 is needed (gcc-multilib), never running.
m32=1
echo 'int x;' | gcc -m32 -x c -c -o "$OUT/m32-probe.o" - >/dev/null 2>&1 || m32=0
no_m32="gcc -m32 cannot compile (gcc-multilib missing)"

strict="-std=c99 -pedantic -Wall -Wextra -Werror -Wpadded"
header_only gcc -x c $strict
result $? "bitnet.h alone: C99 -pedantic -Wpadded, x86-64"
if [ "$m32" -eq 1 ]; then
	header_only gcc -x c -m32 $strict
	result $? "bitnet.h alone: C99 -pedantic -Wpadded, i386"
else
	skip "bitnet.h alone, i386" "$no_m32"
fi
header_only g++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror
result $? "bitnet.h alone: C++11 -pedantic"

for abi in 64 32; do
	if [ "$abi" -eq 32 ] && [ "$m32" -eq 0 ]; then
		skip "layout asserts, i386" "$no_m32"
		skip "layout table read from the i386 object" "$no_m32"
		continue
	fi
	compile -m$abi -c -o "$OUT/uapi_layout$abi.o" "$SRC/tests/uapi/uapi_layout.c"
	rc=$?
	result $rc "layout asserts (sizes, offsets), -m$abi"
	rc=1
	if [ -f "$OUT/uapi_layout$abi.o" ]; then
		layout_of "$OUT/uapi_layout$abi.o" >"$OUT/layout$abi.txt" 2>"$OUT/last.log" &&
			whole "$OUT/layout$abi.txt"
		rc=$?
	fi
	result $rc "layout table read from the -m$abi object ($(wc -l <"$OUT/layout$abi.txt" 2>/dev/null || echo 0) values)"
done

# The reading is checked against the native program printing the same table.
compile -o "$OUT/uapi_layout" "$SRC/tests/uapi/uapi_layout.c" &&
	$EXEC "$OUT/uapi_layout" >"$OUT/layout-run.txt" 2>"$OUT/last.log" &&
	diff "$OUT/layout-run.txt" "$OUT/layout64.txt" >"$OUT/last.log" 2>&1
result $? "objcopy's reading of the x86-64 object matches the running program"

if [ "$m32" -eq 1 ]; then
	diff "$OUT/layout64.txt" "$OUT/layout32.txt" >"$OUT/last.log" 2>&1
	result $? "x86-64 and i386 agree on sizes, offsets, ioctl numbers, mmap offsets"

	# The comparison must see a real i386 difference: a __u64 after a
	# __u32 is at 8 on x86-64 and at 4 on i386.
	rc=1
	for abi in 64 32; do
		compile -m$abi -DLAYOUT_CANARY -c -o "$OUT/canary$abi.o" \
			"$SRC/tests/uapi/uapi_layout.c" &&
			layout_of "$OUT/canary$abi.o" >"$OUT/canary$abi.txt" || break
	done
	if [ -s "$OUT/canary32.txt" ]; then
		diff "$OUT/canary64.txt" "$OUT/canary32.txt" >"$OUT/canary.diff"
		[ "$(grep -c '^[<>]' "$OUT/canary.diff")" -eq 2 ] &&
			grep -q '^< offsetof(struct layout_canary, b) 0000000000000008$' "$OUT/canary.diff" &&
			grep -q '^> offsetof(struct layout_canary, b) 0000000000000004$' "$OUT/canary.diff"
		rc=$?
		cp "$OUT/canary.diff" "$OUT/last.log"
	fi
	result $rc "the comparison sees i386's 4-byte __u64 alignment (canary)"
else
	skip "x86-64 and i386 agree" "$no_m32"
	skip "the comparison sees i386's alignment" "$no_m32"
fi
tap_end
