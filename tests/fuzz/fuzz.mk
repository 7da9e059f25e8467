# SPDX-License-Identifier: GPL-2.0
#
# libFuzzer targets for the GGUF reader and the tokenizer, built with
# clang-14 (-fsanitize=fuzzer,address,undefined). `make check` runs each for
# a few seconds through tests/fuzz/run-fuzz.sh, which skips when clang or
# libFuzzer is missing; `make fuzz` runs them for FUZZ_TIME seconds each
# with a corpus kept in $(BUILD)/fuzz.

FUZZ_CC		?= clang-14
FUZZ_TIME	?= 300
FUZZ_DIR	:= $(BUILD)/fuzz
FUZZ_FLAGS	:= -g -O1 -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
		   -I$(SRC) -I$(SRC)/uapi
FUZZ_BINS	:= $(FUZZ_DIR)/fuzz_gguf $(FUZZ_DIR)/fuzz_tokenizer

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FORMAT_SRCS) $(wildcard daemon/engine/*.h \
		daemon/engine/gguf/*.h daemon/engine/tokenizer/*.h) tests/unit/format/vocab_test.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FORMAT_SRCS) $(FORMAT_LDLIBS)

$(FUZZ_DIR)/mkseeds: $(BUILD)/obj/tests/fuzz/mkseeds.o $(FORMAT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(FORMAT_LDLIBS)

.SECONDARY: $(BUILD)/obj/tests/fuzz/mkseeds.o

# run-fuzz.sh builds the fuzzers itself (only when clang is there)
$(BUILD)/tests/fuzz/fuzz-check: tests/fuzz/run-fuzz.sh $(FUZZ_DIR)/mkseeds
	@mkdir -p $(dir $@)
	install -m 755 $< $@

.PHONY: fuzz-bins fuzz
fuzz-bins: $(FUZZ_BINS) $(FUZZ_DIR)/mkseeds

fuzz: $(FUZZ_DIR)/mkseeds
	BUILD=$(abspath $(BUILD)) SRC=$(SRC) FUZZ_CC=$(FUZZ_CC) \
		FUZZ_TIME=$(FUZZ_TIME) FUZZ_KEEP=1 bash tests/fuzz/run-fuzz.sh

CHECK_PROGS	+= $(BUILD)/tests/fuzz/fuzz-check
CHECK_DEPS	+= $(BUILD)/tests/fuzz/fuzz-check
