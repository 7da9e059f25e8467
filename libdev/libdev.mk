# SPDX-License-Identifier: GPL-2.0
#
# libbitnet-dev: the userspace client of /dev/bitnet (libdev/bitnet-dev.h),
# used by the engine's kmod backend and the kselftests. Link users with
# $(DEV_LIB) $(DEV_LDLIBS).

DEV_SRCS	:= libdev/dev.c libdev/ring.c libdev/uring.c libdev/share.c
DEV_OBJS	:= $(DEV_SRCS:%.c=$(BUILD)/obj/%.o)
DEV_LIB		:= $(BUILD)/lib/libbitnet-dev.a
DEV_LDLIBS	:= -luring -lpthread
LIBS		+= $(DEV_LIB)

$(DEV_LIB): $(DEV_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Host-side unit test: the ABI's layout and the library without a device.
DEV_TEST	:= $(BUILD)/tests/unit/libdev/test_libdev
CHECK_PROGS	+= $(DEV_TEST)
CHECK_DEPS	+= $(DEV_TEST)

$(DEV_TEST): $(BUILD)/obj/tests/unit/libdev/test_libdev.o $(DEV_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(DEV_LIB) $(DEV_LDLIBS)

include tests/kselftest/kselftest.mk
