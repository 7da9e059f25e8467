# SPDX-License-Identifier: GPL-2.0
#
# The forward pass's kernels (daemon/engine/kernels/): float ops, attention,
# the output head in int8/4-bit/Q6_K, K-quants, ternary packing. No model
# here: each kernel works on the tensors it is given.

ENGINE_SRCS	+= daemon/engine/kernels/ops.c daemon/engine/kernels/attention.c \
		   daemon/engine/kernels/ternary.c \
		   daemon/engine/kernels/head_q8.c daemon/engine/kernels/head_q4.c \
		   daemon/engine/kernels/head_q6k.c \
		   daemon/engine/kernels/quant_k.c daemon/engine/kernels/quant_k_quantize.c

# Float loops: let the compiler unroll and vectorise.
CFLAGS_daemon_engine_kernels_ops	:= -O3
CFLAGS_daemon_engine_kernels_head_q8	:= -O3
CFLAGS_daemon_engine_kernels_head_q4	:= -O3
CFLAGS_daemon_engine_kernels_head_q6k	:= -O3
CFLAGS_daemon_engine_kernels_quant_k	:= -O3
# Same bits on every ISA path: no multiply-add fused behind our back.
CFLAGS_daemon_engine_kernels_attention	:= -O3 -ffp-contract=off
