# SPDX-License-Identifier: GPL-2.0
#
# The compute core, userspace build: libbitnet-core.a from the sources
# bitnet.ko compiles, as kmod/core/Kbuild.inc lists them (with their ISA
# flags), plus what only userspace has: the thread pool (libcore/pool.c).
# Its unit tests. Link users with $(CORE_LIB) $(CORE_LDLIBS).

include kmod/core/Kbuild.inc
CORE_KSRCS	:= $(bitnet-core-y:.o=.c)
CORE_SRCS	:= $(CORE_KSRCS) libcore/pool.c
CORE_OBJS	:= $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
CORE_LIB	:= $(BUILD)/lib/libbitnet-core.a
CORE_LDLIBS	:= -lpthread
LIBS		+= $(CORE_LIB)

CFLAGS_kmod_core_matmul_avx2	:= $(bnc_avx2_flags)
CFLAGS_kmod_core_matmul_avx512	:= $(bnc_avx512_flags)
CFLAGS_kmod_core_matmul_t5_avx2	:= $(bnc_avx2_flags)
CFLAGS_kmod_core_matmul_t5_avx512 := $(bnc_avx512_flags)
CFLAGS_kmod_core_matmul_lut3_avx512 := $(bnc_avx512_flags)
CFLAGS_kmod_core_quant_avx512	:= $(bnc_avx512_flags)

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Unit tests: tests/unit/core/<name>.c -> $(BUILD)/tests/unit/core/<name>
CORE_TESTS	:= test_formats test_quant test_matmul test_t5 test_lut3 test_pool
CORE_TEST_BINS	:= $(CORE_TESTS:%=$(BUILD)/tests/unit/core/%)
CHECK_PROGS	+= $(CORE_TEST_BINS)
CHECK_DEPS	+= $(CORE_TEST_BINS)

$(BUILD)/tests/unit/core/%: $(BUILD)/obj/tests/unit/core/%.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_LIB) $(CORE_LDLIBS) -lm

# test_formats checks the half conversions against the F16C instructions.
CFLAGS_tests_unit_core_test_formats := -mf16c

# The same tests again, core and tests built with ASan and UBSan.
CORE_SAN_FLAGS	:= -fsanitize=address,undefined -fno-sanitize-recover=all
CORE_SAN_LIB	:= $(BUILD)/lib/san/libbitnet-core.a
CORE_SAN_BINS	:= $(CORE_TESTS:%=$(BUILD)/tests/unit/core/san/%)
CHECK_PROGS	+= $(CORE_SAN_BINS)
CHECK_DEPS	+= $(CORE_SAN_BINS)

$(BUILD)/obj-san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CFLAGS_$(subst /,_,$*)) $(CORE_SAN_FLAGS) -MMD -MP -c -o $@ $<

$(CORE_SAN_LIB): $(CORE_SRCS:%.c=$(BUILD)/obj-san/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/unit/core/san/%: $(BUILD)/obj-san/tests/unit/core/%.o $(CORE_SAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CORE_SAN_FLAGS) $(LDFLAGS) -o $@ $< $(CORE_SAN_LIB) \
		$(CORE_LDLIBS) -lm

-include $(shell find $(BUILD)/obj-san -name '*.d' 2>/dev/null)

# Just the core's tests.
.PHONY: check-core
check-core: $(CORE_TEST_BINS) $(CORE_SAN_BINS)
	@BUILD=$(abspath $(BUILD)) SRC=$(SRC) tests/tap-run.sh $(CORE_TEST_BINS) $(CORE_SAN_BINS)
