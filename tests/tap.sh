# SPDX-License-Identifier: GPL-2.0
#
# TAP for the shell tests (tests/tap.h is the C side), sourced:
#   result RC TEXT [LOG]  "ok N - TEXT" when RC is 0; else "not ok N - TEXT"
#                         and LOG (default $TAP_LOG, if set) quoted as
#                         "#   " lines
#   skip TEXT WHY         "ok N - TEXT # SKIP WHY"
#   tap_end               the plan "1..N", last; false when a result failed
n=0
failed=0

result() {
	local log=${3:-${TAP_LOG:-}}

	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -z "$log" ] || sed 's/^/#   /' "$log"
		failed=1
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
