# SPDX-License-Identifier: GPL-2.0
#
# Checks of systemd units for the units' TAP tests, sourced after
# tests/tap.sh. Each needs systemd-analyze (units_need_analyze skips the
# whole test without it).

units_need_analyze() {
	if ! command -v systemd-analyze >/dev/null; then
		echo "1..0 # SKIP systemd-analyze not installed"
		exit 0
	fi
}

# unit_exposure UNIT-FILE: two results, systemd-analyze security scores the
# unit offline, and the score is at most 2.0.
unit_exposure() {
	local name out score

	name=$(basename "$1")
	out=$(systemd-analyze security --offline=yes --no-pager "$1" 2>&1)
	score=$(printf '%s\n' "$out" |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# exposure: ${score:-none}"
	[ -n "$score" ]
	result $? "systemd-analyze security scores $name" <(printf '%s\n' "$out" | tail -20)
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
	result $? "exposure ${score:-?} <= 2.0" /dev/null
}

# units_verify DIR UNIT...: one result, systemd-analyze verify (in DIR, no
# man page lookups) says nothing about the units. verify wants each
# ExecStart binary to exist: point them at a stand-in first.
units_verify() {
	local dir=$1 out rc u

	shift
	out=$(cd "$dir" && systemd-analyze verify --man=no "$@" 2>&1)
	rc=$?
	for u in "$@"; do
		printf '%s\n' "$out" | grep -qF "$u" && rc=1
	done
	result $rc "systemd-analyze verify finds nothing wrong in $*" <(printf '%s\n' "$out")
}
