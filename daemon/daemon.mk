# SPDX-License-Identifier: GPL-2.0
#
# The engine library (daemon/engine/, engine.h its public face) and bitnetd.
# The engine is one folder and one fragment per part, each including only
# the faces of the parts below it:
#   gen/	 logits to tokens: samplers
#   model/	 loading, forward pass, KV caches, thread pool, chat formatting
#   backend/	 the ternary matmuls: cpu, or /dev/bitnet (kmod)
#   kernels/	 float ops, attention, output heads, K-quants, ternary packing
#   tokenizer/ vocabulary, BPE, SentencePiece, detokenizer, UTF-8
#   gguf/	 the GGUF file format

ENGINE_SRCS	:=
ENGINE_LDLIBS	:=
include daemon/engine/gguf/gguf.mk
include daemon/engine/tokenizer/tokenizer.mk
include daemon/engine/kernels/kernels.mk
include daemon/engine/backend/backend.mk
include daemon/engine/model/model.mk
include daemon/engine/gen/gen.mk

ENGINE_LIB	:= $(BUILD)/lib/libbitnet-engine.a
ENGINE_OBJS	:= $(ENGINE_SRCS:%.c=$(BUILD)/obj/%.o)
LIBS		+= $(ENGINE_LIB)

$(ENGINE_LIB): $(ENGINE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

include tools/engine-tools.mk
include daemon/bitnetd/bitnetd.mk
