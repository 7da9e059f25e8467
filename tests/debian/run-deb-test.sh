#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: debian/ builds with `dpkg-buildpackage -us -uc -b` (in a copy of the
# tree in a temporary directory, DEB_BUILD_OPTIONS=parallel=2) into the six
# packages; lintian reports no error; the packages' own contents, extracted
# with dpkg-deb -x into a throwaway root (dpkg --root would run maintainer
# scripts meant for a real system), have the layout the units, D-Bus and
# DKMS expect; the maintainer scripts create the user before starting
# bitnetd and enable bitnet-httpd's socket, not its service; a program builds
# against the -dev package and the tools run. Skips, saying why, without
# dpkg-buildpackage, debhelper, dh_dkms or the build dependencies.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

for tool in dpkg-buildpackage dh dh_dkms dh_installsysusers dpkg-deb; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool not installed (make deps installs debhelper, dh-dkms)"
		exit 0
	fi
done
if ! missing=$(cd "$SRC" && dpkg-checkbuilddeps 2>&1); then
	echo "1..0 # SKIP build dependencies missing: ${missing##*: }"
	exit 0
fi

tmp=$(mktemp -d /tmp/bitnet-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src" "$tmp/root"
# The tree without its build outputs (a git checkout's files, else all but build/).
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -co --exclude-standard -z | grep -zv '^build/' |
		tar --null -cf - -T -) | tar -xf - -C "$tmp/src"
else
	(cd "$SRC" && tar --exclude=./build -cf - .) | tar -xf - -C "$tmp/src"
fi

echo "1..26"
start=$(date +%s)
if (cd "$tmp/src" && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b) \
	>"$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
	nok "dpkg-buildpackage -us -uc -b"
	tail -30 "$tmp/build.log" | sed 's/^/#   /'
fi
pkgs="bitnetd bitnet-dkms libbitnet-client1 libbitnet-client-dev bitnet-tools bitnet-httpd"
have=0
for p in $pkgs; do
	ls "$tmp/${p}_"*.deb >/dev/null 2>&1 && have=$((have + 1))
done
check "the six packages were built ($pkgs)" '[ "$have" -eq 6 ]'

if command -v lintian >/dev/null && ls "$tmp"/*.changes >/dev/null 2>&1; then
	lint=$(cd "$tmp" && lintian --pedantic -I ./*.changes 2>&1)
	printf '%s\n' "$lint" | grep -E '^[EWI]:' | sed 's/^/# lintian: /'
	check "lintian: no errors" '! printf "%s\n" "$lint" | grep -q "^E:"'
else
	n=$((n + 1))
	echo "ok $n - lintian: no errors # SKIP lintian not installed or nothing built"
fi

for p in $pkgs; do
	for f in "$tmp/${p}_"*.deb; do
		[ -f "$f" ] && dpkg-deb -x "$f" "$tmp/root"
	done
done
r=$tmp/root
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ver=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
check "debian/changelog's $ver is the Makefile's BITNET_VERSION, pkg-config's, the programs'" \
	'[ "$(sed -n "s/^BITNET_VERSION[[:space:]]*?=[[:space:]]*//p" "$SRC/Makefile")" = "$ver" ] &&
	 grep -qx "Version: $ver" "$r/usr/lib/$ma/pkgconfig/bitnet-client.pc" &&
	 [ "$("$r/usr/bin/bitnetctl" --version)" = "bitnetctl $ver" ] &&
	 [ "$("$r/usr/sbin/bitnetd" --version)" = "bitnetd $ver" ]'
for f in usr/sbin/bitnetd usr/bin/bitnetctl usr/bin/bitnet-run usr/bin/bitnet-bench \
	usr/bin/bitnet-mkmodel usr/bin/bitnet-httpd; do
	[ -x "$r/$f" ] || missing_prog="${missing_prog:-} $f"
done
check "programs in /usr/sbin and /usr/bin" '[ -z "${missing_prog:-}" ]'
check "units: bitnetd.service, bitnet-httpd.socket and .service in /lib/systemd/system" \
	'[ -f "$r/lib/systemd/system/bitnetd.service" ] &&
	 [ -f "$r/lib/systemd/system/bitnet-httpd.socket" ] &&
	 [ -f "$r/lib/systemd/system/bitnet-httpd.service" ]'
check "the units start the packaged programs" \
	'grep -q "^ExecStart=/usr/sbin/bitnetd " "$r/lib/systemd/system/bitnetd.service" &&
	 grep -q "^ExecStart=/usr/bin/bitnet-httpd " "$r/lib/systemd/system/bitnet-httpd.service"'
check "D-Bus activation goes through bitnetd.service" \
	'grep -q "^SystemdService=bitnetd.service" \
		"$r/usr/share/dbus-1/system-services/org.bitnet.Inference1.service"'
check "D-Bus policy and interface in /usr/share/dbus-1" \
	'[ -f "$r/usr/share/dbus-1/system.d/org.bitnet.Inference1.conf" ] &&
	 [ -f "$r/usr/share/dbus-1/interfaces/org.bitnet.Inference1.xml" ]'
check "polkit actions" '[ -f "$r/usr/share/polkit-1/actions/org.bitnet.policy" ]'
check "sysusers.d entry creates user bitnetd and group bitnet" \
	'grep -q "^u *bitnetd" "$r/usr/lib/sysusers.d/bitnet.conf" &&
	 grep -q "^g *bitnet" "$r/usr/lib/sysusers.d/bitnet.conf"'
