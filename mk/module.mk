# SPDX-License-Identifier: GPL-2.0
#
# `make module [KDIR=...] [MODULE_KBUILD_FLAGS=...]`: builds bitnet.ko through the top-level Kbuild.
# The sources are mirrored into $(BUILD)/kmod/<kernel release>/ and built
# there with M=, so the source tree stays as git has it and one checkout can
# hold modules for several kernels at once. The VM harness (tests/vm/) runs
# it once per kernel with KDIR=/usr/src/linux-headers-<release>.
#
# Kernel pieces that ship only inside Debian's linux-source-6.12 tarball are
# extracted once per build dir by `make ksft-headers` (about 20 s):
#   KSFT_INC	   dir holding kselftest_harness.h and kselftest.h; kselftests
#		   compile with -I$(KSFT_INC) and list $(KSFT_HEADERS) as a
#		   prerequisite so the extraction runs first
#   CHECKPATCH	   scripts/checkpatch.pl with its spelling.txt and
#		   const_structs.checkpatch beside it (used by mk/style.mk)

KDIR_RUNNING	:= /lib/modules/$(shell uname -r)/build
KDIR_NEWEST	:= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-cloud-amd64) \
					 $(wildcard /usr/src/linux-headers-*-amd64)))
KDIR		?= $(if $(wildcard $(KDIR_RUNNING)/Makefile),$(KDIR_RUNNING),$(KDIR_NEWEST))
# The release modules are built for: utsrelease.h is what the kernel checks
# (vermagic); Debian's 6.1 headers carry "6.1.NNN" in kernel.release.
KRELEASE	= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
			$(KDIR)/include/generated/utsrelease.h 2>/dev/null || \
			cat $(KDIR)/include/config/kernel.release 2>/dev/null)
MODULE_DIR	= $(BUILD)/kmod/$(KRELEASE)
MODULE_KBUILD_FLAGS ?=
MODULE_SRCS	:= Kbuild $(shell find kmod uapi -name '*.[ch]' -o -name '*.inc' \
			   -o -name 'Kbuild*' 2>/dev/null)

LINUX_SOURCE_TAR := /usr/src/linux-source-6.12.tar.xz
KSRC_EXTRACT	:= $(BUILD)/linux-source-extract
KSFT_INC	:= $(BUILD)/ksft-include
KSFT_HEADERS	:= $(KSFT_INC)/kselftest_harness.h $(KSFT_INC)/kselftest.h
CHECKPATCH_DIR	:= $(BUILD)/checkpatch
CHECKPATCH	:= $(CHECKPATCH_DIR)/checkpatch.pl

.PHONY: module module-clean ksft-headers
module:
	@test -f "$(KDIR)/Makefile" || \
		{ echo "module: no kernel build dir (KDIR=$(KDIR)); run 'make deps'" >&2; exit 1; }
	@mkdir -p $(MODULE_DIR)
	@tar cf - $(MODULE_SRCS) | tar xf - -C $(MODULE_DIR)
	$(MAKE) -C $(KDIR) M=$(abspath $(MODULE_DIR)) $(MODULE_KBUILD_FLAGS) modules
	@echo "module: $(MODULE_DIR)/bitnet.ko"

module-clean:
	rm -rf $(BUILD)/kmod

ksft-headers: $(KSFT_HEADERS) $(CHECKPATCH)

# One pass over the tarball yields every piece; the stamp keeps make from
# running it once per target.
$(KSFT_HEADERS) $(CHECKPATCH): $(KSRC_EXTRACT)/.stamp
$(KSRC_EXTRACT)/.stamp:
	@test -f $(LINUX_SOURCE_TAR) || \
		{ echo "ksft-headers: $(LINUX_SOURCE_TAR) missing; run 'make deps'" >&2; exit 1; }
	@rm -rf $(KSRC_EXTRACT) && mkdir -p $(KSRC_EXTRACT) $(KSFT_INC) $(CHECKPATCH_DIR)
	@echo "  EXTRACT kselftest headers, checkpatch from $(LINUX_SOURCE_TAR)"
	@tar -xJf $(LINUX_SOURCE_TAR) -C $(KSRC_EXTRACT) --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	@cp $(KSRC_EXTRACT)/tools/testing/selftests/kselftest_harness.h \
		$(KSRC_EXTRACT)/tools/testing/selftests/kselftest.h $(KSFT_INC)/
	@cp $(KSRC_EXTRACT)/scripts/checkpatch.pl $(KSRC_EXTRACT)/scripts/spelling.txt \
		$(KSRC_EXTRACT)/scripts/const_structs.checkpatch $(CHECKPATCH_DIR)/
	@touch $@ && touch $(KSFT_HEADERS) $(CHECKPATCH)
