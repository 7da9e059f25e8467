# SPDX-License-Identifier: GPL-2.0
#
# `make kselftests`: the module's selftests, statically linked TAP programs
# in $(BUILD)/kselftest/bin/, which the VM harness (tests/vm/) runs inside
# each guest after insmod (exit code 4: skipped). They use the kernel's
# kselftest_harness.h (extracted by `make ksft-headers`, mk/module.mk).
# The bench program prints TAP too: its numbers are "#" comments.

KSFT_NAMES	:= bitnet_ioctl_test bitnet_ring_test bitnet_uring_test \
		   bitnet_share_test bitnet_backend_test bitnet_attach_test \
		   bitnet_bench_ovh \
		   bitnet_zz_final_test
KSFT_BIN	:= $(BUILD)/kselftest/bin
KSFT_PROGS	:= $(KSFT_NAMES:%=$(KSFT_BIN)/%)
KSFT_COMMON	:= $(BUILD)/obj/tests/kselftest/ksft_common.o
KSFT_ENGINE_LIB	:= $(BUILD)/lib/libbitnet-engine.a

# Compile flags read KSFT_INC at recipe time (mk/module.mk defines it later).
# kselftest_harness.h is written for the selftests' -Wall, not -Wextra: its
# macros compare mixed signedness and its handlers ignore parameters.
KSFT_CFLAGS	= -isystem $(KSFT_INC) -Wno-sign-compare -Wno-unused-parameter \
		  -Wno-clobbered
$(foreach t,$(KSFT_NAMES),$(eval CFLAGS_tests_kselftest_$(t) = $$(KSFT_CFLAGS)))

$(KSFT_NAMES:%=$(BUILD)/obj/tests/kselftest/%.o) $(KSFT_COMMON): | ksft-headers

.PHONY: kselftests
kselftests: $(KSFT_PROGS)

# Tests of the engine's kmod backend link the engine.
$(KSFT_BIN)/bitnet_backend_test $(KSFT_BIN)/bitnet_attach_test: $(KSFT_BIN)/%: \
		$(BUILD)/obj/tests/kselftest/%.o $(KSFT_COMMON) $(KSFT_ENGINE_LIB) $(DEV_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $< $(KSFT_COMMON) $(KSFT_ENGINE_LIB) $(DEV_LIB) \
		$(CORE_LIB) $(ENGINE_LDLIBS) $(DEV_LDLIBS) -lpthread -lm

$(KSFT_BIN)/bitnet_bench_ovh: $(BUILD)/obj/tests/kselftest/bitnet_bench_ovh.o \
		$(BUILD)/obj/tests/kselftest/bench_ovh_group.o \
		$(KSFT_COMMON) $(KSFT_ENGINE_LIB) $(DEV_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/kselftest/bench_ovh_group.o \
		$(KSFT_COMMON) $(KSFT_ENGINE_LIB) $(DEV_LIB) $(CORE_LIB) $(ENGINE_LDLIBS) \
		$(DEV_LDLIBS) -lpthread -lm

$(KSFT_BIN)/%: $(BUILD)/obj/tests/kselftest/%.o $(KSFT_COMMON) $(DEV_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS) -o $@ $< $(KSFT_COMMON) $(DEV_LIB) $(CORE_LIB) \
		$(DEV_LDLIBS) $(CORE_LDLIBS) -lm
