# SPDX-License-Identifier: GPL-2.0
#
# Generation (daemon/engine/gen/): from logits to tokens and text. The
# samplers, stop strings on streamed text (stop.h), and the generator
# (engine.h: bn_gen) that bitnetd and bitnet-run both run.

ENGINE_SRCS	+= daemon/engine/gen/sampler.c daemon/engine/gen/stop.c \
		   daemon/engine/gen/gen.c
