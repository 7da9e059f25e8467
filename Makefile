# SPDX-License-Identifier: GPL-2.0
#
# bitnet: top-level build. Userspace is built here into $(BUILD); the kernel
# module goes through Kbuild (see `make module`). Each directory contributes a
# fragment (*.mk) that appends to the lists below; nothing else edits them.
#
#   make            all userspace, -O2 -g -Wall -Wextra -Werror, into $(BUILD)
#   make module     bitnet.ko against KDIR (default: running kernel, else the
#                   newest Debian headers installed by `make deps`)
#   make check      every test; ends with "N passed, N failed, N skipped"
#   make run        the main job: bitnetd on a private bus answers a prompt
#   make run-http   the same, then serves bitnet-httpd on 127.0.0.1:8080
#   make deps       installs the Debian packages needed (idempotent)

BUILD		?= build
PREFIX		?= /usr/local
DESTDIR		?=
CC		?= gcc
# The release, in one place: the client library's file and pkg-config
# version, the DKMS source directory, the programs' --version and bitnetd's
# Version property (BITNET_VERSION in the C). debian/changelog's
# newest entry must say the same (tests/debian checks).
BITNET_VERSION	?= 1.1.0

SRC		:= $(CURDIR)
WARNFLAGS	:= -Wall -Wextra -Werror
BASE_CFLAGS	:= -O2 -g $(WARNFLAGS) -std=gnu11 -D_GNU_SOURCE -fPIC \
		   -I$(SRC)/uapi -I$(SRC) -DBITNET_VERSION='"$(BITNET_VERSION)"'
CFLAGS		?=
ALL_CFLAGS	= $(BASE_CFLAGS) $(CFLAGS)
LDFLAGS		?=

# Lists the fragments append to.
BINS		:=	# programs built into $(BUILD)/bin
LIBS		:=	# static/shared libraries built into $(BUILD)/lib
CHECK_PROGS	:=	# executables printing TAP, run by `make check` in order
CHECK_DEPS	:=	# extra things `make check` needs built first

.PHONY: all
all:

include libcore/libcore.mk
include libdev/libdev.mk
include daemon/daemon.mk
include libclient/libclient.mk
include tools/tools.mk
include httpd/httpd.mk
include tests/tests.mk
include data/data.mk
include mk/module.mk
include mk/install.mk
include mk/deps.mk
include mk/style.mk

all: $(BINS) $(LIBS)

.PHONY: check
check: all $(CHECK_DEPS)
	@BUILD=$(abspath $(BUILD)) SRC=$(SRC) tests/tap-run.sh $(CHECK_PROGS)

.PHONY: run run-http
run:
	@tests/run-main.sh

# `make run`, then bitnet-httpd on 127.0.0.1:$(HTTP_PORT) until Ctrl-C.
HTTP_PORT	?= 8080
run-http:
	@HTTP_PORT=$(HTTP_PORT) tests/run-main.sh

.PHONY: clean
clean:
	rm -rf $(BUILD)

# Userspace objects: one pattern for the whole tree.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CFLAGS_$(subst /,_,$*)) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
