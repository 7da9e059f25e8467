#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: the main job end to end. Builds, starts a private dbus-daemon
# and bitnetd on it with a model, asks bitnetctl for a completion of a
# prompt, prints the service's status, and stops everything it started.
#
# The model is the trained tiny BitNet b1.58 model from ../shared when
# present; otherwise bitnet-mkmodel writes a small random-weight model (its
# answer is then random text, and this says so). Override with
# MODEL=path.gguf, PROMPT=..., TOKENS=N.
#
# `make run-http` (HTTP_PORT=8080 here) then also serves bitnet-httpd on
# 127.0.0.1:$HTTP_PORT over the same daemon and keeps everything running
# until Ctrl-C, for curl or an OpenAI client in another terminal.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
bin=$build/bin
shared=$top/../shared/models/tiny-shakespeare-a/tiny-shakespeare-a-tq2_0.gguf
prompt=${PROMPT:-"KING RICHARD III:"$'\n'}
tokens=${TOKENS:-48}

make -C "$top" -s BUILD="$build" all

work=$(mktemp -d /tmp/bitnet-run.XXXXXX)
bus_pid= daemon_pid= httpd_pid=
cleanup() {
	[ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null && wait "$httpd_pid" 2>/dev/null
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

model=${MODEL:-}
if [ -z "$model" ]; then
	if [ -f "$shared" ]; then
		model=$shared
	else
		echo "run: ../shared/models missing: using a small random-weight model" \
			"from bitnet-mkmodel (its text is random by construction)" >&2
		model=$work/random.gguf
		"$bin/bitnet-mkmodel" --embd 256 --layers 2 --heads 4 --kv-heads 2 \
			--ff 512 --vocab 512 --ctx 256 "$model" >/dev/null
	fi
fi

dbus-daemon --config-file="$top/tests/integration/daemon/private-bus.conf" \
	--fork --print-address=3 --print-pid=4 3>"$work/address" 4>"$work/pid"
bus_pid=$(cat "$work/pid")
export BITNET_BUS_ADDRESS=$(head -1 "$work/address")

"$bin/bitnetd" --bus-address="$BITNET_BUS_ADDRESS" --config=/dev/null \
	--model=default="$model" 2>"$work/bitnetd.log" &
daemon_pid=$!

# Wait for the service and its model (bitnetctl exits 0 once it answers).
for _ in $(seq 100); do
	"$bin/bitnetctl" models 2>/dev/null | grep -q ready && break
	kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/bitnetd.log"; echo "run: bitnetd exited" >&2; exit 1; }
	sleep 0.2
done

echo "== model: $model"
printf '== prompt: %s\n' "$prompt"
echo "== answer (greedy, $tokens tokens, streamed by bitnetctl):"
"$bin/bitnetctl" generate -m default -n "$tokens" --temp 0 "$prompt"
echo
echo "== service status:"
"$bin/bitnetctl" status
echo "== bitnetd's log:"
cat "$work/bitnetd.log"
[ -n "${HTTP_PORT:-}" ] || exit 0

"$bin/bitnet-httpd" --listen "127.0.0.1:$HTTP_PORT" --bus-address="$BITNET_BUS_ADDRESS" &
httpd_pid=$!
trap 'exit 0' INT TERM
echo "== bitnet-httpd on http://127.0.0.1:$HTTP_PORT (model \"default\"); Ctrl-C stops it all"
wait "$httpd_pid"
