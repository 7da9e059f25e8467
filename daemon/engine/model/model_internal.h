/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Engine internals shared by the model loader, the forward pass and the
 * tools' tests: the loaded model and the per-sequence KV cache.
 */
#ifndef BITNET_ENGINE_MODEL_INTERNAL_H
#define BITNET_ENGINE_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/engine/backend/backend.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/kernels/head_q4.h"
#include "daemon/engine/kernels/ops.h"

struct gguf_file;
struct bn_pool;
struct bn_scratch;

/* forward.c's per-model buffers */
void bn_scratch_free(struct bn_scratch *s);

enum bn_arch {
	BN_ARCH_BITNET_B158, /* bitnet-b1.58 / bitnet-25: squared ReLU */
	BN_ARCH_BITNET,	     /* llama.cpp bitnet: SiLU-gated, sub-norms */
	BN_ARCH_LLAMA,	     /* llama with ternary linears, no sub-norms */
};

enum bn_ffn_act {
	BN_ACT_SILU,
	BN_ACT_RELU_SQR,
};

/* One ternary linear: its id in the backend and an optional extra scale. */
struct bn_linear {
	bn_weight_id id;
	uint32_t rows, cols;
	float post_scale; /* llama.cpp's optional blk.N.*.scale; else 1 */
	bool is_dense;	  /* bn_load_opts.dense: float matmul on @dense */
	struct bn_ftensor dense;
};

struct bn_layer {
	float *attn_norm, *attn_sub_norm, *ffn_norm, *ffn_sub_norm;
	struct bn_linear wq, wk, wv, wo, gate, up, down;
};

struct bn_model {
	struct bn_model_info info;
	enum bn_arch arch;
	enum bn_ffn_act act;
	bool sub_norms;
	bool rope_neox; /* half-split pairs; else adjacent pairs */
	uint32_t head_dim;
	uint32_t rope_dim;
	float rope_theta;
	float eps;
	char *name;
	char *chat_template; /* tokenizer.chat_template, or NULL */

	struct gguf_file *gguf; /* kept open: embedding and head live in it */
	struct bn_vocab *vocab;
	struct bn_backend *backend;
	struct bn_pool *pool; /* float work: attention, head */

	struct bn_ftensor embd;	  /* token_embd: n_vocab rows of n_embd */
	struct bn_ftensor head;	  /* output.weight, or token_embd when tied */
	struct bn_q8rows head_q8; /* the head as int8 rows, when q is set */
	struct bn_q4rows head_q4; /* the head as 4-bit groups, when q is set */
	bool head_fill_failed;	  /* a fill task had no memory */
	bool head_q6k;		  /* the file's Q6_K head on the int8 input (VNNI) */
	float *output_norm;
	float *rope_inv_freq; /* rope_dim / 2 */
	struct bn_layer *layers;

	struct bn_scratch *scratch;
};

struct bn_seq {
	struct bn_model *model;
	uint32_t cap;
	uint32_t len;
	size_t kv_row; /* floats per position per layer: n_head_kv * head_dim */
	float *k;      /* [n_layer][n_head_kv][cap][head_dim]: each head's positions in a row */
	float *v;
	int32_t *tokens; /* cap */
};

#endif /* BITNET_ENGINE_MODEL_INTERNAL_H */
