# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the bench tests once SRC is set: $bench and $mk, the test
# skipped when either is not built, and $tmp, removed on exit.
BUILD=${BUILD:-$SRC/build}
bench=$BUILD/bin/bitnet-bench
mk=$BUILD/bin/bitnet-mkmodel

if [ ! -x "$bench" ] || [ ! -x "$mk" ]; then
	echo "1..0 # SKIP bitnet-bench or bitnet-mkmodel not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
