// SPDX-License-Identifier: GPL-2.0
/*
 * Loading a BitNet model from GGUF: architecture and hyperparameters from
 * metadata, every tensor's shape checked, ternary linears handed to the
 * backend (packed files as they are, full-precision ones ternarized).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/engine/backend/backend_cpu.h"
#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/model/model_internal.h"
#include "daemon/engine/model/pool.h"
#include "daemon/engine/kernels/ternary.h"
#include "daemon/engine/tokenizer/vocab.h"
#include "kmod/core/bitnet_core.h"

#define MAX_LAYERS 1024
#define MAX_DIM (1u << 20)

struct loader {
	struct bn_model *m;
	const struct gguf_file *f;
	const char *prefix; /* metadata key prefix: the architecture */
	const struct bn_load_opts *opts;
	char *err;
	size_t errlen;
	uint32_t done, total; /* linears, for the progress callback */
};

static int fail(struct loader *ld, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int get_u32(struct loader *ld, const char *key, uint32_t *v, bool required)
{
	char full[160];
	int rc;

	snprintf(full, sizeof(full), "%s.%s", ld->prefix, key);
	rc = gguf_get_u32(ld->f, full, v);
	if (rc == -ENOENT && !required)
		return 0;
	if (rc)
		return fail(ld, -EINVAL, "metadata %s: %s", full,
			    rc == -ENOENT ? "missing" : "wrong type or out of range");
	return 0;
}

static int get_f32(struct loader *ld, const char *key, float *v)
{
	char full[160];
	int rc;

	snprintf(full, sizeof(full), "%s.%s", ld->prefix, key);
	rc = gguf_get_f32(ld->f, full, v);
	if (rc == -ENOENT)
		return 0;
	if (rc || !isfinite(*v))
		return fail(ld, -EINVAL, "metadata %s: wrong type or value", full);
	return 0;
}

static char *dup_gstr(struct gguf_str s)
{
	char *p = malloc(s.len + 1);

	if (p) {
		memcpy(p, s.ptr, s.len);
		p[s.len] = 0;
	}
	return p;
}

static const struct gguf_tensor *find_tensor(struct loader *ld, int layer, const char *what,
					     bool required)
{
	char name[96];
	const struct gguf_tensor *t;

	if (layer >= 0)
		snprintf(name, sizeof(name), "blk.%d.%s", layer, what);
	else
		snprintf(name, sizeof(name), "%s", what);
	t = gguf_find_tensor(ld->f, name);
	if (!t && required)
		fail(ld, -EINVAL, "tensor %s missing", name);
	return t;
}

static bool shape_is(const struct gguf_tensor *t, uint64_t ne0, uint64_t ne1)
{
	if (ne1 == 1)
		return (t->n_dims == 1 && t->ne[0] == ne0) ||
		       (t->n_dims == 2 && t->ne[0] == ne0 && t->ne[1] == 1);
	return t->n_dims == 2 && t->ne[0] == ne0 && t->ne[1] == ne1;
}

static void ftensor_view(const struct gguf_tensor *t, struct bn_ftensor *out)
{
	out->data = t->data;
	out->type = t->type;
	out->cols = (uint32_t)t->ne[0];
	out->rows = t->n_dims >= 2 ? (uint32_t)t->ne[1] : 1;
	/* the reader checked rows are whole blocks; callers check n_dims <= 2 */
	out->row_bytes = (size_t)(t->size / out->rows);
}

/* A full-precision tensor: norms and linears. */
static int ftensor_from(struct loader *ld, const struct gguf_tensor *t, struct bn_ftensor *out)
{
	if (!bn_ftensor_type_ok(t->type))
		return fail(ld, -EINVAL, "tensor %.*s: type %s not supported here (F32, F16, BF16)",
			    (int)t->name.len, t->name.ptr, gguf_type_name(t->type));
	ftensor_view(t, out);
	return 0;
}

/* The embedding or the head: full precision or Q8_0/Q4_K/Q5_K/Q6_K rows. */
static int rows_from(struct loader *ld, const struct gguf_tensor *t, struct bn_ftensor *out)
{
	if (!bn_ftensor_rows_type_ok(t->type))
		return fail(ld, -EINVAL,
			    "tensor %.*s: type %s not supported here "
			    "(F32, F16, BF16, Q8_0, Q4_K, Q5_K, Q6_K)",
			    (int)t->name.len, t->name.ptr, gguf_type_name(t->type));
	ftensor_view(t, out);
	return 0;
}

/* A norm weight of @n floats, copied out of the file. */
static int load_norm(struct loader *ld, int layer, const char *what, uint32_t n, float **out)
{
	const struct gguf_tensor *t = find_tensor(ld, layer, what, true);
	struct bn_ftensor ft;
	int rc;

	if (!t)
		return -EINVAL;
	if (!shape_is(t, n, 1))
		return fail(ld, -EINVAL, "tensor %.*s: expected %u values", (int)t->name.len,
			    t->name.ptr, n);
	rc = ftensor_from(ld, t, &ft);
	if (rc)
		return rc;
	*out = malloc(n * sizeof(float));
	if (!*out)
		return fail(ld, -ENOMEM, "out of memory");
	bn_ftensor_row(&ft, 0, *out);
	return 0;
}

static int packed_fmt(uint32_t type)
{
	switch (type) {
	case GGUF_T_I2_S:
		return BNC_FMT_I2_S;
	case GGUF_T_TQ2_0:
		return BNC_FMT_TQ2_0;
	case GGUF_T_TQ1_0:
		return BNC_FMT_TQ1_0;
	default:
		return 0;
	}
}

/* An attached backend's weights are another model's (bn_load_opts.attach). */
#define STALE_MSG "not the shared model's weights (the sharing process loaded another file)"

static int add_dense(struct loader *ld, const struct gguf_tensor *t, struct bn_linear *lin)
{
	struct bn_ftensor ft;
	size_t n = (size_t)lin->rows * lin->cols, bytes;
	int8_t *codes;
	void *packed;
	float scale;
	uint32_t bits;
	int rc;

	rc = ftensor_from(ld, t, &ft);
	if (rc)
		return rc;
	bytes = bnc_packed_size(BNC_FMT_I2_S, lin->rows, lin->cols);
	codes = malloc(n);
	packed = malloc(bytes);
	if (!codes || !packed) {
		rc = fail(ld, -ENOMEM, "out of memory ternarizing %.*s", (int)t->name.len,
			  t->name.ptr);
		goto out;
	}
	rc = bn_ternarize(&ft, codes, &scale);
	if (rc) {
		fail(ld, rc, "out of memory ternarizing");
		goto out;
	}
	memcpy(&bits, &scale, sizeof(bits));
	rc = bnc_pack(BNC_FMT_I2_S, codes, lin->rows, lin->cols, bits, packed, bytes);
	if (!rc)
		rc = ld->m->backend->ops->add_weight(ld->m->backend, BNC_FMT_I2_S, lin->rows,
						     lin->cols, packed, bytes, &lin->id);
	if (rc == -ESTALE)
		fail(ld, rc, "tensor %.*s: " STALE_MSG, (int)t->name.len, t->name.ptr);
	else if (rc)
		fail(ld, rc, "tensor %.*s: backend refused it (%s)", (int)t->name.len, t->name.ptr,
		     strerror(-rc));
out:
	free(codes);
	free(packed);
	return rc;
}

/*
 * The backend keeps its own copy of a weight: drop the file's pages so
 * they do not count in RSS (they come back from the page cache if touched).
 */
static void drop_pages(const void *data, uint64_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t b = ((uintptr_t)data + page - 1) & ~(page - 1);
	uintptr_t e = ((uintptr_t)data + size) & ~(page - 1);

	if (e > b)
		madvise((void *)b, e - b, MADV_DONTNEED);
}

static int load_linear(struct loader *ld, int layer, const char *what, uint32_t rows, uint32_t cols,
		       struct bn_linear *lin)
{
	const struct gguf_tensor *t = find_tensor(ld, layer, what, true);
	const struct gguf_tensor *st;
	char sname[64];
	int fmt, rc;

	if (!t)
		return -EINVAL;
	if (!shape_is(t, cols, rows) || rows < 1)
		return fail(ld, -EINVAL, "tensor %.*s: shape [%llu, %llu], expected [%u, %u]",
			    (int)t->name.len, t->name.ptr, (unsigned long long)t->ne[0],
			    (unsigned long long)t->ne[1], cols, rows);
	if (bnc_check_shape(rows, cols))
		return fail(ld, -EINVAL, "tensor %.*s: %u columns is not a multiple of %d",
			    (int)t->name.len, t->name.ptr, cols, BNC_K_ALIGN);
	lin->rows = rows;
	lin->cols = cols;
	lin->post_scale = 1.0f;

	/* llama.cpp's optional per-tensor scale, applied after the matmul */
	if (strlen(what) > 7 && !strcmp(what + strlen(what) - 7, ".weight")) {
		snprintf(sname, sizeof(sname), "%.*s.scale", (int)(strlen(what) - 7), what);
		st = find_tensor(ld, layer, sname, false);
		if (st) {
			if (st->type != GGUF_T_F32 || st->ne[0] != 1 || st->size < 4)
				return fail(ld, -EINVAL, "tensor blk.%d.%s: expected one F32",
					    layer, sname);
			memcpy(&lin->post_scale, st->data, 4);
		}
	}

	fmt = packed_fmt(t->type);
	if (!fmt && ld->opts && ld->opts->dense && bn_ftensor_type_ok(t->type)) {
		lin->is_dense = true;
		rc = ftensor_from(ld, t, &lin->dense);
		if (rc)
			return rc;
	} else if (fmt) {
		size_t need = bnc_packed_size(fmt, rows, cols);

		if (need != t->size)
			return fail(ld, -EINVAL, "tensor %.*s: %llu bytes, expected %zu",
				    (int)t->name.len, t->name.ptr, (unsigned long long)t->size,
				    need);
		rc = ld->m->backend->ops->add_weight(ld->m->backend, fmt, rows, cols, t->data,
						     t->size, &lin->id);
		if (rc == -ESTALE)
			return fail(ld, rc, "tensor %.*s: " STALE_MSG, (int)t->name.len,
				    t->name.ptr);
		if (rc)
			return fail(ld, rc, "tensor %.*s: not a per-tensor ternary weight (%s)",
				    (int)t->name.len, t->name.ptr, strerror(-rc));
	} else if (bn_ftensor_type_ok(t->type)) {
		rc = add_dense(ld, t, lin);
		if (rc)
			return rc;
	} else {
		return fail(ld, -EINVAL, "tensor %.*s: type %s is not supported for linears",
			    (int)t->name.len, t->name.ptr, gguf_type_name(t->type));
	}
	if (!lin->is_dense)
		drop_pages(t->data, t->size);
	ld->done++;
	if (ld->opts && ld->opts->progress)
		ld->opts->progress((double)ld->done / ld->total, ld->opts->userdata);
	return 0;
}

static int load_layer(struct loader *ld, int i)
{
	struct bn_model *m = ld->m;
	struct bn_layer *l = &m->layers[i];
	uint32_t e = m->info.n_embd, ff = m->info.n_ff;
	uint32_t q = m->info.n_head * m->head_dim, kv = m->info.n_head_kv * m->head_dim;
	int rc;

	rc = load_norm(ld, i, "attn_norm.weight", e, &l->attn_norm);
	if (!rc)
		rc = load_norm(ld, i, "ffn_norm.weight", e, &l->ffn_norm);
	if (!rc && m->sub_norms)
		rc = load_norm(ld, i, "attn_sub_norm.weight", q, &l->attn_sub_norm);
	if (!rc && m->sub_norms)
		rc = load_norm(ld, i, "ffn_sub_norm.weight", ff, &l->ffn_sub_norm);
	if (!rc)
		rc = load_linear(ld, i, "attn_q.weight", q, e, &l->wq);
	if (!rc)
		rc = load_linear(ld, i, "attn_k.weight", kv, e, &l->wk);
	if (!rc)
		rc = load_linear(ld, i, "attn_v.weight", kv, e, &l->wv);
	if (!rc)
		rc = load_linear(ld, i, "attn_output.weight", e, q, &l->wo);
	if (!rc)
		rc = load_linear(ld, i, "ffn_gate.weight", ff, e, &l->gate);
	if (!rc)
		rc = load_linear(ld, i, "ffn_up.weight", ff, e, &l->up);
	if (!rc)
		rc = load_linear(ld, i, "ffn_down.weight", e, ff, &l->down);
	return rc;
}

static int read_arch(struct loader *ld, struct gguf_str arch)
{
	struct bn_model *m = ld->m;
	static const struct {
		const char *name;
		enum bn_arch arch;
	} archs[] = {
		{ "bitnet-b1.58", BN_ARCH_BITNET_B158 },
		{ "bitnet-25", BN_ARCH_BITNET_B158 },
		{ "bitnet", BN_ARCH_BITNET },
		{ "llama", BN_ARCH_LLAMA },
	};
	size_t i;

	for (i = 0; i < sizeof(archs) / sizeof(archs[0]); i++) {
		if (arch.len == strlen(archs[i].name) &&
		    !memcmp(arch.ptr, archs[i].name, arch.len)) {
			ld->prefix = archs[i].name;
			m->info.arch = archs[i].name;
			m->arch = archs[i].arch;
			break;
		}
	}
	if (!ld->prefix)
		return fail(ld, -EINVAL,
			    "architecture '%.*s' is not supported "
			    "(bitnet-b1.58, bitnet-25, bitnet, llama)",
			    (int)arch.len, arch.ptr);
	m->act = m->arch == BN_ARCH_BITNET_B158 ? BN_ACT_RELU_SQR : BN_ACT_SILU;
	m->sub_norms = m->arch != BN_ARCH_LLAMA;
	/* llama's converter permutes Q/K for adjacent-pair RoPE; BitNet uses NEOX */
	m->rope_neox = m->arch != BN_ARCH_LLAMA;
	return 0;
}

static int read_hparams(struct loader *ld)
{
	struct bn_model *m = ld->m;
	struct bn_model_info *in = &m->info;
	uint32_t key_len = 0, val_len = 0;
	int rc;

	in->n_ctx = 2048;
	m->rope_theta = 10000.0f;
	m->eps = 1e-5f;
	rc = get_u32(ld, "embedding_length", &in->n_embd, true);
	if (!rc)
		rc = get_u32(ld, "block_count", &in->n_layer, true);
	if (!rc)
		rc = get_u32(ld, "attention.head_count", &in->n_head, true);
	in->n_head_kv = in->n_head;
	if (!rc)
		rc = get_u32(ld, "attention.head_count_kv", &in->n_head_kv, false);
	if (!rc)
		rc = get_u32(ld, "feed_forward_length", &in->n_ff, true);
	if (!rc)
		rc = get_u32(ld, "context_length", &in->n_ctx, false);
	if (!rc)
		rc = get_u32(ld, "attention.key_length", &key_len, false);
	if (!rc)
		rc = get_u32(ld, "attention.value_length", &val_len, false);
	if (!rc)
		rc = get_f32(ld, "rope.freq_base", &m->rope_theta);
	if (!rc)
		rc = get_f32(ld, "attention.layer_norm_rms_epsilon", &m->eps);
	if (rc)
		return rc;
	if (!in->n_embd || in->n_embd > MAX_DIM || !in->n_layer || in->n_layer > MAX_LAYERS ||
	    !in->n_head || in->n_head > in->n_embd || !in->n_ff || in->n_ff > MAX_DIM ||
	    !in->n_ctx || in->n_ctx > MAX_DIM)
		return fail(ld, -EINVAL, "hyperparameters out of range");
	if (!in->n_head_kv || in->n_head % in->n_head_kv)
		return fail(ld, -EINVAL, "head_count %u is not a multiple of head_count_kv %u",
			    in->n_head, in->n_head_kv);
	m->head_dim = key_len ? key_len : in->n_embd / in->n_head;
	if (!key_len && in->n_embd % in->n_head)
		return fail(ld, -EINVAL, "embedding_length %u not divisible by head_count %u",
			    in->n_embd, in->n_head);
	if ((val_len && val_len != m->head_dim) || m->head_dim % 2 || m->head_dim > 4096)
		return fail(ld, -EINVAL, "unsupported head dimensions (key %u, value %u)",
			    m->head_dim, val_len);
	m->rope_dim = m->head_dim;
	rc = get_u32(ld, "rope.dimension_count", &m->rope_dim, false);
	if (rc)
		return rc;
	if (!m->rope_dim || m->rope_dim > m->head_dim || m->rope_dim % 2)
		return fail(ld, -EINVAL, "rope.dimension_count %u does not fit head_dim %u",
			    m->rope_dim, m->head_dim);
	if (!(m->rope_theta > 0) || !(m->eps > 0))
		return fail(ld, -EINVAL, "rope.freq_base and rms epsilon must be positive");
	return 0;
}

static int load_embeddings(struct loader *ld)
{
	struct bn_model *m = ld->m;
	const struct gguf_tensor *t = find_tensor(ld, -1, "token_embd.weight", true);
	int rc;

	if (!t)
		return -EINVAL;
	rc = rows_from(ld, t, &m->embd);
	if (rc)
		return rc;
	if (t->n_dims != 2 || m->embd.cols != m->info.n_embd)
		return fail(ld, -EINVAL, "token_embd.weight: rows of %u, expected n_embd %u",
			    m->embd.cols, m->info.n_embd);
	m->info.n_vocab = m->embd.rows;
	t = find_tensor(ld, -1, "output.weight", false);
	if (t) {
		rc = rows_from(ld, t, &m->head);
		if (rc)
			return rc;
		if (t->n_dims != 2 || m->head.cols != m->info.n_embd ||
		    m->head.rows != m->info.n_vocab)
			return fail(ld, -EINVAL, "output.weight: shape does not match token_embd");
	} else {
		m->head = m->embd;
	}
	return load_norm(ld, -1, "output_norm.weight", m->info.n_embd, &m->output_norm);
}

static int threads_of(const struct loader *ld)
{
	return ld->opts ? ld->opts->threads : 0;
}

#define HEAD_Q8_MIN (64u << 20) /* weights: the 2B-4T head has 328M */
#define HEAD_FILL_TASKS 64

static void head_fill_task(void *ctx, uint32_t i, uint32_t worker)
{
	struct bn_model *m = ctx;
	uint32_t r0 = (uint32_t)((uint64_t)m->head.rows * i / HEAD_FILL_TASKS);
	uint32_t r1 = (uint32_t)((uint64_t)m->head.rows * (i + 1) / HEAD_FILL_TASKS);

	(void)worker;
	if (m->head_q4.q && bn_q4rows_fill(&m->head_q4, &m->head, r0, r1))
		__atomic_store_n(&m->head_fill_failed, true, __ATOMIC_RELAXED);
	if (m->head_q8.q)
		bn_q8rows_fill(&m->head_q8, &m->head, r0, r1);
	/* only the rows of tokens seen are read from now on: keep RSS low */
	drop_pages((const uint8_t *)m->head.data + (size_t)r0 * m->head.row_bytes,
		   (uint64_t)(r1 - r0) * m->head.row_bytes);
}

int bn_head_kind_parse(const char *name, enum bn_head_kind *kind)
{
	static const char *const names[] = {
		[BN_HEAD_AUTO] = "auto",
		[BN_HEAD_FILE] = "file",
		[BN_HEAD_Q8] = "q8",
		[BN_HEAD_Q4] = "q4",
	};
	int i = bn_name_index(name, names, sizeof(names) / sizeof(names[0]));

	if (i < 0)
		return i;
	*kind = (enum bn_head_kind)i;
	return 0;
}

static int setup_head_q4(struct loader *ld)
{
	struct bn_model *m = ld->m;
	int rc = bn_q4rows_alloc(&m->head_q4, m->head.rows, m->head.cols);

	if (rc == -EINVAL)
		return fail(ld, rc, "--head q4 needs n_embd a multiple of %d, not %u", BN_Q4_GROUP,
			    m->head.cols);
	if (rc)
		return fail(ld, rc, "out of memory for the Q4 output head");
	bn_pool_for(m->pool, HEAD_FILL_TASKS, head_fill_task, m);
	if (m->head_fill_failed)
		return fail(ld, -ENOMEM, "out of memory building the Q4 output head");
	m->info.head = "Q4";
	m->info.head_bytes = (uint64_t)m->head.rows * m->head.cols / 2 +
			     (uint64_t)m->head.rows * m->head.cols / BN_Q4_GROUP * sizeof(float);
	return 0;
}

/* Chooses how the output head is held; builds the Q8 or Q4 copy if wanted. */
static int setup_head(struct loader *ld)
{
	struct bn_model *m = ld->m;
	enum bn_head_kind kind = ld->opts ? ld->opts->head : BN_HEAD_AUTO;
	uint64_t n = (uint64_t)m->head.rows * m->head.cols;

	m->info.head = gguf_type_name(m->head.type);
	m->info.head_bytes = (uint64_t)m->head.rows * m->head.row_bytes;
	/* a Q6_K head runs as stored on VNNI: fewer bytes than int8, no requantizing */
	if (kind == BN_HEAD_AUTO && m->head.type == GGUF_T_Q6_K && bn_simd() >= BN_SIMD_AVX512_VNNI)
		kind = BN_HEAD_FILE;
	if (kind == BN_HEAD_FILE || (kind == BN_HEAD_AUTO && n < HEAD_Q8_MIN)) {
		/* without VNNI, rows are decoded to float and dotted as F32 ones */
		m->head_q6k = m->head.type == GGUF_T_Q6_K && bn_simd() >= BN_SIMD_AVX512_VNNI;
		return 0;
	}
	if (kind == BN_HEAD_Q4)
		return setup_head_q4(ld);
	if (kind != BN_HEAD_AUTO && kind != BN_HEAD_Q8)
		return fail(ld, -EINVAL, "unknown head kind %d", (int)kind);
	m->head_q8.rows = m->head.rows;
	m->head_q8.cols = m->head.cols;
	m->head_q8.q = malloc(n);
	m->head_q8.scale = malloc((size_t)m->head.rows * sizeof(float));
	m->head_q8.sum = malloc((size_t)m->head.rows * sizeof(int32_t));
	if (!m->head_q8.q || !m->head_q8.scale || !m->head_q8.sum)
		return fail(ld, -ENOMEM, "out of memory for the Q8 output head");
	bn_pool_for(m->pool, HEAD_FILL_TASKS, head_fill_task, m);
	m->info.head = "Q8";
	m->info.head_bytes = n + (uint64_t)m->head.rows * (sizeof(float) + sizeof(int32_t));
	return 0;
}

static int make_backend(struct loader *ld)
{
	enum bn_backend_kind kind = ld->opts ? ld->opts->backend : BN_BACKEND_AUTO;
	int threads = threads_of(ld);
	char why[256] = "";
	int rc;

	if (threads < 0 || threads > 1024)
		return fail(ld, -EINVAL, "threads must be 0..1024");
	if (ld->opts && ld->opts->attach) {
		if (kind == BN_BACKEND_CPU)
			return fail(ld, -EINVAL, "attaching needs the kmod backend");
		rc = bn_backend_kmod_attach(NULL, ld->opts->attach_sock, &ld->m->backend, why,
					    sizeof(why));
		if (rc)
			return fail(ld, rc, "kmod backend: %s", why[0] ? why : strerror(-rc));
		return 0;
	}
	if (kind == BN_BACKEND_KMOD || kind == BN_BACKEND_AUTO) {
		rc = bn_backend_kmod_new(NULL, &ld->m->backend, why, sizeof(why));
		if (!rc)
			return 0;
		if (kind == BN_BACKEND_KMOD)
			return fail(ld, rc, "kmod backend: %s", why[0] ? why : strerror(-rc));
	}
	ld->m->pool = bn_pool_new(threads);
	if (!ld->m->pool)
		return fail(ld, -ENOMEM, "cannot start %d threads", threads);
	rc = bn_backend_cpu_new_shared(bn_pool_core(ld->m->pool),
				       ld->opts ? ld->opts->pack : BN_PACK_AUTO, &ld->m->backend);
	if (rc)
		return fail(ld, rc, "cpu backend: %s", strerror(-rc));
	return 0;
}

static void count_params(struct bn_model *m)
{
	uint64_t i, n = 0;

	for (i = 0; i < m->gguf->n_tensors; i++) {
		const struct gguf_tensor *t = &m->gguf->tensors[i];
		uint64_t e = 1;
		uint32_t d;

		for (d = 0; d < t->n_dims && d < 4; d++)
			e *= t->ne[d];
		n += e;
	}
	m->info.n_params = n;
}

static int load_all(struct loader *ld, const char *path)
{
	struct bn_model *m = ld->m;
	struct gguf_str s;
	const struct gguf_tensor *t;
	uint32_t i;
	int rc;

	rc = gguf_open(path, &m->gguf, ld->err, ld->errlen);
	if (rc)
		return rc;
	ld->f = m->gguf;
	if (gguf_get_str(ld->f, "general.architecture", &s))
		return fail(ld, -EINVAL, "%s: general.architecture missing", path);
	rc = read_arch(ld, s);
	if (!rc)
		rc = read_hparams(ld);
	if (rc)
		return rc;
	if (!gguf_get_str(ld->f, "general.name", &s))
		m->name = dup_gstr(s);
	else
		m->name = strdup(strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	if (!gguf_get_str(ld->f, "tokenizer.chat_template", &s))
		m->chat_template = dup_gstr(s);
	if (!m->name)
		return fail(ld, -ENOMEM, "out of memory");
	m->info.name = m->name;

	rc = bn_vocab_from_gguf(ld->f, &m->vocab, ld->err, ld->errlen);
	if (rc)
		return rc;
	rc = load_embeddings(ld);
	if (rc)
		return rc;
	if (bn_vocab_size(m->vocab) > m->info.n_vocab)
		return fail(ld, -EINVAL, "vocab has %u tokens but token_embd only %u rows",
			    bn_vocab_size(m->vocab), m->info.n_vocab);
	t = find_tensor(ld, 0, "attn_q.weight", true);
	if (!t)
		return -EINVAL;
	m->info.weight_type = gguf_type_name(t->type);

	rc = make_backend(ld);
	if (rc)
		return rc;
	m->info.backend = m->backend->ops->name;
	/* the kmod backend's objects are R16 */
	m->info.pack = strcmp(m->info.backend, "cpu") ?
			       "R16" :
			       bn_pack_name(ld->opts ? ld->opts->pack : BN_PACK_AUTO);
	if (!m->pool)
		m->pool = bn_pool_new(threads_of(ld));
	m->layers = calloc(m->info.n_layer, sizeof(*m->layers));
	m->rope_inv_freq = malloc(m->rope_dim / 2 * sizeof(float));
	if (!m->pool || !m->layers || !m->rope_inv_freq)
		return fail(ld, -ENOMEM, "out of memory");
	for (i = 0; i < m->rope_dim / 2; i++)
		m->rope_inv_freq[i] = (float)pow(m->rope_theta, -2.0 * i / m->rope_dim);

	ld->total = 7 * m->info.n_layer;
	for (i = 0; i < m->info.n_layer; i++) {
		rc = load_layer(ld, (int)i);
		if (rc)
			return rc;
	}
	rc = setup_head(ld);
	if (rc)
		return rc;
	rc = m->backend->ops->finish_load(m->backend);
	if (rc == -ESTALE)
		return fail(ld, rc, "%s", STALE_MSG);
	if (rc)
		return fail(ld, rc, "backend: finishing the load failed (%s)", strerror(-rc));
	m->info.weight_bytes = m->backend->ops->weight_bytes(m->backend);
	for (i = 0; i < m->info.n_layer; i++) {
		const struct bn_linear *ls[] = {
			&m->layers[i].wq,   &m->layers[i].wk, &m->layers[i].wv,	  &m->layers[i].wo,
			&m->layers[i].gate, &m->layers[i].up, &m->layers[i].down,
		};
		size_t j;

		for (j = 0; j < sizeof(ls) / sizeof(ls[0]); j++)
			if (ls[j]->is_dense)
				m->info.weight_bytes +=
					(uint64_t)ls[j]->dense.rows * ls[j]->dense.row_bytes;
	}
	m->info.bos = bn_vocab_bos(m->vocab);
	m->info.eos = bn_vocab_eos(m->vocab);
	m->info.eot = bn_vocab_eot(m->vocab);
	count_params(m);
	return 0;
}

int bn_model_load(const char *path, const struct bn_load_opts *opts, struct bn_model **out,
		  char *err, size_t errlen)
{
	struct loader ld = { .opts = opts, .err = err, .errlen = errlen };
	char msg[512];
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	ld.m = calloc(1, sizeof(*ld.m));
	if (!ld.m)
		return -ENOMEM;
	rc = load_all(&ld, path);
	if (rc) {
		if (err && errlen && strncmp(err, path, strlen(path))) {
			snprintf(msg, sizeof(msg), "%s: %s", path, err);
			snprintf(err, errlen, "%s", msg);
		}
		bn_model_free(ld.m);
		return rc < 0 ? rc : -EINVAL;
	}
	*out = ld.m;
	return 0;
}

void bn_model_free(struct bn_model *m)
{
	uint32_t i;

	if (!m)
		return;
	if (m->layers) {
		for (i = 0; i < m->info.n_layer; i++) {
			free(m->layers[i].attn_norm);
			free(m->layers[i].attn_sub_norm);
			free(m->layers[i].ffn_norm);
			free(m->layers[i].ffn_sub_norm);
		}
	}
	free(m->layers);
	if (m->backend)
		m->backend->ops->destroy(m->backend);
	bn_pool_free(m->pool);
	bn_scratch_free(m->scratch);
	if (m->vocab)
		bn_vocab_free(m->vocab);
	if (m->gguf)
		gguf_close(m->gguf);
	free(m->head_q8.q);
	free(m->head_q8.scale);
	free(m->head_q8.sum);
	bn_q4rows_free(&m->head_q4);
	free(m->output_norm);
	free(m->rope_inv_freq);
	free(m->chat_template);
	free(m->name);
	free(m);
}

const struct bn_model_info *bn_model_info(const struct bn_model *m)
{
	return &m->info;
}

const struct bn_vocab *bn_model_vocab(const struct bn_model *m)
{
	return m->vocab;
}

int bn_model_backend_stats(const struct bn_model *m, struct bn_backend_stats *st)
{
	if (!m || !m->backend)
		return -EINVAL;
	return m->backend->ops->stats(m->backend, st);
}

int bn_model_share_weights(struct bn_model *m, int sock)
{
	if (!m || !m->backend || sock < 0)
		return -EINVAL;
	if (!bn_backend_kmod_submit_path(m->backend))
		return -ENODEV;
	return bn_backend_kmod_export(m->backend, sock);
}
