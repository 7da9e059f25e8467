/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core names its formats and ISAs itself so that it builds without the
 * uapi header, but where those values cross /dev/bitnet they must be uapi's.
 * Both sides of the boundary include this (the module through
 * bitnet_priv.h, the engine's kmod backend), so a drift fails either build.
 */
#ifndef BNC_UAPI_H
#define BNC_UAPI_H

#include <linux/bitnet.h>
#include "bitnet_core.h"

#define BNC_SAME_AS_UAPI(core, uapi) _Static_assert((int)(core) == (int)(uapi), #core " == " #uapi)

BNC_SAME_AS_UAPI(BNC_FMT_I2_S, BITNET_FMT_I2_S);
BNC_SAME_AS_UAPI(BNC_FMT_TQ2_0, BITNET_FMT_TQ2_0);
BNC_SAME_AS_UAPI(BNC_FMT_TQ1_0, BITNET_FMT_TQ1_0);
BNC_SAME_AS_UAPI(BNC_FMT_EXEC, BITNET_FMT_EXEC);
BNC_SAME_AS_UAPI(BNC_ISA_SCALAR, BITNET_ISA_SCALAR);
BNC_SAME_AS_UAPI(BNC_ISA_AVX2, BITNET_ISA_AVX2);
BNC_SAME_AS_UAPI(BNC_ISA_AVX512_VNNI, BITNET_ISA_AVX512_VNNI);
/* And the core has no ISA that uapi cannot name. */
BNC_SAME_AS_UAPI(BNC_ISA_COUNT, BITNET_ISA_AVX512_VNNI + 1);

#endif /* BNC_UAPI_H */
