# SPDX-License-Identifier: GPL-2.0
#
# GGUF reader/writer and tokenizers (daemon/engine/), their tests and fuzzers.

FORMAT_SRCS	:= daemon/engine/gguf.c daemon/engine/gguf_get.c \
		   daemon/engine/gguf_types.c daemon/engine/gguf_writer.c \
		   daemon/engine/vocab.c daemon/engine/vocab_map.c \
		   daemon/engine/unicode_utf8.c daemon/engine/heap.c daemon/engine/bpe.c \
		   daemon/engine/bpe_pretok.c daemon/engine/spm.c \
		   daemon/engine/tokenizer.c daemon/engine/detok.c
FORMAT_LDLIBS	:= -lpcre2-8
ENGINE_SRCS	+= $(FORMAT_SRCS)
ENGINE_LDLIBS	+= $(FORMAT_LDLIBS)

# Tests link only these objects, not the whole engine.
FORMAT_OBJS	:= $(FORMAT_SRCS:%.c=$(BUILD)/obj/%.o)
FORMAT_TESTS	:= test_gguf test_gguf_bad test_tokenizer test_detok
FORMAT_TEST_BINS := $(FORMAT_TESTS:%=$(BUILD)/tests/unit/format/%)

$(BUILD)/tests/unit/format/%: $(BUILD)/obj/tests/unit/format/%.o $(FORMAT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(FORMAT_LDLIBS) -ljson-c

# keep the test objects make would delete as intermediates
.SECONDARY: $(patsubst $(BUILD)/%,$(BUILD)/obj/%.o,$(FORMAT_TEST_BINS) \
	      $(BUILD)/tests/unit/format/bench_tokenizer)

CHECK_PROGS	+= $(FORMAT_TEST_BINS)
CHECK_DEPS	+= $(FORMAT_TEST_BINS)

.PHONY: format-tests format-bench
format-tests: $(FORMAT_TEST_BINS)

# speed of the tokenizers; prints numbers, not TAP
format-bench: $(BUILD)/tests/unit/format/bench_tokenizer
	SRC=$(SRC) $<

include tests/fuzz/fuzz.mk
