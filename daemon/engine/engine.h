/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnet inference engine: the public API that bitnetd and the tools use.
 *
 * A model is loaded once and is read-only afterwards; any number of
 * sequences (each with its own KV cache) run on it. bn_forward() runs one
 * batched forward pass over several sequences at once: the daemon's
 * continuous batching puts every active session's decode step, and chunks
 * of prompts, into one call. The ternary matmuls go through a backend
 * (in-process compute core, or /dev/bitnet) that gives bit-identical results.
 *
 * Thread-safety: a model may be used from one bn_forward() call at a time
 * (the engine parallelises inside); tokenizer functions are thread-safe.
 * Errors are negative errno values; functions that can fail for a reason a
 * user should read also fill a message buffer.
 */
#ifndef BITNET_ENGINE_H
#define BITNET_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bn_model;
struct bn_seq;
struct bn_vocab;
struct bn_sampler;

enum bn_backend_kind {
	BN_BACKEND_AUTO = 0, /* /dev/bitnet when usable, else cpu */
	BN_BACKEND_CPU,
	BN_BACKEND_KMOD,
};

/* "auto", "cpu" or "kmod" (--backend, Backend=, LoadModel's option); -EINVAL else. */
int bn_backend_kind_parse(const char *name, enum bn_backend_kind *kind);

/* How the output head (often the tied embedding) is stored for the logits. */
enum bn_head_kind {
	/* as in the file for small heads (< 64M weights) and, on AVX-512 VNNI,
	 * for Q6_K ones; else Q8 */
	BN_HEAD_AUTO = 0,
	BN_HEAD_FILE, /* the file's values as stored (F32/F16/BF16 or blocks), exact */
	/* int8 rows with one float scale each (half of F16's bytes), against
	 * the input quantized per token like a BitLinear's on AVX-512 VNNI */
	BN_HEAD_Q8,
	/* 4-bit groups of 64 with a float scale each (4.5 bits per weight),
	 * against the same int8 input: the fastest decode, least exact */
	BN_HEAD_Q4,
};

/* "auto", "file", "q8" or "q4" (bitnet-run --head, bitnetd's Head=); -EINVAL else. */
int bn_head_kind_parse(const char *name, enum bn_head_kind *kind);

/*
 * The execution layout of the ternary weights on the cpu backend (the kmod
 * backend always holds R16). docs/architecture.md has the measurements.
 */
enum bn_pack_kind {
	/* R16: LUT3 faster in its linears, not yet end to end (README.md, Performance) */
	BN_PACK_AUTO = 0,
	BN_PACK_R16, /* 2 bits per weight, int8 multiply kernels on every ISA */
	BN_PACK_T5,  /* 1.6 bits per weight: less to stream per decoded token */
	/* both held (1.8x the weight memory): T5 for 1-token matmuls, R16 else */
	BN_PACK_DUAL,
	/*
	 * 1.78 bits per weight, table-lookup kernel: needs AVX-512 (R16 is
	 * held instead on other CPUs, where only the slow reference kernel
	 * could run it)
	 */
	BN_PACK_LUT3,
	/* R16 and LUT3 held (1.9x the weight memory): LUT3 for 1-3 tokens */
	BN_PACK_DUAL_LUT3,
};

/* "auto", "r16", "t5", "dual", "lut3", "dual-lut3" (--pack, Pack=); -EINVAL else. */
int bn_pack_kind_parse(const char *name, enum bn_pack_kind *kind);
/* What BN_PACK_AUTO stands for on this CPU; other kinds as given. */
enum bn_pack_kind bn_pack_resolve(enum bn_pack_kind kind);

struct bn_load_opts {
	enum bn_backend_kind backend;
	int threads; /* 0: all online CPUs */
	/* called now and then while loading; fraction in [0, 1] */
	void (*progress)(double fraction, void *userdata);
	void *userdata;
	enum bn_head_kind head;
	enum bn_pack_kind pack;
	/*
	 * Keep F16/BF16/F32 linear weights in full precision and run them as
	 * float matmuls (no ternarization, no activation quantization): the
	 * full-precision baseline of bitnet-bench e2e.
	 */
	bool dense;
	/*
	 * No weights of our own: the kmod backend attaches, read-only, to the
	 * ones another process shares over unix socket @attach_sock
	 * (bn_model_share_weights(); bitnet-run --attach). The file must be
	 * the one that process loaded: -ESTALE else. Backend AUTO or KMOD.
	 */
	bool attach;
	int attach_sock;
};

