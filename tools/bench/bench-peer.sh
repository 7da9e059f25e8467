#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-peer.sh (make bench-peer): this engine against llama.cpp on the same
# GGUF file, side by side. llama.cpp comes from the npm registry
# (node-llama-cpp's prebuilt CPU binaries, pinned), installed into a cache
# directory outside the repository; the file (2B-4T shape, arch `bitnet`,
# TQ2_0 linear weights, Q6_K token embedding tied as the output head: what
# llama.cpp's llama-quantize TQ2_0 writes) comes from bitnet-mkmodel. The
# runs alternate engine by engine, rep by rep; per row the best and the
# median of the reps and the ratio ours / llama.cpp.
#
# Exit 0: measured (or --write-model-only done); 77: skipped, the reason on
# stderr (no node/npm, registry unreachable, binary does not run here);
# anything else: failure.

set -u

NLC_VERSION=3.22.1
here=$(cd "$(dirname "$0")" && pwd)
bin=${BITNET_BIN:-$here/../../build/bin}
cache=${BITNET_PEER_CACHE:-/var/tmp/bitnet-peer}
model=
shape=2b4t
prompt=128
gen=64
reps=3
threads=1,2
head=auto
pack=auto
write_only=0
install=1
idle=0
idle_wait=300

usage() {
	cat <<EOF
usage: bench-peer.sh [--cache DIR] [--model FILE] [--shape 2b4t|tiny]
       [--prompt N] [--gen N] [--reps N] [--threads 1,2] [--head auto|file|q8|q4]
       [--pack auto|r16|t5|dual|lut3|dual-lut3]
       [--bin DIR] [--no-install] [--write-model-only] [--idle PCT [--idle-wait S]]
Prefill and decode tokens/s of bitnet-bench e2e and of llama.cpp
(node-llama-cpp $NLC_VERSION from the npm registry, prebuilt CPU binaries) on
the same file, runs interleaved, best and median of --reps.
  --cache DIR         npm install and model files (default $cache,
                      or \$BITNET_PEER_CACHE)
  --model FILE        a GGUF both engines load (default: written by
                      bitnet-mkmodel into the cache: --arch bitnet --type tq2_0
                      --embd-type q6_k, the 2B-4T shape or a tiny one)
  --bin DIR           where bitnet-bench and bitnet-mkmodel are (default
                      build/bin, or \$BITNET_BIN)
  --no-install        do not run npm; skip if node-llama-cpp is not in the cache
  --write-model-only  write the model file, print its path, stop (no network)
  --idle PCT          before each pair of runs, wait (at most --idle-wait S,
                      default $idle_wait) until PCT% of all CPUs were idle over
                      1 s: ggml's spinning threads collapse when a core is busy
  --pack KIND         our engine's ternary weight layout (bitnet-run --pack)
Defaults: --prompt $prompt --gen $gen --reps $reps --threads $threads --head $head
--pack $pack.
Exit 77 with the reason when llama.cpp cannot be run here.
EOF
}

die() {
	echo "bench-peer: $*" >&2
	exit 1
}

skip() {
	echo "bench-peer: skipped: $*" >&2
	exit 77
}

while [ $# -gt 0 ]; do
	case $1 in
	--help | -h) usage; exit 0 ;;
	--cache) cache=$2; shift ;;
	--model) model=$2; shift ;;
	--shape) shape=$2; shift ;;
	--prompt) prompt=$2; shift ;;
	--gen) gen=$2; shift ;;
	--reps) reps=$2; shift ;;
	--threads) threads=$2; shift ;;
	--head) head=$2; shift ;;
	--pack) pack=$2; shift ;;
	--bin) bin=$2; shift ;;
	--no-install) install=0 ;;
	--idle) idle=$2; shift ;;
	--idle-wait) idle_wait=$2; shift ;;
	--write-model-only) write_only=1 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift || { usage >&2; exit 2; }
done

case $shape in
2b4t) shape_args= ;;
tiny) shape_args="--embd 256 --layers 2 --heads 4 --kv-heads 2 --ff 512 --vocab 1024 --ctx 512" ;;
*) die "unknown --shape $shape (2b4t or tiny)" ;;
esac
for n in "$prompt" "$gen" "$reps"; do
	case $n in '' | *[!0-9]* | 0) die "--prompt, --gen and --reps want positive integers" ;; esac
done
for n in "$idle" "$idle_wait"; do
	case $n in '' | *[!0-9]*) die "--idle and --idle-wait want integers" ;; esac
