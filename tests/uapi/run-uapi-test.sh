#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: uapi/linux/bitnet.h compiles on its own as strict C99 (and C++),
# has no implicit padding, and has the same hand-checked layout
# (uapi_layout.c) and ioctl numbers for x86-64 and i386 callers.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
OUT=$BUILD/tests/uapi
mkdir -p "$OUT" || exit 1
n=0
failed=0

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		sed 's/^/#   /' "$OUT/last.log"
		failed=1
	fi
}

header_only() {
	echo '#include <linux/bitnet.h>' |
		"$@" -I"$SRC/uapi" -fsyntax-only - >"$OUT/last.log" 2>&1
}

# -m32 needs gcc-multilib; without it the i386 half cannot be checked.
m32=1
echo 'int main(void) { return 0; }' |
	gcc -m32 -x c -o "$OUT/m32-probe" - >/dev/null 2>&1 || m32=0

strict="-std=c99 -pedantic -Wall -Wextra -Werror -Wpadded"
header_only gcc -x c $strict
result $? "bitnet.h alone: C99 -pedantic -Wpadded, x86-64"
if [ "$m32" -eq 1 ]; then
	header_only gcc -x c -m32 $strict
	result $? "bitnet.h alone: C99 -pedantic -Wpadded, i386"
else
	n=$((n + 1)); echo "ok $n - bitnet.h alone, i386 # SKIP gcc -m32 unusable (gcc-multilib)"
fi
header_only g++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror
result $? "bitnet.h alone: C++11 -pedantic"

for abi in 64 32; do
	if [ "$abi" -eq 32 ] && [ "$m32" -eq 0 ]; then
		n=$((n + 1)); echo "ok $n - layout asserts, i386 # SKIP gcc -m32 unusable"
		n=$((n + 1)); echo "ok $n - layout run, i386 # SKIP gcc -m32 unusable"
		continue
	fi
	gcc -m$abi -std=c11 -pedantic -Wall -Wextra -Werror -I"$SRC/uapi" \
		-o "$OUT/uapi_layout$abi" "$SRC/tests/uapi/uapi_layout.c" >"$OUT/last.log" 2>&1
	rc=$?
	result $rc "layout asserts (sizes, offsets), -m$abi"
	if [ "$rc" -eq 0 ]; then
		"$OUT/uapi_layout$abi" >"$OUT/layout$abi.txt" 2>"$OUT/last.log"
		result $? "layout program runs, -m$abi"
	else
		n=$((n + 1)); echo "not ok $n - layout program runs, -m$abi: not built"
		failed=1
	fi
done

if [ "$m32" -eq 1 ]; then
	diff "$OUT/layout64.txt" "$OUT/layout32.txt" >"$OUT/last.log" 2>&1
	result $? "x86-64 and i386 agree on sizes and ioctl numbers"
else
	n=$((n + 1)); echo "ok $n - x86-64 and i386 agree # SKIP gcc -m32 unusable"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
