#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The .clang-format gate for userspace C (everything but kmod/ and uapi/,
# whose style authority is the kernel's checkpatch, which keeps the kernel's
# tab-aligned tables that clang-format 14 cannot express).
#
#   run-clang-format.sh		TAP, one result per file (make check)
#   run-clang-format.sh --fix	rewrite the files in place (make format)
#
# Headers are formatted as C: clang-format 14 otherwise guesses some to be
# Objective-C, which .clang-format does not describe.
set -u
cd "$(dirname "$0")/../.." || exit 1
clang_format=${CLANG_FORMAT:-clang-format}

if ! command -v "$clang_format" >/dev/null; then
	echo "1..0 # SKIP $clang_format not installed (make deps)"
	exit 0
fi

files=$({ git ls-files --cached --others --exclude-standard -- '*.c' '*.h' 2>/dev/null ||
	  find . -name '*.[ch]' -not -path './build*' | sed 's|^\./||'; } |
	grep -vE '^(kmod|uapi)/' | sort -u)

formatted() {
	"$clang_format" --assume-filename=file.c <"$1"
}

if [ "${1:-}" = --fix ]; then
	for f in $files; do
		out=$(formatted "$f") && [ "$out" != "$(cat "$f")" ] &&
			printf '%s\n' "$out" >"$f" && echo "format: $f"
	done
	exit 0
fi

n=0
echo "1..$(wc -w <<<"$files")"
for f in $files; do
	n=$((n + 1))
	lines=$(formatted "$f" | diff "$f" - | grep -c '^<')
	if [ "$lines" -eq 0 ]; then
		echo "ok $n - clang-format $f"
	else
		echo "not ok $n - clang-format $f: $lines lines differ (make format)"
	fi
done
