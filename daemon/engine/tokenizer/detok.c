// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming detokenizer: token bytes are passed on only as whole, valid
 * UTF-8 characters; a character split across tokens waits in @pending.
 * Bytes that can never form a valid character come out as U+FFFD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/tokenizer/unicode_utf8.h"
#include "daemon/engine/tokenizer/vocab_priv.h"

#define REPLACEMENT "\xef\xbf\xbd"

/*
 * SentencePiece's dummy prefix is dropped only from the first piece after
 * BOS: text tokenized with BOS comes back as it went in, while a stream
 * that starts mid-text (generated tokens after a prompt) keeps its spaces.
 */
void bn_detok_init(struct bn_detok *d, const struct bn_vocab *v)
{
	memset(d, 0, sizeof(*d));
	d->vocab = v;
	d->at_start = false;
}

/*
 * Converts @in (pending bytes followed by new ones) to valid UTF-8 in @out
 * (NULL: only count). Returns the output length; *@keep is how many bytes
 * at the end form an incomplete character to hold back.
 */
static size_t sanitize(const uint8_t *in, size_t n, char *out, size_t *keep)
{
	size_t i = 0, o = 0;

	*keep = 0;
	while (i < n) {
		int k = utf8_char_len(in + i, n - i);

		if (k < 0) {
			*keep = n - i;
			break;
		}
		if (k == 0) {
			if (out)
				memcpy(out + o, REPLACEMENT, 3);
			o += 3;
			i++;
			continue;
		}
		if (out)
			memcpy(out + o, in + i, k);
		o += k;
		i += k;
	}
	return o;
}

static int emit(struct bn_detok *d, const char *bytes, size_t len, char *out, size_t cap)
{
	uint8_t buf[256];
	uint8_t *in = buf;
	size_t n = d->n_pending + len, keep, o;

	if (n > sizeof(buf)) {
		in = malloc(n);
		if (!in)
			return -ENOMEM;
	}
	memcpy(in, d->pending, d->n_pending);
	memcpy(in + d->n_pending, bytes, len);
	o = sanitize(in, n, NULL, &keep);
	if (!out || o + 1 > cap) {
		if (in != buf)
			free(in);
		return -ENOSPC;
	}
	sanitize(in, n, out, &keep);
	out[o] = '\0';
	memcpy(d->pending, in + n - keep, keep);
	d->n_pending = keep;
	if (in != buf)
		free(in);
	return o;
}

int bn_detok_push(struct bn_detok *d, int32_t id, char *out, size_t cap)
{
	const struct bn_vocab *v = d->vocab;
	const struct bn_token *t;
	const char *b;
	size_t len;
	int ret;

	if (id < 0 || (uint32_t)id >= v->n_tokens)
		return -EINVAL;
	t = &v->tokens[id];
	/* control tokens (BOS, EOS, ...) have no text */
	if (t->type == BN_TOK_CONTROL) {
		if (!out || !cap)
			return -ENOSPC;
		out[0] = '\0';
		if (id == v->bos)
			d->at_start = true;
		return 0;
	}
	b = t->piece;
	len = t->piece_len;
	if (d->at_start && v->kind == BN_VOCAB_SPM && v->add_space_prefix && len && b[0] == ' ') {
		b++;
		len--;
	}
	ret = emit(d, b, len, out, cap);
	if (ret >= 0)
		d->at_start = false;
	return ret;
}

int bn_detok_flush(struct bn_detok *d, char *out, size_t cap)
{
	size_t o = d->n_pending ? 3 : 0;

	if (!out || o + 1 > cap)
		return -ENOSPC;
	if (o)
		memcpy(out, REPLACEMENT, 3);
	out[o] = '\0';
	d->n_pending = 0;
	return o;
}