done
case $threads in '' | *[!0-9,]*) die "--threads wants a list like 1,2" ;; esac

mkdir -p "$cache" || die "cannot create $cache"

# The model file: written once, reused.
if [ -z "$model" ]; then
	model=$cache/$shape-bitnet-tq2_0-q6_k.gguf
	if [ ! -s "$model" ]; then
		[ -x "$bin/bitnet-mkmodel" ] || die "$bin/bitnet-mkmodel missing (make -j2 first)"
		# shellcheck disable=SC2086 # shape_args is a list of words
		if ! "$bin/bitnet-mkmodel" --arch bitnet --type tq2_0 --embd-type q6_k \
			$shape_args "$model.tmp" >&2; then
			rm -f "$model.tmp"
			die "bitnet-mkmodel failed"
		fi
		mv "$model.tmp" "$model" || die "cannot write $model"
	fi
fi
[ -r "$model" ] || die "$model: not readable"
if [ "$write_only" = 1 ]; then
	echo "$model"
	exit 0
fi
[ -x "$bin/bitnet-bench" ] || die "$bin/bitnet-bench missing (make -j2 first)"

# Can the prebuilt binary run here? It is built for linux x86-64 with glibc
# >= 2.34 (its libraries' newest GLIBC_ symbol version) and needs node >= 20.
[ "$(uname -m)" = x86_64 ] || skip "node-llama-cpp's linux-x64 binary, this is $(uname -m)"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed 's/^glibc //')
case $glibc in
2.3[4-9]* | 2.[4-9][0-9]* | [3-9].*) ;;
*) skip "the prebuilt binary needs glibc >= 2.34, this is '${glibc:-not glibc}'" ;;
esac
command -v node >/dev/null 2>&1 || skip "node is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[ "${node_major:-0}" -ge 20 ] 2>/dev/null ||
	skip "node-llama-cpp needs node >= 20 (have $(node --version))"

pkg=$cache/node_modules/node-llama-cpp/package.json
binpkg=$cache/node_modules/@node-llama-cpp/linux-x64/package.json
have=$(node -p "require('$pkg').version" 2>/dev/null)
if [ "$have" != "$NLC_VERSION" ] || [ ! -f "$binpkg" ]; then
	[ "$install" = 1 ] || skip "node-llama-cpp $NLC_VERSION not in $cache (--no-install)"
	command -v npm >/dev/null 2>&1 || skip "npm is not installed"
	if ! out=$(timeout 60 npm view --fetch-retries=1 --fetch-timeout=20000 \
		"node-llama-cpp@$NLC_VERSION" version 2>&1); then
		skip "npm registry unreachable ($(npm config get registry 2>/dev/null)):" \
			"$(echo "$out" | grep -E 'error (code|.*request to)' | head -n 2 | tr '\n' ' ')"
	fi
	[ -f "$cache/package.json" ] || echo '{"name":"bitnet-peer","private":true}' >"$cache/package.json"
	echo "bench-peer: npm install node-llama-cpp@$NLC_VERSION into $cache" >&2
	# The CPU build only: --omit=optional leaves out the CUDA/Vulkan
	# variants, the linux-x64 one is named; no install scripts (they would
	# try to build llama.cpp from source).
	timeout 600 npm install --prefix "$cache" --no-save --no-audit --no-fund \
		--ignore-scripts --omit=optional "node-llama-cpp@$NLC_VERSION" \
		"@node-llama-cpp/linux-x64@$NLC_VERSION" >&2 ||
		skip "npm install node-llama-cpp@$NLC_VERSION failed"
fi

peer() {
	node "$here/peer-llamacpp.mjs" --cache "$cache" --model "$model" --prompt "$prompt" \
		--gen "$gen" "$@"
}

# Probe: load the model once, print what llama.cpp reports about it and the
# backend it picked; a binary that cannot run here is a skip with its error.
if ! info=$(peer --threads 1 --reps 1 --gen 1 --info 2>&1); then
	skip "llama.cpp (node-llama-cpp $NLC_VERSION) does not run here: $(echo "$info" | tail -n 5)"
fi

ours() {
	"$bin/bitnet-bench" e2e --model "$model" --no-baseline --threads "$1" --prompt "$prompt" \
		--gen "$gen" --reps 1 --head "$head" --pack "$pack" 2>/dev/null |
		awk -v t="$1" '/ ternary \+ / && $(NF-5) == t { print $(NF-4), $(NF-3); ok = 1 }
			END { exit !ok }'
}

