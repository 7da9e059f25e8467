#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds and runs the libFuzzer targets, printing TAP. FUZZ_TIME: seconds
# per target (default 3, as in `make check`); FUZZ_KEEP=1 keeps the corpus
# in $BUILD/fuzz/corpus-* (`make fuzz`), else it is a temporary directory.
# Skips when clang or libFuzzer is missing.
set -u
: "${SRC:?SRC must name the source tree}" "${BUILD:?BUILD must name the build tree}"
cc=${FUZZ_CC:-clang-14}
secs=${FUZZ_TIME:-3}
dir=$BUILD/fuzz
vocab=$SRC/../shared/vocab

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "1..0 # SKIP $cc missing (apt-get install clang-14)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
probe='int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{ (void)d; (void)n; return 0; }'
if ! echo "$probe" | "$cc" -fsanitize=fuzzer -x c - -o "$tmp/probe" 2>/dev/null; then
	echo "1..0 # SKIP libFuzzer missing (apt-get install libclang-rt-14-dev)"
	exit 0
fi

echo "1..3"
mkdir -p "$dir"
if make -s -C "$SRC" BUILD="$BUILD" FUZZ_CC="$cc" fuzz-bins >"$tmp/build.log" 2>&1; then
	echo "ok 1 - fuzzers build with $cc"
else
	echo "not ok 1 - fuzzers build with $cc"
	sed 's/^/# /' "$tmp/build.log" | tail -20
fi

mkdir -p "$tmp/seeds-gguf" "$tmp/seeds-tokenizer"
"$dir/mkseeds" "$tmp/seeds-gguf" "$tmp/seeds-tokenizer" \
	"$vocab/ggml-vocab-llama-bpe.gguf.inp" >/dev/null 2>&1

# run <n> <target> <extra args...>
run() {
	local n=$1 target=$2 corpus
	shift 2
	if [ ! -x "$dir/$target" ]; then
		echo "not ok $n - $target: not built"
		return
	fi
	if [ "${FUZZ_KEEP:-0}" = 1 ]; then
		corpus=$dir/corpus-${target#fuzz_}
	else
		corpus=$tmp/corpus-${target#fuzz_}
	fi
	mkdir -p "$corpus"
	"$dir/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$dir/$target-" -print_final_stats=1 "$@" \
		"$corpus" "$tmp/seeds-${target#fuzz_}" >"$tmp/$target.log" 2>&1
	local rc=$? runs
	runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$tmp/$target.log")
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $n - $target: $runs inputs in ${secs}s, no crash, leak or sanitizer report"
	else
		echo "not ok $n - $target: exit $rc (artifacts in $dir)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$tmp/$target.log" |
			head -20 | sed 's/^/# /'
	fi
}

run 2 fuzz_gguf -dict="$SRC/tests/fuzz/gguf.dict" -max_len=4096
if [ -f "$vocab/ggml-vocab-llama-bpe.gguf" ]; then
	export BN_FUZZ_VOCAB_DIR=$vocab
	run 3 fuzz_tokenizer -max_len=1024
else
	echo "ok 3 - fuzz_tokenizer # SKIP ../shared/vocab missing"
fi
