#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sandbox of data/systemd/bitnetd.service: systemd-analyze's offline
# exposure score must be at most 2.0; also checks the unit's syntax.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/tap.sh"
. "$SRC/tests/integration/units.sh"
unit=$SRC/data/systemd/bitnetd.service

units_need_analyze
echo "1..3"
unit_exposure "$unit"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=.*|ExecStart=/bin/true|" "$unit" >"$tmp/bitnetd.service"
units_verify "$tmp" bitnetd.service
[ "$failed" -eq 0 ]
