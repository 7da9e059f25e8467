#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bitnet-httpd's units: the service's systemd-analyze offline exposure is at
# most 2.0, the socket listens on loopback only by default, and
# systemd-analyze verify finds nothing wrong in the pair.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
svc=$SRC/data/systemd/bitnet-httpd.service
sock=$SRC/data/systemd/bitnet-httpd.socket

if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP systemd-analyze not installed"
	exit 0
fi
echo "1..4"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify wants the ExecStart binary to exist: a stand-in; no man page lookups.
sed "s|^ExecStart=[^ ]*|ExecStart=/bin/true|" "$svc" >"$tmp/bitnet-httpd.service"
cp "$sock" "$tmp/bitnet-httpd.socket"
out=$(systemd-analyze security --offline=yes --no-pager "$tmp/bitnet-httpd.service" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "# exposure: ${score:-none}"
if [ -n "$score" ]; then
	echo "ok 1 - systemd-analyze security scores bitnet-httpd.service"
else
	echo "not ok 1 - systemd-analyze security scores bitnet-httpd.service"
	printf '%s\n' "$out" | sed 's/^/#   /' | tail -20
fi
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	echo "ok 2 - exposure $score <= 2.0"
else
	echo "not ok 2 - exposure ${score:-?} <= 2.0"
fi
listen=$(sed -n 's/^ListenStream=//p' "$sock")
if [ "$listen" = 127.0.0.1:8080 ]; then
	echo "ok 3 - the socket listens on 127.0.0.1:8080 only"
else
	echo "not ok 3 - the socket listens on 127.0.0.1:8080 only"
	echo "#   ListenStream: $listen"
fi
if vout=$(cd "$tmp" && systemd-analyze verify --man=no bitnet-httpd.socket \
	bitnet-httpd.service 2>&1) && ! printf '%s\n' "$vout" | grep -q 'bitnet-httpd\.'; then
	echo "ok 4 - systemd-analyze verify finds nothing wrong in the units"
else
	echo "not ok 4 - systemd-analyze verify finds nothing wrong in the units"
	printf '%s\n' "$vout" | sed 's/^/#   /'
fi
