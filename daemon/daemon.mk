# SPDX-License-Identifier: GPL-2.0
#
# The engine library (daemon/engine/) and bitnetd. Engine sources come from
# three fragments: file formats and tokenizers, the model and forward pass,
# and the /dev/bitnet backend.

ENGINE_SRCS	:=
ENGINE_LDLIBS	:=
include daemon/engine/format.mk
include daemon/engine/engine.mk
include daemon/engine/kmod.mk

ENGINE_LIB	:= $(BUILD)/lib/libbitnet-engine.a
ENGINE_OBJS	:= $(ENGINE_SRCS:%.c=$(BUILD)/obj/%.o)
LIBS		+= $(ENGINE_LIB)

$(ENGINE_LIB): $(ENGINE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

include daemon/bitnetd/bitnetd.mk
