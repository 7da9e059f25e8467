#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Negative self-test of the VM harness, a TAP program: on one kernel it runs
# tests/vm/run-vm-tests.sh over a module that hits WARN_ON at load and a
# kselftest that fails and one that hangs, and checks the harness goes red for each reason
# (so a broken bitnet.ko would turn `make check` red too). Then, as a
# control, the same module with warn=0 and only passing/skipping programs
# must come out green, and with bug=1 (an oops in insmod) red again.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
HERE=$SRC/tests/vm/selftest
WORK=$BUILD/vm-selftest
kernel=${VM_SELFTEST_KERNEL:-$("$SRC/tests/vm/kernels.sh" | head -1)}
[ -n "$kernel" ] || { echo "1..0 # SKIP no kernel release known (make deps)"; exit 0; }

rm -rf "$WORK" && mkdir -p "$WORK/bad" "$WORK/good" "$WORK/oops" || exit 1
for prog in ksft_fails ksft_hangs ksft_passes ksft_skips; do
	if ! gcc -static -O2 -Wall -Werror -o "$WORK/bad/$prog" "$HERE/$prog.c"; then
		echo "1..1"
		echo "not ok 1 - build $prog"
		exit 1
	fi
done
cp "$WORK/bad/ksft_passes" "$WORK/bad/ksft_skips" "$WORK/good/"
cp "$WORK/bad/ksft_passes" "$WORK/oops/"

harness() {
	VM_KSFT_TIMEOUT=3 VM_KERNELS=$kernel VM_KBUILD_DIR=$HERE VM_JOBS=1 \
		BUILD=$WORK/$1-build SRC=$SRC VM_KSFT_BIN=$WORK/$1 VM_INSMOD_ARGS=$2 \
		"$SRC/tests/vm/run-vm-tests.sh" >"$WORK/$1.tap" 2>&1
	echo $? >"$WORK/$1.rc"
}

# Both runs share the kernel image cache with the real harness.
export VM_CACHE=${VM_CACHE:-$BUILD/vm-cache}
# The three runs are independent: let them share the cores.
harness bad warn=1 &
harness good warn=0 &
harness oops "warn=0 bug=1" &
wait
if grep -q '^1\.\.0 # SKIP' "$WORK/bad.tap"; then
	sed -n 's/^1\.\.0 # SKIP/1..0 # SKIP harness cannot run:/p' "$WORK/bad.tap"
	exit 0
fi

n=0
failed=0
check() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		failed=1
	fi
}
bad=$WORK/bad.tap
check "harness exits non-zero on a bad module" '[ "$(cat "$WORK/bad.rc")" -ne 0 ]'
check "a failing kselftest is reported not ok" \
	'grep -q "^not ok [0-9]* - $kernel: ksft:ksft_fails" "$bad"'
check "WARN_ON at load fails 'kernel log clean'" \
	'grep -q "^not ok [0-9]* - $kernel: kernel log clean: .*cut here" "$bad"'
check "the W taint is reported not ok" 'grep -q "^not ok [0-9]* - $kernel: taint" "$bad"'
check "a hanging kselftest is killed and reported not ok" \
	'grep -q "^not ok [0-9]* - $kernel: ksft:ksft_hangs: killed after 3s" "$bad"'
check "a passing kselftest stays ok next to the failures" \
	'grep -q "^ok [0-9]* - $kernel: ksft:ksft_passes$" "$bad"'
check "exit 4 is reported as SKIP" \
	'grep -q "^ok [0-9]* - $kernel: ksft:ksft_skips # SKIP" "$bad"'
check "an oops at load fails insmod, kernel log clean and the run" \
	'[ "$(cat "$WORK/oops.rc")" -ne 0 ] &&
	 grep -q "^not ok [0-9]* - $kernel: insmod" "$WORK/oops.tap" &&
	 grep -Eq "^not ok [0-9]* - $kernel: kernel log clean: .*(BUG|Oops|cut)" "$WORK/oops.tap"'
check "control: a clean module and passing kselftests give exit 0" \
	'[ "$(cat "$WORK/good.rc")" -eq 0 ] && ! grep -q "^not ok" "$WORK/good.tap"'
echo "1..$n"
if [ "$failed" -ne 0 ]; then
	for run in bad good oops; do
		echo "# harness output, $run run:"
		sed 's/^/#   /' "$WORK/$run.tap"
	done
fi
[ "$failed" -eq 0 ]
