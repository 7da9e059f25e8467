#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bitnet-httpd's units: the service's systemd-analyze offline exposure is at
# most 2.0, the socket listens on loopback only by default, and
# systemd-analyze verify finds nothing wrong in the pair.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/tap.sh"
. "$SRC/tests/integration/units.sh"
svc=$SRC/data/systemd/bitnet-httpd.service
sock=$SRC/data/systemd/bitnet-httpd.socket

units_need_analyze
echo "1..4"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=/bin/true|" "$svc" >"$tmp/bitnet-httpd.service"
cp "$sock" "$tmp/bitnet-httpd.socket"
unit_exposure "$tmp/bitnet-httpd.service"
listen=$(sed -n 's/^ListenStream=//p' "$sock")
[ "$listen" = 127.0.0.1:8080 ]
result $? "the socket listens on 127.0.0.1:8080 only" <(echo "ListenStream: $listen")
units_verify "$tmp" bitnet-httpd.socket bitnet-httpd.service
[ "$failed" -eq 0 ]