llama() {
	peer --threads "$1" --reps 1 |
		awk '/^rep / { print $6, $8, "wall-decode", $12, "decode-cpus", $14; ok = 1 } END { exit !ok }'
}

res=$(mktemp) || die "mktemp"
trap 'rm -f "$res"' EXIT
echo "bench-peer: $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo |
	sed 's/.*: //'), $(nproc) CPUs, load average at start:$(sed 's/ [0-9]*\/.*//' /proc/loadavg |
	sed 's/^/ /')"
echo "CPU flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
	grep -E '^(avx2|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|avx_vnni|amx_[a-z0-9]+)$' |
	tr '\n' ' ')"
echo "$info" | sed -n 's/^info /llama.cpp: /p'
echo "ours: bitnet-bench e2e on $model, --head $head --pack $pack"
echo "prompt $prompt, decode $gen, $reps reps; runs interleaved" \
	"(ours and llama.cpp alternate, order flips each rep)"

# Percent of all CPUs idle over one second, from /proc/stat.
idle_pct() {
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	echo "$a $b" | awk '{ n = NF / 2
		for (i = 2; i <= n; i++) { t += $(n + i) - $i }
		id = $(n + 5) - $5 + $(n + 6) - $6
		printf "%d\n", t ? 100 * id / t : 0 }'
}

wait_idle() {
	waited=0
	while :; do
		now=$(idle_pct)
		[ "$now" -ge "$idle" ] || [ "$waited" -ge "$idle_wait" ] && break
		waited=$((waited + 1))
	done
	echo "$now"
}

i=1
while [ "$i" -le "$reps" ]; do
	for t in $(echo "$threads" | tr , ' '); do
		if [ $((i % 2)) = 1 ]; then order="ours llama"; else order="llama ours"; fi
		pct=$(wait_idle)
		for who in $order; do
			if r=$($who "$t"); then
				echo "$who $t $i $r" >>"$res"
				echo "rep $i $t thr $who: prefill/decode tok/s $r (idle before: $pct%)" >&2
			else
				echo "bench-peer: rep $i, $t threads: $who failed" >&2
			fi
		done
	done
	i=$((i + 1))
done

echo "load average at end:$(sed 's/ [0-9]*\/.*//' /proc/loadavg | sed 's/^/ /')"
# Per thread count: best and median over the reps, the ratio ours / llama.cpp
# of the bests, and the median of the ratios of the runs side by side (the
# same rep: the load the two met was closest).
awk -v threads="$threads" '
function med(a, n,   i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function best(a, n,   i, b) {
	for (i = 1; i <= n; i++)
		if (a[i] > b)
			b = a[i]
	return b
}
{
	k = $1 SUBSEP $2; n[k]++; p[k, n[k]] = $4; d[k, n[k]] = $5
	rp[$1, $2, $3] = $4; rd[$1, $2, $3] = $5; reps[$3] = 1
}
END {
	printf "%-8s %3s %24s %24s %11s %13s\n", "phase", "thr", "ours best / median",
	       "llama.cpp best / median", "best/best", "median pair"
	nt = split(threads, ts, ",")
	for (ph = 1; ph <= 2; ph++) {
		for (i = 1; i <= nt; i++) {
			t = ts[i]
			for (w = 1; w <= 2; w++) {
				who = w == 1 ? "ours" : "llama"
				k = who SUBSEP t
				delete v
				for (j = 1; j <= n[k]; j++)
					v[j] = ph == 1 ? p[k, j] : d[k, j]
				b[w] = n[k] ? best(v, n[k]) : 0
				m[w] = n[k] ? med(v, n[k]) : 0
			}
			delete v
			np = 0
			for (r in reps) {
				o = ph == 1 ? rp["ours", t, r] : rd["ours", t, r]
				l = ph == 1 ? rp["llama", t, r] : rd["llama", t, r]
				if (o > 0 && l > 0)
					v[++np] = o / l
			}
			printf "%-8s %3d %11.2f / %-10.2f %11.2f / %-10.2f %10.2fx %12.2fx\n",
			       ph == 1 ? "prefill" : "decode", t, b[1], m[1], b[2], m[2],
			       b[2] ? b[1] / b[2] : 0, np ? med(v, np) : 0
		}
	}
	print "tokens/s; ratios are ours / llama.cpp"
}' "$res"
