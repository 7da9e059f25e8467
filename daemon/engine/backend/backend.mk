# SPDX-License-Identifier: GPL-2.0
#
# The backends that run the ternary matmuls (daemon/engine/backend/): the
# cpu one, and "kmod", /dev/bitnet through libbitnet-dev (libdev/libdev.mk;
# engine users link libbitnet-dev.a after the engine). backend.h and
# backend_cpu.h are the part's face; backend_kmod_priv.h stays inside.

ENGINE_SRCS	+= daemon/engine/backend/backend.c daemon/engine/backend/backend_cpu.c
ENGINE_SRCS	+= daemon/engine/backend/backend_kmod.c
ENGINE_SRCS	+= daemon/engine/backend/backend_kmod_submit.c
ENGINE_SRCS	+= daemon/engine/backend/backend_kmod_share.c
ENGINE_LDLIBS	+= -luring
