#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prints the kernel releases the VM harness boots, one per line: the
# bookworm cloud-amd64 kernel and the 6.12 one from bookworm-security, as
# their Debian metapackages name them today (so a point release moves both
# the headers `make deps` installs and the image the harness fetches).
# Falls back to the cloud-amd64 headers already installed when apt has no
# package lists (then nothing can be fetched anyway).
set -u

resolve() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*-cloud-amd64\)$/\1/p' | head -1
}

found=0
for meta in linux-image-cloud-amd64 linux-image-6.12-cloud-amd64; do
	rel=$(resolve "$meta")
	if [ -n "$rel" ]; then
		echo "$rel"
		found=1
	fi
done
if [ "$found" -eq 0 ]; then
	for dir in /usr/src/linux-headers-*-cloud-amd64; do
		[ -f "$dir/Makefile" ] && basename "$dir" | sed 's/^linux-headers-//'
	done
fi
exit 0
