#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM test harness, a TAP program. For each kernel release (by default
# the two tests/vm/kernels.sh names) it builds the module against that
# release's headers, packs a busybox initramfs with the module, the
# kselftests, tests/vm/guest/init and the daemon test's userland (dynamic
# binaries with their libraries: guest/daemon-share-test), boots Debian's kernel image under
# qemu-system-x86_64 (TCG) and turns what the guest reports into TAP:
#	ok N - <release>: build module | boot | insmod | ksft:<prog> | rmmod |
#			  taint | kernel log clean | finished
# A result the guest announced but never gave, a timeout, or an oops,
# BUG, WARNING, lockup, RCU stall or panic in the kernel log is "not ok".
#
# Environment (all optional):
#	BUILD, SRC		build dir and source tree (as `make check` sets)
#	VM_KERNELS		releases to boot, e.g. VM_KERNELS=6.1.0-56-cloud-amd64
#	VM_CACHE		kernel images ($BUILD/vm-cache)
#	VM_TIMEOUT		seconds per VM (300)
#	VM_KSFT_TIMEOUT		seconds per kselftest program in the guest (120)
#	VM_JOBS			VMs at once (2)
#	VM_ACCEL		tcg (default; KVM fails on the project's machines) or kvm
#	VM_KBUILD_DIR		build this out-of-tree Kbuild dir instead of `make module`
#	VM_KSFT_BIN		dir of kselftest programs instead of `make kselftests`
#	VM_INSMOD_ARGS		module parameters for insmod
#	VM_SKIP			non-empty: skip the whole harness
set -u

SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
HERE=$SRC/tests/vm
VM_CACHE=${VM_CACHE:-$BUILD/vm-cache}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_KSFT_TIMEOUT=${VM_KSFT_TIMEOUT:-120}
VM_JOBS=${VM_JOBS:-2}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_KBUILD_DIR=${VM_KBUILD_DIR:-}
VM_KSFT_BIN=${VM_KSFT_BIN:-}
VM_INSMOD_ARGS=${VM_INSMOD_ARGS:-}
VM_KERNELS=${VM_KERNELS:-$("$HERE/kernels.sh" | tr '\n' ' ')}
WORK=$BUILD/vm-run
# Kernel log lines that fail a run, whatever the tests said.
BAD_LOG='cut here|WARNING:|BUG:|Oops|Kernel panic|Call Trace|general protection'
BAD_LOG+='|soft lockup|hard LOCKUP|rcu.*(stall|detected stalls)|blocked for more than'
BAD_LOG+='|UBSAN:|KASAN:|kmemleak|Tainted:|taint'
# ... except the taint every out-of-tree, unsigned module brings.
OK_LOG='loading out-of-tree module taints kernel'
OK_LOG+='|module verification failed: signature and/or required key missing - tainting kernel'

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ -z "${VM_SKIP:-}" ] || skip_all "VM_SKIP is set"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 missing (make deps)"
# The guest has no libc: busybox must be the static build.
[ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter' ||
	skip_all "static /bin/busybox missing (busybox-static; make deps)"
command -v cpio >/dev/null || skip_all "cpio missing (make deps)"
[ -n "${VM_KERNELS// /}" ] || skip_all "no kernel release known (apt lists or headers; make deps)"
if [ -z "$VM_KBUILD_DIR" ] && [ ! -f "$SRC/Kbuild" ]; then
	skip_all "no Kbuild in the tree yet: the module cannot be built"
fi
mkdir -p "$WORK" || exit 1

# Builds the guest's helper once for all kernels.
if ! gcc -static -O2 -Wall -Werror -o "$WORK/vm-exit" "$HERE/guest/vm-exit.c" \
		>"$WORK/vm-exit.log" 2>&1; then
	sed 's/^/# /' "$WORK/vm-exit.log"
	echo "1..1"
	echo "not ok 1 - build the guest's vm-exit helper"
	exit 1
fi

# The kselftest programs: given, built by `make kselftests`, or none yet.
ksft_dir=$VM_KSFT_BIN
ksft_state=given
if [ -z "$ksft_dir" ]; then
	if ! make -C "$SRC" -n kselftests BUILD="$BUILD" >"$WORK/kselftests.log" 2>&1 &&
			grep -q "No rule to make target 'kselftests'" "$WORK/kselftests.log"; then
		ksft_state=absent
	elif make -C "$SRC" kselftests BUILD="$BUILD" >"$WORK/kselftests.log" 2>&1; then
		ksft_dir=$BUILD/kselftest/bin
		ksft_state=built
	else
		ksft_state=failed
	fi
fi

# The userland of the guest's daemon test (guest/daemon-share-test): bitnetd,
# bitnetctl and bitnet-run from this build, the host's dbus-daemon, the
# shared libraries ldd lists for them and the dynamic loader, a bus
# configuration and a tiny model from ../shared (and the same model as
# TQ1_0, which must be refused as stale). The same for every kernel: packed
# once into $WORK/daemon-root, or the reason it cannot be into its skip file.
SHARED_MODELS=$SRC/../shared/models/tiny-shakespeare-a
pack_daemon_userland() {
	local root=$WORK/daemon-root d=$WORK/daemon-root/opt/bitnet b bins lib why=
	rm -rf "$root" && mkdir -p "$d/bin" "$root/etc" || return
	if ! make -C "$SRC" BUILD="$BUILD" "$BUILD/bin/bitnetd" "$BUILD/bin/bitnetctl" \
			"$BUILD/bin/bitnet-run" >"$WORK/daemon-build.log" 2>&1; then
		why="bitnetd, bitnetctl or bitnet-run did not build (see $WORK/daemon-build.log)"
	fi
	bins="$BUILD/bin/bitnetd $BUILD/bin/bitnetctl $BUILD/bin/bitnet-run"
	bins+=" $(command -v dbus-daemon || echo dbus-daemon)"
	for b in $bins; do
		[ -n "$why" ] || [ -x "$b" ] || why="$b missing (dbus-daemon: make deps)"
	done
	for b in tq2_0 tq1_0; do
		[ -n "$why" ] || [ -f "$SHARED_MODELS/tiny-shakespeare-a-$b.gguf" ] ||
			why="../shared/models/tiny-shakespeare-a missing"
	done
	command -v ldd >/dev/null || why=${why:-"ldd missing"}
	if [ -n "$why" ]; then
		echo "$why" >"$d/skip"
		return 0
	fi
	cp $bins "$d/bin/" &&
		cp "$SHARED_MODELS/tiny-shakespeare-a-tq2_0.gguf" "$d/model.gguf" &&
		cp "$SHARED_MODELS/tiny-shakespeare-a-tq1_0.gguf" "$d/other.gguf" &&
		cp "$HERE/guest/bus.conf" "$d/bus.conf" && : >"$d/bitnetd.conf" || return
	# Libraries by the path the loader looks for them at, and the loader.
	for lib in $(ldd $bins | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				     $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return
	done
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' \
		>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	echo 0123456789abcdef0123456789abcdef >"$root/etc/machine-id"
}

# Builds the module for one kernel and packs its initramfs; writes
# "ok build" or "fail|skip NAME reason" to $WORK/<release>/results.
prepare_kernel() {
	local rel=$1 dir=$WORK/$1 kdir=/usr/src/linux-headers-$1
	local ko mod rc
	rm -rf "$dir" && mkdir -p "$dir/root/bin" "$dir/root/modules" \
		"$dir/root/kselftest" "$dir/root/etc" || return
	exec 5>"$dir/results"
	if [ ! -f "$kdir/Makefile" ]; then
		echo "skip build headers $kdir missing (make deps)" >&5
		return
	fi
	if ! "$HERE/fetch-kernel.sh" "$rel" "$VM_CACHE" >"$dir/vmlinuz.path" \
			2>"$dir/fetch.log"; then
		echo "skip boot no kernel image: $(tail -1 "$dir/fetch.log")" >&5
		return
	fi
	if [ -n "$VM_KBUILD_DIR" ]; then
		mkdir -p "$dir/kbuild" && cp -r "$VM_KBUILD_DIR"/. "$dir/kbuild/" &&
			make -C "$kdir" M="$dir/kbuild" modules >"$dir/build.log" 2>&1
		rc=$?
		ko=$(ls "$dir"/kbuild/*.ko 2>/dev/null | head -1)
	else
		make -C "$SRC" module KDIR="$kdir" BUILD="$BUILD" >"$dir/build.log" 2>&1
		rc=$?
		ko=$BUILD/kmod/$rel/bitnet.ko
	fi
	if [ "$rc" -ne 0 ] || [ ! -f "$ko" ]; then
		echo "fail build module for $rel: $(grep -m1 -E 'error|Error' "$dir/build.log")" >&5
		return
	fi
	mod=$(basename "$ko" .ko)

	cp /bin/busybox "$dir/root/bin/busybox" &&
		cp "$WORK/vm-exit" "$dir/root/bin/vm-exit" &&
		cp "$HERE/guest/init" "$dir/root/init" &&
		cp "$ko" "$dir/root/modules/" || return
	if [ -n "$ksft_dir" ] && [ -d "$ksft_dir" ]; then
		find "$ksft_dir" -maxdepth 1 -type f -perm -u+x \
			-exec cp {} "$dir/root/kselftest/" \;
	fi
	if [ -d "$WORK/daemon-root" ]; then
		cp -r "$WORK/daemon-root"/. "$dir/root/" &&
			cp "$HERE/guest/daemon-share-test" \
				"$dir/root/kselftest/bitnet_daemon_share_test" || return
	fi
	printf 'MODULE=%s\nINSMOD_ARGS="%s"\nKSFT_TIMEOUT=%s\n' \
		"$mod" "$VM_INSMOD_ARGS" "$VM_KSFT_TIMEOUT" >"$dir/root/etc/vmtest.conf"
	(cd "$dir/root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$dir/initrd.cpio" || return
	echo "ok build" >&5
}

# Boots one prepared kernel once; the guest's report lands in guest.log.
# tsc=unstable: 6.1 finds TCG's TSCs unsynchronized at once, 6.12 trusted
# them and flipped sched_clock's static key seconds later, while the tests
# ran; a live text patch racing another vCPU under TCG is what oopsed once.
boot_once() {
	local rel=$1 dir=$WORK/$1 rc start

	start=$(date +%s.%N)
	timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 -nodefaults -M pc -accel "$VM_ACCEL" \
		-cpu max -m 1G -smp 2 -no-reboot -display none -vga none \
		-serial "file:$dir/console.log" -serial "file:$dir/guest.log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$(cat "$dir/vmlinuz.path")" -initrd "$dir/initrd.cpio" \
		-append "console=ttyS0 panic=-1 rdinit=/init tsc=unstable" \
		>"$dir/qemu.log" 2>&1 </dev/null
	rc=$?
	echo "$start $(date +%s.%N)" >"$dir/time"
	# isa-debug-exit with 0 makes qemu exit 1: the guest ran to its end.
	echo "$rc" >"$dir/qemu.rc"
}

# Boots one prepared kernel. A guest kernel that dies before the initramfs's
# /init announces its plan ran none of the project's code (the module loads
# after the plan): that is the emulator or the kernel's own boot (seen: an
# int3 oops from boot-time text patching under multi-threaded TCG on 6.12),
# so it boots once more and the report says so. A second early death fails.
boot_kernel() {
	local rel=$1 dir=$WORK/$1

	rm -f "$dir/console.first-boot.log"
	boot_once "$rel"
	if ! tr -d '\r' <"$dir/guest.log" | grep -q '^plan '; then
		mv "$dir/console.log" "$dir/console.first-boot.log"
		boot_once "$rel"
	fi
}

# Runs "$1 <release>" for every kernel, $VM_JOBS at a time.
for_each_kernel() {
	local rel running=0
	for rel in $VM_KERNELS; do
		if [ "$1" = boot_kernel ] && ! grep -q '^ok build' "$WORK/$rel/results"; then
			continue
		fi
		"$1" "$rel" &
		running=$((running + 1))
		if [ "$running" -ge "$VM_JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
	done
	wait
}

emit() {
	n=$((n + 1))
	case "$1" in
	ok)	echo "ok $n - $2" ;;
	skip)	echo "ok $n - $2 # SKIP $3" ;;
	*)	echo "not ok $n - $2${3:+: $3}"
		failed=$((failed + 1)) ;;
	esac
}

# Each result a kselftest program printed inside the guest becomes a result
# here too, so the summary counts the kselftests themselves, not only the
# programs that ran them.
report_subtests() {
	local rel=$1 name=$2 log=$3 line sub desc

	while IFS= read -r line; do
		sub=${line#"log $name "}
		desc=$(sed -E 's/^(not )?ok [0-9]+ (- )?//; s/ *# *[Ss][Kk][Ii][Pp].*//' <<<"$sub")
		case $sub in
		"not ok "*)	emit fail "$rel: ${name#ksft:}: $desc" ;;
		*"# SKIP"*|*"# skip"*)
				emit skip "$rel: ${name#ksft:}: $desc" "${sub##*# [Ss][Kk][Ii][Pp]}" ;;
		*)		emit ok "$rel: ${name#ksft:}: $desc" ;;
		esac
	done < <(grep -E "^log $name (not )?ok [0-9]+" "$log")
}

