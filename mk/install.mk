# SPDX-License-Identifier: GPL-2.0
#
# `make install [DESTDIR=...] [PREFIX=...]` and `make uninstall` (same
# variables). Installs what the build produced; a file the build has not
# made yet is reported ("skip") and left out, so this works at every stage.
# Every installed path is recorded in $(INSTALL_MANIFEST), which is what
# `make uninstall` removes, with the directories only bitnet used (under a
# DESTDIR also every directory left empty, so a staging tree ends empty).
#
# Programs: bitnetd goes to $(SBINDIR) (a system daemon that users do not
# run by hand; the systemd unit's and D-Bus activation file's Exec paths are
# rewritten to it), bitnetctl, bitnet-run, bitnet-mkmodel, bitnet-bench and
# any other program in BINS to $(BINDIR).
#
# System integration files go where the consumers actually look for the
# given PREFIX (checked on bookworm: systemd-analyze unit-paths, udevd's and
# dbus-daemon's built-in lists, polkitd's action dir):
#   PREFIX=/usr		vendor dirs: /usr/lib/systemd/system, /usr/lib/udev/rules.d,
#			/usr/lib/sysusers.d, /usr/lib/modules-load.d,
#			/usr/share/dbus-1/system.d, /usr/share/dbus-1/system-services
#   PREFIX=/usr/local	/usr/local/lib/{systemd/system,udev/rules.d,sysusers.d,
#			modules-load.d} (all read by systemd 252/udev), D-Bus
#			policy in /etc/dbus-1/system.d (dbus-daemon reads no
#			/usr/local policy dir), activation file in
#			/usr/local/share/dbus-1/system-services
#   any other PREFIX	/etc/{systemd/system,udev/rules.d,sysusers.d,modules-load.d},
#			/etc/dbus-1/system.d, /usr/local/share/dbus-1/system-services
# Always: polkit actions in /usr/share/polkit-1/actions (the only directory
# polkitd 122 reads), configuration in /etc/bitnet, the module source for
# DKMS in /usr/src/bitnet-$(BITNET_VERSION). DESTDIR prefixes all of them.
# After a real install: systemd-sysusers, udevadm control --reload,
# systemctl daemon-reload, and `dkms install bitnet/$(BITNET_VERSION)`.

BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
DATADIR		?= $(PREFIX)/share
MANDIR		?= $(DATADIR)/man
SYSCONFDIR	?= /etc
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
BASHCOMPDIR	?= $(DATADIR)/bash-completion/completions
DBUS_IFACEDIR	?= $(DATADIR)/dbus-1/interfaces
POLKIT_ACTIONDIR ?= /usr/share/polkit-1/actions
DKMS_SRCDIR	?= /usr/src/bitnet-$(BITNET_VERSION)

# systemd/udev read $(PREFIX)/lib/... only for /usr and /usr/local.
INSTALL_SYSLIB	:= $(if $(filter /usr /usr/local,$(PREFIX)),$(PREFIX)/lib)
SYSTEMD_UNITDIR	?= $(or $(INSTALL_SYSLIB),/etc)/systemd/system
UDEV_RULESDIR	?= $(or $(INSTALL_SYSLIB),/etc)/udev/rules.d
SYSUSERSDIR	?= $(or $(INSTALL_SYSLIB),/etc)/sysusers.d
MODULESLOADDIR	?= $(or $(INSTALL_SYSLIB),/etc)/modules-load.d
DBUS_POLICYDIR	?= $(if $(filter /usr,$(PREFIX)),/usr/share,/etc)/dbus-1/system.d
DBUS_SYSSERVDIR	?= $(if $(filter /usr,$(PREFIX)),/usr,/usr/local)/share/dbus-1/system-services

INSTALL_MANIFEST ?= $(DATADIR)/bitnet/install-manifest
# Directories that hold only bitnet's files; uninstall removes them when empty.
INSTALL_OWNDIRS	= $(DKMS_SRCDIR) $(SYSCONFDIR)/bitnet $(DATADIR)/bitnet

# Placeholders the unit, activation and dkms files may use.
INSTALL_SED	= -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
		  -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		  -e 's|@VERSION@|$(BITNET_VERSION)|g' \
		  -e 's,^\(Exec[A-Za-z]*=\)[^ ]*/bitnetd\( .*\)\{0\,1\}$$,\1$(SBINDIR)/bitnetd\2,'

# Shell helpers for the recipes: inst MODE SRC DEST, inst_sed MODE SRC DEST,
# link TARGET DEST; each records DEST in the manifest.
define INSTALL_HELPERS
D='$(DESTDIR)'; manifest="$$D$(INSTALL_MANIFEST)"; \
mkdir -p "$$(dirname "$$manifest")" && touch "$$manifest"; \
record() { grep -qxF "$$1" "$$manifest" || echo "$$1" >>"$$manifest"; }; \
inst() { \
	if [ ! -e "$$2" ]; then echo "  SKIP    $$2 (not built yet)"; return 0; fi; \
	install -D -m "$$1" "$$2" "$$D$$3" && record "$$3" && echo "  INSTALL $$3"; \
}; \
inst_sed() { \
	if [ ! -e "$$2" ]; then echo "  SKIP    $$2 (not there yet)"; return 0; fi; \
	mkdir -p "$$D$$(dirname "$$3")" && sed $(INSTALL_SED) "$$2" >"$$D$$3.tmp" && \
	chmod "$$1" "$$D$$3.tmp" && mv "$$D$$3.tmp" "$$D$$3" && record "$$3" && \
	echo "  INSTALL $$3"; \
}; \
link() { \
	mkdir -p "$$D$$(dirname "$$2")" && ln -sfn "$$1" "$$D$$2" && record "$$2" && \
	echo "  LINK    $$2 -> $$1"; \
}
endef