struct bn_model_info {
	const char *name;	 /* general.name, or the file's basename */
	const char *arch;	 /* "bitnet-b1.58", "bitnet", "llama" */
	const char *weight_type; /* "I2_S", "TQ2_0", "TQ1_0", "F16", ... */
	const char *backend;	 /* "cpu" or "kmod" */
	uint32_t n_vocab;
	uint32_t n_ctx; /* trained context length */
	uint32_t n_embd;
	uint32_t n_layer;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t n_ff;
	uint64_t n_params;
	uint64_t weight_bytes; /* packed weights in memory */
	int32_t bos, eos, eot; /* -1 when the vocab has none */
	const char *head;      /* output head as held: "F16", "Q8", ... */
	uint64_t head_bytes;   /* and its bytes, all read by each decode step */
	const char *pack;      /* ternary weights' layout: "R16", "T5", "R16+T5" */
};

/*
 * What a model's matmul backend reports now (bitnetd's Backend property and
 * GetDeviceCounters): its kind and, for kmod, /dev/bitnet's own counters
 * read at the call.
 */
struct bn_backend_stats {
	const char *name;	   /* "cpu" or "kmod" */
	enum bn_backend_kind kind; /* BN_BACKEND_CPU or BN_BACKEND_KMOD */
	uint64_t weight_bytes;	   /* weights the backend holds */
	bool has_device;	   /* the device fields below are filled */
	uint32_t abi_version;
	uint64_t features;     /* BITNET_FEAT_* */
	uint64_t pinned_bytes; /* pinned by all users of the device */
	uint64_t max_global_bytes;
	uint32_t nr_workers;
	uint32_t isa; /* enum bitnet_isa */
};

int bn_model_load(const char *path, const struct bn_load_opts *opts, struct bn_model **out,
		  char *err, size_t errlen);
void bn_model_free(struct bn_model *m);
const struct bn_model_info *bn_model_info(const struct bn_model *m);
const struct bn_vocab *bn_model_vocab(const struct bn_model *m);
int bn_model_backend_stats(const struct bn_model *m, struct bn_backend_stats *st);
/* Whether /dev/bitnet may be opened read-write (BN_BACKEND_AUTO tries it first). */
bool bn_backend_kmod_available(void);
/*
 * Hands the weights a model pinned on /dev/bitnet to the process at the
 * other end of unix socket @sock (export fds, SCM_RIGHTS), which loads the
 * same file with bn_load_opts.attach: it imports them read-only. -ENODEV
 * when the weights are not on /dev/bitnet (cpu backend), -EINVAL for a
 * model that is itself attached, -EOPNOTSUPP when the device cannot export
 * them, -EPERM when the peer runs as another uid than ours (and not root).
 */
int bn_model_share_weights(struct bn_model *m, int sock);

/* ---- tokenizer ---- */

/* A vocab-only load (a GGUF without tensors is fine). */
int bn_vocab_load(const char *path, struct bn_vocab **out, char *err, size_t errlen);
void bn_vocab_free(struct bn_vocab *v);
uint32_t bn_vocab_size(const struct bn_vocab *v);
/* Whether the vocab wants BOS prepended (tokenizer.ggml.add_bos_token). */
bool bn_vocab_add_bos(const struct bn_vocab *v);
/* EOS, EOT and other end-of-generation tokens. */
bool bn_vocab_is_eog(const struct bn_vocab *v, int32_t id);

/*
 * Text to ids. @add_bos: prepend BOS if the vocab has one. @parse_special:
 * text such as "<|eot_id|>" becomes the special token. Returns the number
 * of ids (which may exceed @max: call again with a bigger buffer), or
 * -EINVAL for invalid UTF-8.
 */
int bn_tokenize(const struct bn_vocab *v, const char *text, size_t len, bool add_bos,
		bool parse_special, int32_t *ids, size_t max);

/* The bytes of one token (may be part of a UTF-8 character). */
int bn_token_bytes(const struct bn_vocab *v, int32_t id, const char **bytes, size_t *len);

/* Streaming detokenizer: emits only complete UTF-8 characters. */
struct bn_detok {
	const struct bn_vocab *vocab;
	char pending[8];
	size_t n_pending;
	bool at_start; /* SentencePiece: drop the dummy-prefix space */
};
void bn_detok_init(struct bn_detok *d, const struct bn_vocab *v);
/* Appends the text of @id to @out (NUL-terminated); returns bytes written
 * or -ENOSPC. */
int bn_detok_push(struct bn_detok *d, int32_t id, char *out, size_t cap);
/* Whatever incomplete bytes remain, as U+FFFD. */
int bn_detok_flush(struct bn_detok *d, char *out, size_t cap);

/* ---- sequences and the forward pass ---- */

/* A sequence with room for @n_ctx positions (0: the model's context). */
struct bn_seq *bn_seq_new(struct bn_model *m, uint32_t n_ctx);
void bn_seq_free(struct bn_seq *s);
uint32_t bn_seq_len(const struct bn_seq *s);
uint32_t bn_seq_capacity(const struct bn_seq *s);
/* Tokens currently in the cache, in order (for prefix reuse). */
const int32_t *bn_seq_tokens(const struct bn_seq *s);
/* Forget positions >= @n (keep the first @n: a shared prompt prefix). */
void bn_seq_truncate(struct bn_seq *s, uint32_t n);
/* Bytes of KV cache this sequence holds. */
size_t bn_seq_bytes(const struct bn_seq *s);