# Reads one kernel's files and prints its TAP lines.
report_kernel() {
	local rel=$1 dir=$WORK/$1 name status rest rc planned got secs
	local guest=$dir/guest.log failed_before=$failed

	if ! grep -q '^ok build' "$dir/results" 2>/dev/null; then
		read -r status name rest <"$dir/results"
		emit "$status" "$rel: $name" "$rest"
		if [ -f "$dir/build.log" ] && [ "$status" = fail ]; then
			tail -20 "$dir/build.log" | sed 's/^/# /'
		fi
		return
	fi
	emit ok "$rel: build module"
	rc=$(cat "$dir/qemu.rc")
	if [ -f "$dir/console.first-boot.log" ]; then
		echo "# $rel: the first boot died before /init started, booted again:" \
			"$(tr -d '\r' <"$dir/console.first-boot.log" | grep -E -m1 "$BAD_LOG" ||
				echo "no kernel error logged")"
	fi
	tr -d '\r' <"$guest" >"$guest.txt" 2>/dev/null
	planned=$(sed -n 's/^plan //p' "$guest.txt" | head -1)
	if [ -z "$planned" ]; then
		emit fail "$rel: boot" "the guest never started its tests (qemu exit $rc)"
	else
		emit ok "$rel: boot"
	fi
	for name in $planned; do
		got=$(grep -m1 -E "^result [a-z]+ $name( |$)" "$guest.txt")
		if [ -z "$got" ]; then
			emit fail "$rel: $name" "no result (guest stopped before it)"
			continue
		fi
		[[ $name == ksft:* ]] && report_subtests "$rel" "$name" "$guest.txt"
		read -r _ status _ rest <<<"$got"
		emit "$status" "$rel: $name" "$rest"
		if [ "$status" = fail ]; then
			grep -E "^log $name " "$guest.txt" | tail -30 | sed 's/^log [^ ]* /#   /'
		fi
	done
	grep '^log counters ' "$guest.txt" | sed 's/^log counters /# counters /'
	awk -v head="# $rel kselftest run times: " \
		'/^time / { printf "%s%s %ss", n++ ? ", " : head, $2, $3 }
		 END { if (n) print "" }' "$guest.txt"

	bad=$({ tr -d '\r' <"$dir/console.log"; sed -n 's/^log dmesg //p' "$guest.txt"; } |
		grep -E "$BAD_LOG" | grep -vE "$OK_LOG" | awk '!seen[$0]++' | head -5)
	if [ -n "$bad" ]; then
		emit fail "$rel: kernel log clean" "$(head -1 <<<"$bad")"
		sed 's/^/#   /' <<<"$bad"
	else
		emit ok "$rel: kernel log clean"
	fi

	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		emit fail "$rel: finished" "timed out after ${VM_TIMEOUT}s"
	elif [ "$rc" -ne 1 ] || ! grep -q '^done' "$guest.txt"; then
		emit fail "$rel: finished" "guest did not reach its end (qemu exit $rc)"
	else
		emit ok "$rel: finished"
	fi
	secs=$(awk '{ printf "%.1f", $2 - $1 }' "$dir/time")
	echo "# $rel: VM boot to end of tests ${secs}s ($VM_ACCEL); logs in $dir"
	if [ "$failed" -ne "$failed_before" ]; then
		echo "# $rel: last console lines:"
		tr -d '\r' <"$dir/console.log" | tail -15 | sed 's/^/#   /'
	fi
}

