# SPDX-License-Identifier: GPL-2.0
#
# Generation (daemon/engine/gen/): from logits to tokens (the samplers).

ENGINE_SRCS	+= daemon/engine/gen/sampler.c
