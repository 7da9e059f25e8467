# SPDX-License-Identifier: GPL-2.0
#
# The tokenizers (daemon/engine/tokenizer/): the vocabulary read from GGUF,
# BPE with its pre-tokenizer, SentencePiece, the detokenizer, UTF-8. vocab.h
# and unicode_utf8.h are the part's face; vocab_priv.h and heap.h stay inside.
# Then the file-format tests and fuzzers: they link this part and gguf/ only.

TOKENIZER_SRCS	:= daemon/engine/tokenizer/vocab.c daemon/engine/tokenizer/vocab_map.c \
		   daemon/engine/tokenizer/unicode_utf8.c daemon/engine/tokenizer/heap.c \
		   daemon/engine/tokenizer/bpe.c daemon/engine/tokenizer/bpe_pretok.c \
		   daemon/engine/tokenizer/spm.c daemon/engine/tokenizer/tokenizer.c \
		   daemon/engine/tokenizer/detok.c
ENGINE_SRCS	+= $(TOKENIZER_SRCS)
ENGINE_LDLIBS	+= -lpcre2-8

# Tests link only these objects, not the whole engine.
FORMAT_SRCS	:= $(GGUF_SRCS) $(TOKENIZER_SRCS)
FORMAT_LDLIBS	:= -lpcre2-8
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
