// SPDX-License-Identifier: GPL-2.0
/*
 * ggml tensor types as GGUF stores them: names and byte sizes. Only the
 * types bitnet reads get a size; every other id gets a name so the error
 * can say what the file holds.
 */
#include <errno.h>
#include <stdio.h>

#include "daemon/engine/gguf/gguf_priv.h"

struct type_trait {
	const char *name;
	uint32_t block; /* elements per block; 0: not readable */
	uint32_t block_bytes;
};

/*
 * Ids 31..33 and 36..38 were removed from upstream ggml; bitnet.cpp
 * reuses 36 for I2_S and the 37.. range for its LUT types.
 */
static const struct type_trait traits[] = {
	[GGUF_T_F32] = { "F32", 1, 4 },
	[GGUF_T_F16] = { "F16", 1, 2 },
	[2] = { "Q4_0", 0, 0 },
	[3] = { "Q4_1", 0, 0 },
	[6] = { "Q5_0", 0, 0 },
	[7] = { "Q5_1", 0, 0 },
	[GGUF_T_Q8_0] = { "Q8_0", 32, 34 },
	[9] = { "Q8_1", 0, 0 },
	[10] = { "Q2_K", 0, 0 },
	[11] = { "Q3_K", 0, 0 },
	[GGUF_T_Q4_K] = { "Q4_K", 256, 144 },
	[GGUF_T_Q5_K] = { "Q5_K", 256, 176 },
	[GGUF_T_Q6_K] = { "Q6_K", 256, 210 },
	[15] = { "Q8_K", 0, 0 },
	[16] = { "IQ2_XXS", 0, 0 },
	[17] = { "IQ2_XS", 0, 0 },
	[18] = { "IQ3_XXS", 0, 0 },
	[19] = { "IQ1_S", 0, 0 },
	[20] = { "IQ4_NL", 0, 0 },
	[21] = { "IQ3_S", 0, 0 },
	[22] = { "IQ2_S", 0, 0 },
	[23] = { "IQ4_XS", 0, 0 },
	[24] = { "I8", 0, 0 },
	[25] = { "I16", 0, 0 },
	[26] = { "I32", 0, 0 },
	[27] = { "I64", 0, 0 },
	[28] = { "F64", 0, 0 },
	[29] = { "IQ1_M", 0, 0 },
	[GGUF_T_BF16] = { "BF16", 1, 2 },
	[GGUF_T_TQ1_0] = { "TQ1_0", 256, 54 },
	[GGUF_T_TQ2_0] = { "TQ2_0", 256, 66 },
	[GGUF_T_I2_S] = { "I2_S", 4, 1 }, /* plus a 32-byte trailer */
};

#define N_TRAITS (sizeof(traits) / sizeof(traits[0]))

const char *gguf_type_name(uint32_t type)
{
	static __thread char buf[24];

	if (type < N_TRAITS && traits[type].name)
		return traits[type].name;
	snprintf(buf, sizeof(buf), "type %u", type);
	return buf;
}

/*
 * Describes an unreadable type for an error message. 39 means TL2 to
 * bitnet.cpp and MXFP4 to upstream llama.cpp, so the architecture decides.
 */
void gguf_type_describe(uint32_t type, bool bitnet_arch, char *buf, size_t len)
{
	if (type == 39)
		snprintf(buf, len, "%s",
			 bitnet_arch ? "TL2 (39, bitnet.cpp LUT layout)" : "MXFP4 (39)");
	else if (type == 37 || type == 38)
		snprintf(buf, len, "%u (%s)", type,
			 bitnet_arch ? "a bitnet.cpp LUT layout" : "removed from ggml");
	else if (type < N_TRAITS && traits[type].name)
		snprintf(buf, len, "%s (%u)", traits[type].name, type);
	else
		snprintf(buf, len, "%u (unknown)", type);
}

int gguf_type_size(uint32_t type, const uint64_t *ne, uint32_t n_dims, uint64_t *size)
{
	const struct type_trait *t;
	uint64_t n = 1;
	uint32_t i;

	if (type >= N_TRAITS || !traits[type].block)
		return -ENOTSUP;
	t = &traits[type];
	for (i = 0; i < n_dims; i++) {
		if (ne[i] == 0)
			return -EINVAL;
		if (__builtin_mul_overflow(n, ne[i], &n))
			return -EOVERFLOW;
	}
	/* blocks run along rows: the row length must be whole blocks */
	if ((n_dims ? ne[0] : 1) % t->block)
		return -EDOM;
	if (n >> 60)
		return -EOVERFLOW;
	*size = n / t->block * t->block_bytes;
	if (type == GGUF_T_I2_S)
		*size += 32;
	return 0;
}
