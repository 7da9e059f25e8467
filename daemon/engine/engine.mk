# SPDX-License-Identifier: GPL-2.0
#
# The model, forward pass, samplers, chat formatting and the cpu backend
# (daemon/engine/), plus the engine's tools and tests.

ENGINE_SRCS	+= daemon/engine/model.c daemon/engine/ternary.c \
		   daemon/engine/forward.c daemon/engine/seq.c \
		   daemon/engine/ops.c daemon/engine/attention.c \
		   daemon/engine/head_q8.c daemon/engine/head_q4.c daemon/engine/head_q6k.c \
		   daemon/engine/quant_k.c daemon/engine/quant_k_quantize.c \
		   daemon/engine/pool.c \
		   daemon/engine/sampler.c daemon/engine/chat.c \
		   daemon/engine/backend.c daemon/engine/backend_cpu.c

# Float loops of the forward pass: let the compiler unroll and vectorise.
CFLAGS_daemon_engine_ops	:= -O3
CFLAGS_daemon_engine_forward	:= -O3
CFLAGS_daemon_engine_head_q8	:= -O3
CFLAGS_daemon_engine_head_q4	:= -O3
CFLAGS_daemon_engine_head_q6k	:= -O3
CFLAGS_daemon_engine_quant_k	:= -O3
# Same bits on every ISA path: no multiply-add fused behind our back.
CFLAGS_daemon_engine_attention	:= -O3 -ffp-contract=off

include tools/engine-tools.mk
