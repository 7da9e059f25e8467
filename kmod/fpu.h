/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SIMD sections around the compute core. Every section is one bounded
 * piece of work (a tile, a repack); callers reschedule between them.
 */
#ifndef BITNET_FPU_H
#define BITNET_FPU_H

#ifdef CONFIG_X86
#include <asm/fpu/api.h>

static inline void bitnet_fpu_begin(void)
{
	kernel_fpu_begin();
}

static inline void bitnet_fpu_end(void)
{
	kernel_fpu_end();
}
#else
static inline void bitnet_fpu_begin(void) { }
static inline void bitnet_fpu_end(void) { }
#endif

#endif /* BITNET_FPU_H */
