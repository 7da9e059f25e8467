// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the GGUF reader on arbitrary bytes, then everything a
 * successful open promises (bounded accessors, tensor data in range), then
 * the vocab built from whatever metadata the file holds, used once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/gguf/gguf.h"
#include "daemon/engine/tokenizer/vocab.h"

static volatile uint8_t sink;

static void touch(const void *p, uint64_t len)
{
	if (len) {
		sink ^= ((const uint8_t *)p)[0];
		sink ^= ((const uint8_t *)p)[len - 1];
	}
}

static void use_vocab(const struct bn_vocab *v)
{
	static const char text[] = "Hello world! 123 caf\xc3\xa9 <s> \xf0\x9f\xa6\x99";
	int32_t ids[128];
	struct bn_detok d;
	char out[256];
	int n, i;

	n = bn_tokenize(v, text, sizeof(text) - 1, true, true, ids, 128);
	if (n > 128)
		n = 128;
	bn_detok_init(&d, v);
	for (i = 0; i < n; i++) {
		if (ids[i] < 0 || (uint32_t)ids[i] >= bn_vocab_size(v))
			__builtin_trap();
		bn_detok_push(&d, ids[i], out, sizeof(out));
	}
	bn_detok_flush(&d, out, sizeof(out));
	bn_vocab_is_eog(v, bn_vocab_eos(v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf_file *f;
	struct bn_vocab *v;
	char err[256];
	uint64_t i, j;
	uint8_t *copy;

	/* an exact-size heap copy, so any over-read is caught */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (gguf_open_buffer(copy, size, "fuzz", &f, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap(); /* every failure has a message */
		free(copy);
		return 0;
	}
	for (i = 0; i < f->n_kv; i++) {
		const struct gguf_kv *kv = &f->kv[i];
		struct gguf_str s;
		int32_t iv;
		float fv;

		touch(kv->key.ptr, kv->key.len);
		touch(kv->data, kv->size);
		for (j = 0; kv->type == GGUF_V_ARRAY && j < kv->arr_n && j < 4096; j++) {
			if (!gguf_arr_str(kv, j, &s))
				touch(s.ptr, s.len);
			gguf_arr_i32(kv, j, &iv);
			gguf_arr_f32(kv, j, &fv);
		}
	}
	for (i = 0; i < f->n_tensors; i++) {
		const struct gguf_tensor *t = &f->tensors[i];
		char name[128];

		touch(t->data, t->size);
		if (t->name.len < sizeof(name)) {
			memcpy(name, t->name.ptr, t->name.len);
			name[t->name.len] = '\0';
			if (!gguf_find_tensor(f, name))
				__builtin_trap();
		}
	}
	if (!bn_vocab_from_gguf(f, &v, err, sizeof(err))) {
		use_vocab(v);
		bn_vocab_free(v);
	}
	gguf_close(f);
	free(copy);
	return 0;
}