.PHONY: install uninstall
install: all
	@set -e; $(INSTALL_HELPERS); \
	for p in $(BINS); do \
		case "$${p##*/}" in \
		bitnetd) inst 0755 "$$p" "$(SBINDIR)/bitnetd" ;; \
		*) inst 0755 "$$p" "$(BINDIR)/$${p##*/}" ;; \
		esac; \
	done; \
	so=$$(ls $(BUILD)/lib/libbitnet-client.so.1.* 2>/dev/null | head -1); \
	if [ -n "$$so" ]; then \
		inst 0755 "$$so" "$(LIBDIR)/$${so##*/}"; \
		link "$${so##*/}" "$(LIBDIR)/libbitnet-client.so.1"; \
		link libbitnet-client.so.1 "$(LIBDIR)/libbitnet-client.so"; \
	else \
		echo "  SKIP    libbitnet-client.so.1.* (not built yet)"; \
	fi; \
	inst 0644 $(BUILD)/lib/libbitnet-client.a "$(LIBDIR)/libbitnet-client.a"; \
	inst 0644 libclient/include/bitnet-client.h "$(INCLUDEDIR)/bitnet-client.h"; \
	if [ -f libclient/bitnet-client.pc.in ]; then \
		mkdir -p "$$D$(PKGCONFIGDIR)"; \
		sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
		    -e 's|@VERSION@|$(BITNET_VERSION)|g' \
		    libclient/bitnet-client.pc.in >"$$D$(PKGCONFIGDIR)/bitnet-client.pc"; \
		record "$(PKGCONFIGDIR)/bitnet-client.pc"; \
		echo "  INSTALL $(PKGCONFIGDIR)/bitnet-client.pc"; \
	fi; \
	inst 0644 uapi/linux/bitnet.h "$(INCLUDEDIR)/linux/bitnet.h"; \
	for f in $(MODULE_SRCS); do inst 0644 "$$f" "$(DKMS_SRCDIR)/$$f"; done; \
	inst_sed 0644 data/dkms/dkms.conf "$(DKMS_SRCDIR)/dkms.conf"; \
	inst_sed 0644 data/systemd/bitnetd.service "$(SYSTEMD_UNITDIR)/bitnetd.service"; \
	inst_sed 0644 data/systemd/bitnet-httpd.service \
		"$(SYSTEMD_UNITDIR)/bitnet-httpd.service"; \
	inst 0644 data/systemd/bitnet-httpd.socket "$(SYSTEMD_UNITDIR)/bitnet-httpd.socket"; \
	inst 0644 data/dbus/org.bitnet.Inference1.conf \
		"$(DBUS_POLICYDIR)/org.bitnet.Inference1.conf"; \
	inst_sed 0644 data/dbus/org.bitnet.Inference1.service \
		"$(DBUS_SYSSERVDIR)/org.bitnet.Inference1.service"; \
	inst 0644 data/dbus/org.bitnet.Inference1.xml \
		"$(DBUS_IFACEDIR)/org.bitnet.Inference1.xml"; \
	inst 0644 data/polkit/org.bitnet.policy "$(POLKIT_ACTIONDIR)/org.bitnet.policy"; \
	inst 0644 data/bitnetd.conf "$(SYSCONFDIR)/bitnet/bitnetd.conf"; \
	inst 0644 data/sysusers/bitnet.conf "$(SYSUSERSDIR)/bitnet.conf"; \
	inst 0644 data/udev/60-bitnet.rules "$(UDEV_RULESDIR)/60-bitnet.rules"; \
	inst 0644 data/modules-load/bitnet.conf "$(MODULESLOADDIR)/bitnet.conf"; \
	for m in $(wildcard man/*.[1-8]); do \
		inst 0644 "$$m" "$(MANDIR)/man$${m##*.}/$${m##*/}"; \
	done; \
	inst 0644 data/completion/bitnetctl "$(BASHCOMPDIR)/bitnetctl"; \
	record "$(INSTALL_MANIFEST)"; \
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then \
		ldconfig; \
	fi; \
	echo "install: $$(wc -l <"$$manifest") files, listed in $(DESTDIR)$(INSTALL_MANIFEST)"

uninstall:
	@D='$(DESTDIR)'; manifest="$$D$(INSTALL_MANIFEST)"; \
	if [ ! -f "$$manifest" ]; then \
		echo "uninstall: no $$manifest: nothing installed here"; exit 0; \
	fi; \
	n=0; \
	while IFS= read -r f; do \
		[ -n "$$f" ] || continue; \
		if [ -e "$$D$$f" ] || [ -L "$$D$$f" ]; then \
			rm -f "$$D$$f" && n=$$((n + 1)); \
		fi; \
		dir=$$(dirname "$$f"); \
		while [ -n "$$D" ] && [ "$$dir" != / ] && rmdir "$$D$$dir" 2>/dev/null; do \
			dir=$$(dirname "$$dir"); \
		done; \
	done <"$$manifest"; \
	rm -f "$$manifest"; \
	for d in $(INSTALL_OWNDIRS); do \
		[ -d "$$D$$d" ] && find "$$D$$d" -depth -type d -empty -delete; \
	done; \
	echo "uninstall: removed $$n files"
