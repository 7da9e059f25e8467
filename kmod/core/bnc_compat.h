/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bnc_compat.h: the only place where the compute core differs between the
 * kernel build (bitnet.ko) and the userspace build (libbitnet-core.a).
 */
#ifndef BNC_COMPAT_H
#define BNC_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/compiler.h>
#include <asm/cpufeature.h>

#define bnc_has_avx2()		(boot_cpu_has(X86_FEATURE_AVX2) && \
				 boot_cpu_has(X86_FEATURE_OSXSAVE))
#define bnc_has_avx512_vnni()	(boot_cpu_has(X86_FEATURE_AVX512F) && \
				 boot_cpu_has(X86_FEATURE_AVX512BW) && \
				 boot_cpu_has(X86_FEATURE_AVX512VL) && \
				 boot_cpu_has(X86_FEATURE_AVX512_VNNI))

#else /* userspace */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/cdefs.h>		/* __always_inline */

typedef uint8_t u8;
typedef int8_t s8;
typedef uint16_t u16;
typedef int16_t s16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#ifndef noinline
#define noinline	__attribute_noinline__	/* sys/cdefs.h */
#endif

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

/* libgcc's checks include the OS (XCR0) support of the register state. */
#define bnc_has_avx2()		__builtin_cpu_supports("avx2")
#define bnc_has_avx512_vnni()	(__builtin_cpu_supports("avx512f") && \
				 __builtin_cpu_supports("avx512bw") && \
				 __builtin_cpu_supports("avx512vl") && \
				 __builtin_cpu_supports("avx512vnni"))

#endif /* __KERNEL__ */

#endif /* BNC_COMPAT_H */
