// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet-mkmodel --from: a copy of an existing GGUF file with its token
 * embedding (and untied output head) stored in another type, the way
 * llama-quantize stores them (e.g. Q6_K), every other entry and tensor
 * unchanged. Lets the tests and benchmarks run real models with k-quant
 * heads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/kernels/ops.h"
#include "daemon/engine/kernels/quant_k.h"
#include "kmod/core/bnc_quant.h"
#include "tools/mkmodel/requant.h"

static bool is_head_or_embd(const struct gguf_tensor *t)
{
	return (t->name.len == 17 && !memcmp(t->name.ptr, "token_embd.weight", 17)) ||
	       (t->name.len == 13 && !memcmp(t->name.ptr, "output.weight", 13));
}

/* All rows of @t in @type; *out is malloc'ed. */
static int encode(const struct gguf_tensor *t, uint32_t type, void **out, uint64_t *bytes)
{
	struct bn_ftensor ft = { t->data, t->type, (uint32_t)t->ne[1], (uint32_t)t->ne[0], 0 };
	size_t n = (size_t)ft.rows * ft.cols, r;
	float *x;
	int rc = 0;

	if (t->n_dims != 2 || !bn_ftensor_rows_type_ok(t->type))
		return -ENOTSUP;
	ft.row_bytes = t->size / ft.rows;
	x = malloc(n * sizeof(float));
	if (!x)
		return -ENOMEM;
	for (r = 0; r < ft.rows; r++)
		bn_ftensor_row(&ft, (uint32_t)r, x + r * ft.cols);
	if (type == GGUF_T_F32) {
		*out = x;
		*bytes = n * 4;
		return 0;
	}
	if (type == GGUF_T_F16) {
		*bytes = n * 2;
		*out = malloc(*bytes);
		for (r = 0; *out && r < n; r++)
			((uint16_t *)*out)[r] = bnc_fp32_to_fp16(x[r]);
	} else {
		*bytes = n / bn_qblock_elems(type) * bn_qblock_bytes(type);
		*out = malloc(*bytes);
		rc = *out ? bn_qblock_quantize(type, x, (uint32_t)n, *out) : 0;
	}
	free(x);
	return !*out ? -ENOMEM : rc;
}

int mkmodel_requant(const char *in, const char *out, uint32_t type)
{
	struct gguf_file *f = NULL;
	struct gguf_writer *w;
	char err[512], name[256];
	uint64_t i;
	int rc;

	rc = gguf_open(in, &f, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bitnet-mkmodel: %s\n", err);
		return rc;
	}
	w = gguf_writer_new(f->alignment);
	rc = w ? 0 : -ENOMEM;
	for (i = 0; !rc && i < f->n_kv; i++)
		rc = gguf_writer_kv_copy(w, &f->kv[i]);
	for (i = 0; !rc && i < f->n_tensors; i++) {
		const struct gguf_tensor *t = &f->tensors[i];
		void *data = NULL;
		uint64_t bytes = t->size;
		uint32_t ty = t->type;

		snprintf(name, sizeof(name), "%.*s", (int)t->name.len, t->name.ptr);
		if (is_head_or_embd(t)) {
			rc = encode(t, type, &data, &bytes);
			ty = type;
		}
		if (!rc)
			rc = gguf_writer_tensor(w, name, t->n_dims, t->ne, ty,
						data ? data : t->data, bytes);
		free(data);
	}
	if (!rc)
		rc = gguf_writer_write(w, out);
	gguf_writer_free(w);
	gguf_close(f);
	return rc;
}
