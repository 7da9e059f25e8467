#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP: `make install` into a scratch DESTDIR (PREFIX=/usr, then /usr/local)
# puts every file the build has produced where mk/install.mk says, the
# library's soname links are right, pkg-config finds the library in the
# DESTDIR and a program builds against it, and `make uninstall` leaves
# nothing behind. A file whose source the build has not produced yet is a
# SKIP, never a silent pass.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

run_make() {
	# -o all: install the tree as built (make check built it), rebuild nothing.
	make -s -o all -C "$SRC" BUILD="$BUILD" DESTDIR="$dest" PREFIX="$1" "$2" \
		>"$dest.log" 2>&1 || { sed 's/^/#   /' "$dest.log" | tail -20; return 1; }
}

# expect SOURCE INSTALLED-PATH: present when the source exists.
expect() {
	if [ ! -e "$1" ]; then
		skip "installs ${2#/}" "${1#"$SRC"/} not built yet"
	else
		local path=$dest$2
		check "installs ${2#/}" '[ -f "$path" ]'
	fi
}

if ! run_make /usr install; then
	not_ok "make install DESTDIR=... PREFIX=/usr"
	echo "1..$n"
	exit 1
fi
ok "make install DESTDIR=... PREFIX=/usr"

b=$BUILD/bin
expect "$b/bitnetd" /usr/sbin/bitnetd
for p in bitnetctl bitnet-run bitnet-mkmodel bitnet-bench; do
	expect "$b/$p" "/usr/bin/$p"
done
so=$(ls "$BUILD"/lib/libbitnet-client.so.1.* 2>/dev/null | head -1)
if [ -n "$so" ]; then
	so=${so##*/}
	expect "$BUILD/lib/$so" "/usr/lib/$so"
	check "libbitnet-client.so.1 -> $so" \
		'[ "$(readlink "$dest/usr/lib/libbitnet-client.so.1")" = "$so" ]'
	check "libbitnet-client.so -> libbitnet-client.so.1" \
		'[ "$(readlink "$dest/usr/lib/libbitnet-client.so")" = libbitnet-client.so.1 ]'
	check "soname of the installed library is libbitnet-client.so.1" \
		'objdump -p "$dest/usr/lib/$so" | grep -q "SONAME *libbitnet-client.so.1$"'
else
	skip "installs libbitnet-client.so.1.*" "not built yet"
fi
expect "$BUILD/lib/libbitnet-client.a" /usr/lib/libbitnet-client.a
expect "$SRC/libclient/include/bitnet-client.h" /usr/include/bitnet-client.h
expect "$SRC/libclient/bitnet-client.pc.in" /usr/lib/pkgconfig/bitnet-client.pc
expect "$SRC/uapi/linux/bitnet.h" /usr/include/linux/bitnet.h
dkms=$(ls -d "$dest"/usr/src/bitnet-* 2>/dev/null | head -1)
check "module source for DKMS in /usr/src/bitnet-<version>" \
	'[ -n "$dkms" ] && [ -f "$dkms/dkms.conf" ] && [ -f "$dkms/uapi/linux/bitnet.h" ]'
if [ -f "$SRC/Kbuild" ]; then
	check "DKMS tree has the Kbuild and kmod/" '[ -f "$dkms/Kbuild" ] && [ -d "$dkms/kmod" ]'
	check "dkms.conf names the installed version" \
		'grep -q "^PACKAGE_VERSION=\"${dkms##*/bitnet-}\"" "$dkms/dkms.conf"'
fi
expect "$SRC/data/systemd/bitnetd.service" /usr/lib/systemd/system/bitnetd.service
if [ -f "$dest/usr/lib/systemd/system/bitnetd.service" ]; then
	unit=$dest/usr/lib/systemd/system/bitnetd.service
	check "the unit starts the installed /usr/sbin/bitnetd" \
		'grep -q "^ExecStart=/usr/sbin/bitnetd\( \|$\)" "$unit"'
fi
expect "$SRC/data/systemd/bitnet-httpd.socket" /usr/lib/systemd/system/bitnet-httpd.socket
expect "$SRC/data/systemd/bitnet-httpd.service" /usr/lib/systemd/system/bitnet-httpd.service
if [ -f "$dest/usr/lib/systemd/system/bitnet-httpd.service" ]; then
	check "the HTTP unit starts the installed /usr/bin/bitnet-httpd" \
		'grep -q "^ExecStart=/usr/bin/bitnet-httpd " "$dest/usr/lib/systemd/system/bitnet-httpd.service"'
fi
expect "$SRC/data/dbus/org.bitnet.Inference1.conf" \
	/usr/share/dbus-1/system.d/org.bitnet.Inference1.conf
expect "$SRC/data/dbus/org.bitnet.Inference1.service" \
	/usr/share/dbus-1/system-services/org.bitnet.Inference1.service
expect "$SRC/data/dbus/org.bitnet.Inference1.xml" \
	/usr/share/dbus-1/interfaces/org.bitnet.Inference1.xml
expect "$SRC/data/polkit/org.bitnet.policy" /usr/share/polkit-1/actions/org.bitnet.policy
expect "$SRC/data/bitnetd.conf" /etc/bitnet/bitnetd.conf
expect "$SRC/data/sysusers/bitnet.conf" /usr/lib/sysusers.d/bitnet.conf
expect "$SRC/data/udev/60-bitnet.rules" /usr/lib/udev/rules.d/60-bitnet.rules
expect "$SRC/data/modules-load/bitnet.conf" /usr/lib/modules-load.d/bitnet.conf
expect "$SRC/data/completion/bitnetctl" /usr/share/bash-completion/completions/bitnetctl
for m in "$SRC"/man/*.[1-8]; do
	[ -f "$m" ] || continue
	expect "$m" "/usr/share/man/man${m##*.}/${m##*/}"