check "udev rule gives /dev/bitnet to group bitnet" \
	'grep -q "GROUP=\"bitnet\"" "$r/lib/udev/rules.d/60-bitnet.rules"'
check "configuration /etc/bitnet/bitnetd.conf is a conffile" \
	'[ -f "$r/etc/bitnet/bitnetd.conf" ] &&
	 dpkg-deb -I "$tmp"/bitnetd_*.deb conffiles | grep -qx /etc/bitnet/bitnetd.conf'
check "DKMS source with dkms.conf of version $ver" \
	'grep -q "^PACKAGE_VERSION=\"$ver\"" "$r/usr/src/bitnet-$ver/dkms.conf" &&
	 [ -f "$r/usr/src/bitnet-$ver/Kbuild" ] && [ -f "$r/usr/src/bitnet-$ver/kmod/main.c" ]'
check "bitnet-dkms depends on dkms and registers the module in postinst" \
	'dpkg-deb -f "$tmp"/bitnet-dkms_*.deb Depends | grep -q dkms &&
	 dpkg-deb -I "$tmp"/bitnet-dkms_*.deb postinst | grep -q "common.postinst"'
check "libbitnet-client1's symbols: 1.0 functions from 1.0.0, the 1.1 node's from 1.1.0" \
	'dpkg-deb -I "$tmp"/libbitnet-client1_*.deb symbols >"$tmp/symbols" &&
	 grep -qx " bitnet_generate@LIBBITNET_CLIENT_1 1.0.0" "$tmp/symbols" &&
	 grep -qx " bitnet_model_share_weights@LIBBITNET_CLIENT_1.1 1.1.0" "$tmp/symbols"'
check "libbitnet-client.so.1 in the multiarch dir, soname link resolves" \
	'[ -f "$(readlink -f "$r/usr/lib/$ma/libbitnet-client.so.1")" ] &&
	 objdump -p "$r/usr/lib/$ma/libbitnet-client.so.1" | grep -q "SONAME *libbitnet-client.so.1$"'
check "-dev: header, .so link, .a, pkg-config file with the multiarch libdir" \
	'[ -f "$r/usr/include/bitnet-client.h" ] && [ -L "$r/usr/lib/$ma/libbitnet-client.so" ] &&
	 [ -f "$r/usr/lib/$ma/libbitnet-client.a" ] &&
	 grep -q "^libdir=/usr/lib/$ma" "$r/usr/lib/$ma/pkgconfig/bitnet-client.pc"'
check "a program builds against the -dev package's files and runs" \
	'cc -I"$r/usr/include" -o "$tmp/example" "$SRC/libclient/examples/example.c" \
		-L"$r/usr/lib/$ma" -lbitnet-client -lsystemd 2>"$tmp/cc.log" &&
	 LD_LIBRARY_PATH="$r/usr/lib/$ma" "$tmp/example" 2>/dev/null | grep -q . ||
	 { LD_LIBRARY_PATH="$r/usr/lib/$ma" "$tmp/example" 2>&1 | grep -q "^usage:"; }'
check "the packaged tools run (--help)" \
	'"$r/usr/bin/bitnetctl" --help >/dev/null 2>&1 && "$r/usr/bin/bitnet-httpd" --help |
	 grep -q "^usage: bitnet-httpd"'
check "man pages for every program" \
	'for m in man1/bitnetctl.1 man1/bitnet-run.1 man1/bitnet-bench.1 man1/bitnet-mkmodel.1 \
		man8/bitnetd.8 man8/bitnet-httpd.8 man3/libbitnet-client.3; do
		[ -f "$r/usr/share/man/$m.gz" ] || exit 1; done'
post=$(dpkg-deb -I "$tmp"/bitnetd_*.deb postinst 2>/dev/null)
check "bitnetd postinst: systemd-sysusers, then the service is enabled" \
	'printf "%s\n" "$post" | grep -n "systemd-sysusers\|deb-systemd-helper enable" |
	 head -1 | grep -q sysusers && printf "%s\n" "$post" | grep -q "enable .bitnetd.service"'
hpost=$(dpkg-deb -I "$tmp"/bitnet-httpd_*.deb postinst 2>/dev/null)
# A fresh install enables what follows "was-enabled defaults to true" (the
# service is only re-enabled on upgrade if the admin had enabled it).
fresh=$(printf '%s\n' "$hpost" | grep -A4 "was-enabled defaults to true")
check "bitnet-httpd postinst enables the socket on install, not the service" \
	'printf "%s\n" "$fresh" | grep -q "enable .bitnet-httpd.socket" &&
	 ! printf "%s\n" "$fresh" | grep -q "bitnet-httpd.service"'
check "shared library dependencies filled in (libbitnet-client1 needs libsystemd0)" \
	'dpkg-deb -f "$tmp"/libbitnet-client1_*.deb Depends | grep -q libsystemd0 &&
	 dpkg-deb -f "$tmp"/bitnet-httpd_*.deb Depends | grep -q libmicrohttpd'
check "nothing outside the packages' own directories (no /usr/local, no build paths)" \
	'[ ! -e "$r/usr/local" ] && ! grep -rqs "$tmp/src" "$r/lib/systemd" "$r/usr/share/dbus-1" \
		"$r/usr/lib/$ma/pkgconfig"'
check "the source tree copy was left clean (debian/ build outputs removed by clean)" \
	'(cd "$tmp/src" && dpkg-buildpackage -us -uc -T clean >/dev/null 2>&1) &&
	 [ ! -d "$tmp/src/debian/build" ] && [ ! -d "$tmp/src/debian/tmp" ]'
exit $((failed > 0))
