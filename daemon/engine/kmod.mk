# SPDX-License-Identifier: GPL-2.0
#
# The engine's "kmod" backend: /dev/bitnet through libbitnet-dev
# (libdev/libdev.mk); engine users link libbitnet-dev.a after the engine.

ENGINE_SRCS	+= daemon/engine/backend_kmod.c
ENGINE_SRCS	+= daemon/engine/backend_kmod_submit.c
ENGINE_SRCS	+= daemon/engine/backend_kmod_share.c
ENGINE_LDLIBS	+= -luring
