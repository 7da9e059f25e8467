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
. "$SRC/tests/tap.sh"
TAP_LOG=$tmp/out
model=$tmp/tiny.gguf
"$mk" --embd 256 --layers 2 --heads 4 --kv-heads 2 --ff 512 --vocab 4096 "$model" \
	>"$tmp/mk.log" 2>&1
for p in 1 8 18; do
	"$bench" e2e --model "$model" --no-baseline --prompt $p --gen 4 --reps 1 --threads 1 \
		>"$tmp/out" 2>&1 && ! grep -q failed "$tmp/out" && grep -q '^I2_S ternary' "$tmp/out"
	result $? "e2e --prompt $p completes, no run failed"
done

rows() { grep -cE '^ +[0-9]+ +[0-9.]+ +[0-9.]+ ' "$1"; }

"$bench" serve --engine-only --model "$model" --sessions 1,3,8 --tokens 4 --prompt 5 --reps 1 \
	--threads 1 >"$tmp/out" 2>&1 && [ "$(rows "$tmp/out")" -eq 3 ]
result $? "serve --engine-only prints a row per B"

"$bench" head --rounds 1 --cached --tokens 1-3 --threads 1 >"$tmp/out" 2>&1 &&
	[ "$(rows "$tmp/out")" -eq 3 ]
result $? "head --cached prints a row per B"

if [ ! -x "$BUILD/bin/bitnetd" ] || ! command -v dbus-daemon >/dev/null ||
   ! /usr/bin/python3 -c 'import dbus, gi' 2>/dev/null; then
	skip "serve through bitnetd" "bitnetd, dbus-daemon or python3-dbus missing"
	skip "serve --long-prompt" "bitnetd, dbus-daemon or python3-dbus missing"
	tap_end
	exit
fi
SRC=$SRC BUILD=$BUILD "$bench" serve --both --model "$model" --sessions 1,2 --tokens 4 \
	--prompt 5 --reps 1 --threads 1 >"$tmp/out" 2>&1 && [ "$(rows "$tmp/out")" -eq 4 ] &&
	grep -q 'the daemon adds' "$tmp/out"
result $? "serve through bitnetd and the engine prints both tables"
# B = 2's ratio to a one-session run just before it, in both tables
[ "$(awk '$1 == 2 && $11 > 0 { n++ } END { print n + 0 }' "$tmp/out")" -eq 2 ]
result $? "serve: both tables give B = 2's ratio to the one-session run beside it"
# the in-order ceiling: two sessions' is above one's, below twice it
[ "$(awk '$1 == 2 && $16 > 1 && $16 <= 2 { n++ } END { print n + 0 }' "$tmp/out")" -eq 2 ]
result $? "serve: both tables give B = 2's ceiling over one session's, in (1, 2]"
# the daemon's prompts are fitted to --prompt tokens, as the engine's are
grep -qE 'one client per session: 4 tokens per session, prompts of [5-9][-0-9]* tokens' "$tmp/out"
result $? "serve: the daemon's prompts have at least --prompt tokens, and few more"
SRC=$SRC BUILD=$BUILD "$bench" serve --model "$model" --sessions 1 --tokens 6 --prompt 5 \
	--reps 1 --threads 1 --long-prompt 40 --prefill-chunk 8 >"$tmp/out" 2>&1 &&
	grep -qE '^ +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ ' "$tmp/out"
result $? "serve --long-prompt prints chunked and whole-prompt figures"
tap_end