done

if [ -f "$dest/usr/lib/pkgconfig/bitnet-client.pc" ]; then
	# The DESTDIR's .pc first; libsystemd's (Requires.private) from the host.
	flags=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" \
		pkg-config --cflags --libs bitnet-client 2>&1)
	echo "# pkg-config --cflags --libs bitnet-client: $flags"
	check "pkg-config points into the DESTDIR" \
		'grep -q -- "-I$dest/usr/include" <<<"$flags" &&
		 grep -q -- "-L$dest/usr/lib" <<<"$flags" &&
		 grep -q -- "-lbitnet-client" <<<"$flags"'
	if [ -f "$dest/usr/include/bitnet-client.h" ] && [ -n "$so" ]; then
		printf '#include <bitnet-client.h>\nint main(void)\n{\n\treturn 0;\n}\n' >"$dest.c"
		check "a program builds and links with those flags" \
			'gcc -Wall -Werror -o "$dest.bin" "$dest.c" $flags >"$dest.log" 2>&1 ||
			 { sed "s/^/#   /" "$dest.log"; false; }'
		rm -f "$dest.c" "$dest.bin"
	fi
else
	skip "pkg-config in the DESTDIR" "no bitnet-client.pc installed"
fi

manifest=$dest/usr/share/bitnet/install-manifest
installed() { (cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort); }
check "every installed file is in the manifest, and only those" \
	'diff <(installed) <(sort "$manifest") >/dev/null'

check "make uninstall" 'run_make /usr uninstall'
left=$(cd "$dest" && find . -mindepth 1 | head -5)
check "uninstall leaves nothing in the DESTDIR${left:+ (left: $left)}" '[ -z "$left" ]'

# /usr/local: units, rules and sysusers under /usr/local/lib, D-Bus policy in /etc.
if run_make /usr/local install; then
	ok "make install DESTDIR=... PREFIX=/usr/local"
	policy=org.bitnet.Inference1.conf
	check "/usr/local: policy, modules-load, pkg-config prefix where they are read" \
		'[ -f "$dest/etc/dbus-1/system.d/$policy" -o ! -f "$SRC/data/dbus/$policy" ] &&
		 [ -f "$dest/usr/local/lib/modules-load.d/bitnet.conf" ] &&
		 grep -qx "prefix=/usr/local" "$dest/usr/local/lib/pkgconfig/bitnet-client.pc"'
	check "/usr/local: make uninstall leaves nothing" \
		'run_make /usr/local uninstall && [ -z "$(installed)" ]'
else
	not_ok "make install DESTDIR=... PREFIX=/usr/local"
fi
rm -f "$dest.log"
echo "1..$n"
[ "$failed" -eq 0 ]
