#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bitnet-bench runs to the end on a tiny model from bitnet-mkmodel: e2e with
# short prompts (prompts under 19 tokens used to read past their end in the
# batched run, and every run was "(failed)"), serve on the engine alone and
# through bitnetd on a private bus, and the int8 head alone. Only that they
# complete and print their tables is checked: no figure is asserted.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/integration/bench/bench-tools.sh"
model=$tmp/tiny.gguf
echo "1..7"
"$mk" --embd 256 --layers 2 --heads 4 --kv-heads 2 --ff 512 --vocab 4096 "$model" \
	>"$tmp/mk.log" 2>&1
n=0
for p in 1 8 18; do
	n=$((n + 1))
	"$bench" e2e --model "$model" --no-baseline --prompt $p --gen 4 --reps 1 --threads 1 \
		>"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q failed "$tmp/out" && grep -q '^I2_S ternary' "$tmp/out"; then
		echo "ok $n - e2e --prompt $p completes, no run failed"
	else
		echo "not ok $n - e2e --prompt $p completes, no run failed (exit $rc)"
		sed 's/^/#   /' "$tmp/out"
	fi
done

rows() { grep -cE '^ +[0-9]+ +[0-9.]+ +[0-9.]+ ' "$1"; }

"$bench" serve --engine-only --model "$model" --sessions 1,3,8 --tokens 4 --prompt 5 --reps 1 \
	--threads 1 >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(rows "$tmp/out")" -eq 3 ]; then
	echo "ok 4 - serve --engine-only prints a row per B"
else
	echo "not ok 4 - serve --engine-only prints a row per B (exit $rc)"
	sed 's/^/#   /' "$tmp/out"
fi

"$bench" head --rounds 1 --cached --tokens 1-3 --threads 1 >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(rows "$tmp/out")" -eq 3 ]; then
	echo "ok 5 - head --cached prints a row per B"
else
	echo "not ok 5 - head --cached prints a row per B (exit $rc)"
	sed 's/^/#   /' "$tmp/out"
fi

if [ ! -x "$BUILD/bin/bitnetd" ] || ! command -v dbus-daemon >/dev/null ||
   ! /usr/bin/python3 -c 'import dbus, gi' 2>/dev/null; then
	echo "ok 6 - serve through bitnetd # SKIP bitnetd, dbus-daemon or python3-dbus missing"
	echo "ok 7 - serve --long-prompt # SKIP bitnetd, dbus-daemon or python3-dbus missing"
	exit 0
fi
SRC=$SRC BUILD=$BUILD "$bench" serve --both --model "$model" --sessions 1,2 --tokens 4 \
	--prompt 5 --reps 1 --threads 1 >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(rows "$tmp/out")" -eq 4 ] && grep -q 'the daemon adds' "$tmp/out"; then
	echo "ok 6 - serve through bitnetd and the engine prints both tables"
else
	echo "not ok 6 - serve through bitnetd and the engine prints both tables (exit $rc)"
	sed 's/^/#   /' "$tmp/out"
fi
SRC=$SRC BUILD=$BUILD "$bench" serve --model "$model" --sessions 1 --tokens 6 --prompt 5 \
	--reps 1 --threads 1 --long-prompt 40 --prefill-chunk 8 >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -qE '^ +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ ' "$tmp/out"; then
	echo "ok 7 - serve --long-prompt prints chunked and whole-prompt figures"
else
	echo "not ok 7 - serve --long-prompt prints chunked and whole-prompt figures (exit $rc)"
	sed 's/^/#   /' "$tmp/out"
fi
