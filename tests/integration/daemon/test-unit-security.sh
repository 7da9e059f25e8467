#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sandbox of data/systemd/bitnetd.service: systemd-analyze's offline
# exposure score must be at most 2.0; also checks the unit's syntax.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
unit=$SRC/data/systemd/bitnetd.service

if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP systemd-analyze not installed"
	exit 0
fi
echo "1..3"
out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "# exposure: ${score:-none}"
if [ -n "$score" ]; then
	echo "ok 1 - systemd-analyze security scores the unit"
else
	echo "not ok 1 - systemd-analyze security scores the unit"
	printf '%s\n' "$out" | sed 's/^/#   /' | tail -20
fi
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	echo "ok 2 - exposure $score <= 2.0"
else
	echo "not ok 2 - exposure ${score:-?} <= 2.0"
fi
# verify wants the ExecStart binary to exist: point it at a stand-in
tmp=$(mktemp -d)
sed "s|^ExecStart=.*|ExecStart=/bin/true|" "$unit" >"$tmp/bitnetd.service"
if vout=$(systemd-analyze verify --man=no "$tmp/bitnetd.service" 2>&1) &&
   ! printf '%s\n' "$vout" | grep -q 'bitnetd.service:'; then
	echo "ok 3 - systemd-analyze verify finds nothing wrong in the unit"
else
	echo "not ok 3 - systemd-analyze verify finds nothing wrong in the unit"
	printf '%s\n' "$vout" | sed 's/^/#   /'
fi
rm -rf "$tmp"
