# SPDX-License-Identifier: GPL-2.0
#
# `make deps`: installs every Debian (bookworm) package that building,
# running and testing bitnet need. Idempotent and prompt-free: when every
# package is already installed it changes nothing and needs no network;
# otherwise it runs `apt-get update` (unless the package lists are less than
# a day old) and one `apt-get install -y --no-install-recommends`.
#
# The list lives here and only here. Another fragment that needs a package
# appends it:  DEPS_EXTRA += libfoo-dev
#
# The VM harness (tests/vm/) boots the two kernels tests/vm/kernels.sh names;
# their exactly matching linux-headers-<release> packages are added here so
# `make module KDIR=/usr/src/linux-headers-<release>` works for both.

DEPS_EXTRA	?=

DEPS_PKGS	:= \
	build-essential gcc-multilib pkg-config perl \
	libsystemd-dev liburing-dev libjson-c-dev libpcre2-dev \
	dbus dbus-daemon python3 python3-dbus python3-dbusmock polkitd systemd \
	clang clang-format libclang-rt-14-dev sparse \
	qemu-system-x86 busybox-static cpio lz4 xz-utils kmod \
	linux-source-6.1 linux-source-6.12 \
	debhelper dh-dkms dkms lintian

# Package lists younger than this (minutes) are not refreshed.
DEPS_APT_MAX_AGE := 1440

.PHONY: deps deps-list
deps:
	@set -e; \
	sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	export DEBIAN_FRONTEND=noninteractive; \
	lists_fresh() { \
		[ -n "$$(find /var/lib/apt/lists -maxdepth 1 -name '*InRelease' \
			-mmin -$(DEPS_APT_MAX_AGE) 2>/dev/null | head -1)" ]; \
	}; \
	missing() { \
		for p in "$$@"; do \
			dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | \
				grep -q '^install ok installed$$' || echo "$$p"; \
		done; \
	}; \
	needed() { \
		kernels=$$(tests/vm/kernels.sh); \
		missing $(DEPS_PKGS) $(DEPS_EXTRA) \
			$$(for k in $$kernels; do echo "linux-headers-$$k"; done); \
	}; \
	todo=$$(needed); \
	if [ -z "$$todo" ]; then \
		echo "deps: all $(words $(DEPS_PKGS) $(DEPS_EXTRA)) packages and the" \
			"kernel headers for the VM kernels are installed"; \
		exit 0; \
	fi; \
	lists_fresh || $$sudo apt-get update -q; \
	todo=$$(needed); \
	echo "deps: installing" $$todo; \
	$$sudo apt-get install -y -q --no-install-recommends $$todo

# The list, for documentation and for other tools (one package a line).
deps-list:
	@for p in $(DEPS_PKGS) $(DEPS_EXTRA); do echo "$$p"; done; \
	for k in $$(tests/vm/kernels.sh); do echo "linux-headers-$$k"; done
