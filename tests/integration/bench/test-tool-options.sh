#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The option tables of bitnet-mkmodel and bitnet-bench e2e/kernels/batch/head
# (tools/opts.c): --help exits 0 with the usage on stdout; an unknown option,
# a missing argument or a value out of range exits 2; every mkmodel option
# is taken, and the file is the same with --opt=VALUE as with --opt VALUE.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$SRC/tests/tap.sh"
. "$SRC/tests/integration/bench/bench-tools.sh"
TAP_LOG=$tmp/log

# exits WANT CMD...: CMD exits with WANT; its output in $TAP_LOG
exits() {
	local want=$1 rc

	shift
	"$@" >"$TAP_LOG" 2>&1
	rc=$?
	echo "exit $rc" >>"$TAP_LOG"
	[ "$rc" -eq "$want" ]
}

exits 0 "$mk" --help && grep -q '^usage: bitnet-mkmodel' "$TAP_LOG"
result $? "bitnet-mkmodel --help"
exits 2 "$mk" --embd 100 "$tmp/x.gguf" && grep -q 'invalid value: 100' "$TAP_LOG"
result $? "bitnet-mkmodel --embd 100 is an invalid value"
exits 2 "$mk" --vocab-kind bpe "$tmp/x.gguf" && grep -q 'invalid value: bpe' "$TAP_LOG"
result $? "bitnet-mkmodel --vocab-kind bpe is an invalid value"
exits 2 "$mk" --bogus "$tmp/x.gguf" && grep -q '^usage:' "$TAP_LOG"
result $? "bitnet-mkmodel --bogus: usage, exit 2"
exits 2 "$mk" --layers
result $? "bitnet-mkmodel --layers without its argument"
opts="--arch llama --type tq2_0 --embd-type q8_0 --embd 256 --layers 1 --heads 4 --kv-heads 2
      --ff 512 --vocab 1000 --ctx 64 --rope-theta 10000 --seed 0x7 --vocab-kind llama3"
# shellcheck disable=SC2086
exits 0 "$mk" $opts "$tmp/a.gguf" &&
	exits 0 "$mk" $(echo $opts | sed -E 's/(--[a-z-]+) /\1=/g') "$tmp/b.gguf" &&
	cmp "$tmp/a.gguf" "$tmp/b.gguf" >>"$TAP_LOG" 2>&1
result $? "bitnet-mkmodel takes every option, --opt=VALUE alike"

exits 0 "$bench" e2e --help && grep -q '^usage: bitnet-bench e2e' "$TAP_LOG"
result $? "bitnet-bench e2e --help"
exits 2 "$bench" e2e --reps 0
result $? "bitnet-bench e2e --reps 0 is out of range"
exits 2 "$bench" e2e --head q5 && grep -q 'invalid value: q5' "$TAP_LOG"
result $? "bitnet-bench e2e --head q5 is an invalid value"
exits 0 "$bench" kernels -h && grep -q '^usage: bitnet-bench kernels' "$TAP_LOG"
result $? "bitnet-bench kernels -h"
exits 2 "$bench" kernels --no-scalar --min-seconds -1
result $? "bitnet-bench kernels --min-seconds -1 is out of range"
exits 2 "$bench" batch --tokens 3-2 && grep -q 'invalid value: 3-2' "$TAP_LOG"
result $? "bitnet-bench batch --tokens 3-2 is an invalid value"
exits 2 "$bench" batch --pack r16,x && grep -q 'invalid value: r16,x' "$TAP_LOG"
result $? "bitnet-bench batch --pack r16,x is an invalid value"
exits 2 "$bench" head --tokens 17 && grep -q '^usage: bitnet-bench head' "$TAP_LOG"
result $? "bitnet-bench head --tokens 17 is out of range"
tap_end
