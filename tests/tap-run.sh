#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs each test program given, passes its TAP through, and ends with one
# summary line "N passed, N failed, N skipped". A program that exits non-zero
# without reporting a failure, prints no result at all, or whose plan does not
# match the results it printed, counts as one failure: nothing is dropped
# silently. "1..0 # SKIP why" counts as one skipped test.
set -u
pass=0 fail=0 skip=0
failed_names=()

for prog in "$@"; do
	name=${prog#"${BUILD:-}/"}
	echo "# ---- $name"
	out=$(mktemp)
	"$prog" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(grep -Ec '^ok [0-9]+' "$out" | head -1)
	s=$(grep -Eic '^ok [0-9]+.*# *skip' "$out")
	f=$(grep -Ec '^not ok [0-9]+' "$out")
	p=$((p - s))
	plan=$(grep -Em1 '^1\.\.[0-9]+' "$out" | sed -E 's/^1\.\.([0-9]+).*/\1/')
	if grep -Eiq '^1\.\.0 *# *skip' "$out"; then
		s=$((s + 1))
	elif [ -n "$plan" ] && [ "$plan" -ne $((p + s + f)) ]; then
		echo "not ok - $name: planned $plan results, got $((p + s + f))"
		f=$((f + 1))
	fi
	if [ $((p + s + f)) -eq 0 ]; then
		echo "not ok - $name printed no result (exit $rc)"
		f=1
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited $rc"
		f=1
	fi
	[ "$f" -gt 0 ] && failed_names+=("$name")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	rm -f "$out"
done

[ ${#failed_names[@]} -gt 0 ] && echo "# failed: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