struct bn_batch_item {
	struct bn_seq *seq;
	const int32_t *tokens; /* appended at positions seq_len .. */
	uint32_t n_tokens;
	float *logits;	   /* n_vocab floats, last position; or NULL */
	float *all_logits; /* n_tokens x n_vocab; or NULL */
};

/*
 * One batched forward pass. Every item's tokens are appended to its
 * sequence. -ENOSPC if a sequence would exceed its capacity (nothing is
 * changed then), -EINVAL for token ids out of range.
 */
int bn_forward(struct bn_model *m, struct bn_batch_item *items, uint32_t n_items);

/* ---- sampling ---- */

struct bn_logit_bias {
	int32_t id;
	float bias; /* -INFINITY bans the token */
};

struct bn_sampler_params {
	float temperature;     /* 0: greedy */
	int32_t top_k;	       /* 0: off */
	float top_p;	       /* 1: off */
	float min_p;	       /* 0: off */
	float typical_p;       /* 1: off */
	float repeat_penalty;  /* 1: off */
	int32_t repeat_last_n; /* tokens the penalties look at; -1: all */
	float presence_penalty;
	float frequency_penalty;
	uint64_t seed;
	const struct bn_logit_bias *logit_bias;
	size_t n_logit_bias;
};

void bn_sampler_params_default(struct bn_sampler_params *p);
/* -EINVAL with a message naming the parameter for absurd values. */
int bn_sampler_params_check(const struct bn_sampler_params *p, char *err, size_t errlen);
struct bn_sampler *bn_sampler_new(const struct bn_sampler_params *p);
void bn_sampler_free(struct bn_sampler *s);
/* Records an accepted token (prompt and generated) for the penalties. */
void bn_sampler_accept(struct bn_sampler *s, int32_t id);
/* Picks the next token; @logits may be modified. */
int32_t bn_sampler_sample(struct bn_sampler *s, float *logits, uint32_t n_vocab);

/* ---- generation: sampling, end of generation, text, stop strings ---- */

/*
 * One generation, the same in bitnetd and bitnet-run. Each step samples a
 * token from the logits the caller's forward pass wrote into
 * bn_gen_logits(), and ends the generation at an end-of-generation token
 * (unless ignore_eos), a stop string or max_tokens. The forward pass stays
 * the caller's, so that many generations can share one batched pass: feed
 * the prompt, then each token a step returns while it says BN_GEN_MORE.
 * Text comes out as whole UTF-8 characters; a tail that may still become a
 * stop string is held back until it cannot, and a stop string and what
 * follows it never come out.
 */
struct bn_gen_params {
	const struct bn_sampler_params *sp; /* borrowed until bn_gen_free() */
	const char *const *stops;	    /* borrowed too; may be empty */
	size_t n_stops;
	uint32_t max_tokens; /* the step generating this many ends with LENGTH */
	bool ignore_eos;
};

enum bn_gen_end {
	BN_GEN_MORE,   /* go on: feed the token to the next forward pass */
	BN_GEN_EOS,    /* an end-of-generation token: not counted, no text */
	BN_GEN_STOP,   /* a stop string: the text ends before it */
	BN_GEN_LENGTH, /* max_tokens generated */
};

struct bn_gen;

/* NULL when out of memory. */
struct bn_gen *bn_gen_new(const struct bn_model *m, const struct bn_gen_params *p);
void bn_gen_free(struct bn_gen *g);
/* The context before the first step (prompt and history), for the penalties. */
void bn_gen_prompt(struct bn_gen *g, const int32_t *ids, uint32_t n);
/* n_vocab floats: where the forward pass puts the logits of the last position. */
float *bn_gen_logits(struct bn_gen *g);
/*
 * Samples the next token into *@token and says whether to go on. -EINVAL:
 * sampling failed (no token); -ENOMEM: the token was generated (and counted)
 * but its text was lost.
 */
int bn_gen_step(struct bn_gen *g, int32_t *token);
/* Tokens generated so far (an end-of-generation token is not one). */
uint32_t bn_gen_n_tokens(const struct bn_gen *g);
/*
 * The text not taken yet: *@text and its length. Without @all, the tail
 * that may still become a stop string is kept for later; @all (the
 * generation ended or is abandoned) takes everything.
 */
size_t bn_gen_take_text(struct bn_gen *g, bool all, const char **text);

/* ---- chat ---- */

struct bn_chat_msg {
	const char *role; /* "system", "user", "assistant" */
	const char *content;
};

/*
 * Formats a conversation with the model's template, ending with the
 * assistant's turn open. Returns a malloc'd string or NULL (-errno in
 * *error).
 */
char *bn_chat_format(const struct bn_model *m, const struct bn_chat_msg *msgs, size_t n_msgs,
		     int *error);

#endif /* BITNET_ENGINE_H */
