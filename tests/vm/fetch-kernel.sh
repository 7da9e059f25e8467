#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh RELEASE CACHE_DIR
# Makes sure CACHE_DIR/RELEASE/vmlinuz is the kernel of Debian's
# linux-image-RELEASE package: downloads the .deb with `apt-get download`
# (nothing is installed, the host's /boot is untouched) and unpacks it with
# dpkg-deb -x. Prints the vmlinuz path; exits 1 with a reason on stderr when
# the image cannot be had (no package lists, no network, unknown release).
set -u
rel=$1
cache=$2
dir=$cache/$rel
vmlinuz=$dir/vmlinuz

if [ -s "$vmlinuz" ]; then
	echo "$vmlinuz"
	exit 0
fi
mkdir -p "$dir" || exit 1
# Harness runs started together (the selftest starts three) fetch once: the
# first holds the lock, the others find its image when they get it.
exec 9>"$dir/.fetch.lock"
flock 9
if [ -s "$vmlinuz" ]; then
	echo "$vmlinuz"
	exit 0
fi
tmp=$(mktemp -d "$dir/fetch.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

pkg=linux-image-$rel
# apt drops privileges to _apt for downloads; let it write here.
chmod 0777 "$tmp"
if ! (cd "$tmp" && apt-get download -q "$pkg" >download.log 2>&1); then
	echo "fetch-kernel: apt-get download $pkg failed:" >&2
	tail -3 "$tmp/download.log" >&2
	exit 1
fi
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -1)
if [ -z "$deb" ] || ! dpkg-deb -x "$deb" "$tmp/root"; then
	echo "fetch-kernel: cannot unpack $pkg" >&2
	exit 1
fi
if [ ! -s "$tmp/root/boot/vmlinuz-$rel" ]; then
	echo "fetch-kernel: $pkg has no boot/vmlinuz-$rel" >&2
	exit 1
fi
# $tmp is inside $dir: one rename, atomic, so no reader sees half an image.
mv "$tmp/root/boot/vmlinuz-$rel" "$vmlinuz" || exit 1
echo "$vmlinuz"
