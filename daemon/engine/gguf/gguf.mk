# SPDX-License-Identifier: GPL-2.0
#
# The GGUF file format (daemon/engine/gguf/): reader, typed getters, tensor
# types, writer. gguf.h is the part's face; gguf_priv.h stays inside.

GGUF_SRCS	:= daemon/engine/gguf/gguf.c daemon/engine/gguf/gguf_get.c \
		   daemon/engine/gguf/gguf_types.c daemon/engine/gguf/gguf_writer.c
ENGINE_SRCS	+= $(GGUF_SRCS)
