#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench/bench-peer.sh (make bench-peer) without network and without
# timing anything: its --help, the model it writes (tiny shape, arch bitnet,
# TQ2_0 + Q6_K embedding) loading in our engine, bad options refused, and
# peer-llamacpp.mjs parsing (node --check) and refusing a missing install.
# llama.cpp itself is not run: it is an npm download.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
peer=$SRC/tools/bench/bench-peer.sh
mjs=$SRC/tools/bench/peer-llamacpp.mjs

if [ ! -x "$BUILD/bin/bitnet-bench" ] || [ ! -x "$BUILD/bin/bitnet-mkmodel" ]; then
	echo "1..0 # SKIP bitnet-bench or bitnet-mkmodel not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..6"

ok() {
	if [ "$1" = 0 ]; then echo "ok $2 - $3"; else
		echo "not ok $2 - $3"
		sed 's/^/#   /' "$tmp/out"
	fi
}

"$peer" --help >"$tmp/out" 2>&1 && grep -q -- '--write-model-only' "$tmp/out"
ok $? 1 "--help prints the usage"

"$peer" --frobnicate >"$tmp/out" 2>&1
[ $? -eq 2 ]
ok $? 2 "an unknown option exits 2"

model=$(BITNET_BIN=$BUILD/bin "$peer" --cache "$tmp" --shape tiny --write-model-only 2>"$tmp/out")
rc=$?
[ $rc -eq 0 ] && [ "$model" = "$tmp/tiny-bitnet-tq2_0-q6_k.gguf" ] && [ -s "$model" ]
ok $? 3 "--write-model-only --shape tiny writes the file and prints its path"

"$BUILD/bin/bitnet-bench" e2e --model "$model" --no-baseline --prompt 8 --gen 4 --reps 1 \
	--threads 1 >"$tmp/out" 2>&1 && grep -q '^TQ2_0 ternary + Q6_K head' "$tmp/out"
ok $? 4 "our engine runs that file as TQ2_0 linears with a Q6_K head"

if ! command -v node >/dev/null 2>&1; then
	echo "ok 5 - peer-llamacpp.mjs parses # SKIP node not installed"
	echo "ok 6 - peer-llamacpp.mjs refuses a cache without node-llama-cpp # SKIP node not installed"
	exit 0
fi
node --check "$mjs" >"$tmp/out" 2>&1
ok $? 5 "peer-llamacpp.mjs parses"

node "$mjs" --cache "$tmp" --model "$model" >"$tmp/out" 2>&1
[ $? -eq 3 ] && grep -q 'not installed' "$tmp/out"
ok $? 6 "peer-llamacpp.mjs refuses a cache without node-llama-cpp"