t0=$(date +%s)
# Another module under test (VM_KBUILD_DIR, the harness's self-test): no
# /dev/bitnet, so no daemon test.
rm -rf "$WORK/daemon-root"
if [ -z "$VM_KBUILD_DIR" ] && ! pack_daemon_userland; then
	mkdir -p "$WORK/daemon-root/opt/bitnet" &&
		echo "packing the daemon test's userland failed" >"$WORK/daemon-root/opt/bitnet/skip"
fi
for_each_kernel prepare_kernel
t1=$(date +%s)
for_each_kernel boot_kernel

n=0
failed=0
for rel in $VM_KERNELS; do
	report_kernel "$rel"
done
case "$ksft_state" in
absent)	emit skip "kselftests" "no 'make kselftests' target yet" ;;
failed)	emit fail "kselftests: make kselftests" \
		"$(grep -m1 -E 'error|Error' "$WORK/kselftests.log")"
	tail -15 "$WORK/kselftests.log" | sed 's/^/#   /' ;;
*)	emit ok "kselftests: $ksft_state ($(ls "$ksft_dir" 2>/dev/null | wc -l) programs)" ;;
esac
echo "1..$n"
echo "# all kernels: $(($(date +%s) - t0))s, of which building modules and initramfs $((t1 - t0))s"

[ "$failed" -eq 0 ]
