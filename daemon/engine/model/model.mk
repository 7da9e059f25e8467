# SPDX-License-Identifier: GPL-2.0
#
# The model (daemon/engine/model/): loading from GGUF, the forward pass over
# one or many sequences, the KV caches, the thread pool, chat formatting.
# model_internal.h stays inside.

ENGINE_SRCS	+= daemon/engine/model/model.c daemon/engine/model/forward.c \
		   daemon/engine/model/seq.c daemon/engine/model/pool.c \
		   daemon/engine/model/chat.c

# Float loops of the forward pass: let the compiler unroll and vectorise.
CFLAGS_daemon_engine_model_forward	:= -O3
