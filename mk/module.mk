# SPDX-License-Identifier: GPL-2.0
#
# `make module [KDIR=...]`: builds bitnet.ko through the top-level Kbuild.
# The sources are mirrored into $(BUILD)/kmod/<kernel release>/ and built
# there with M=, so the source tree stays as git has it and one checkout can
# hold modules for several kernels at once.

KDIR_RUNNING	:= /lib/modules/$(shell uname -r)/build
KDIR_NEWEST	:= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-cloud-amd64) \
					 $(wildcard /usr/src/linux-headers-*-amd64)))
KDIR		?= $(if $(wildcard $(KDIR_RUNNING)/Makefile),$(KDIR_RUNNING),$(KDIR_NEWEST))
KRELEASE	= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
MODULE_DIR	= $(BUILD)/kmod/$(KRELEASE)
MODULE_SRCS	:= Kbuild $(shell find kmod uapi -name '*.[ch]' -o -name '*.inc' -o -name 'Kbuild*' 2>/dev/null)

.PHONY: module module-clean
module:
	@test -f "$(KDIR)/Makefile" || { echo "module: no kernel build dir (KDIR=$(KDIR)); run 'make deps'" >&2; exit 1; }
	@mkdir -p $(MODULE_DIR)
	@tar cf - $(MODULE_SRCS) | tar xf - -C $(MODULE_DIR)
	$(MAKE) -C $(KDIR) M=$(abspath $(MODULE_DIR)) modules
	@echo "module: $(MODULE_DIR)/bitnet.ko"

module-clean:
	rm -rf $(BUILD)/kmod
