// SPDX-License-Identifier: GPL-2.0
/*
 * Chat formatting. No Jinja interpreter: tokenizer.chat_template is matched
 * against the families it can belong to by their marker tokens, and the
 * family's format is written out. microsoft/bitnet-b1.58-2B-4T's template
 * is "Role: content<|eot_id|>" per message, ending with "Assistant: ".
 * The result never starts with BOS: callers tokenize it with add_bos as the
 * vocab asks and parse_special set.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/model/model_internal.h"

enum chat_style {
	CHAT_BITNET, /* "User: ...<|eot_id|>Assistant: " */
	CHAT_LLAMA3, /* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
	CHAT_CHATML, /* <|im_start|>role\n...<|im_end|>\n */
	CHAT_LLAMA2, /* [INST] ... [/INST] */
	CHAT_PLAIN,  /* "User: ...\nAssistant: " for models without a template */
};

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		size_t cap = (b->cap + n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (!q) {
			b->err = -ENOMEM;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

static enum chat_style style_of(const struct bn_model *m)
{
	const char *t = m->chat_template;

	if (t) {
		if (strstr(t, "<|start_header_id|>"))
			return CHAT_LLAMA3;
		if (strstr(t, "<|im_start|>"))
			return CHAT_CHATML;
		if (strstr(t, "[INST]"))
			return CHAT_LLAMA2;
		if (strstr(t, "<|eot_id|>"))
			return CHAT_BITNET;
	}
	return m->arch == BN_ARCH_BITNET_B158 ? CHAT_BITNET : CHAT_PLAIN;
}

static bool role_ok(const char *r)
{
	return !strcmp(r, "system") || !strcmp(r, "user") || !strcmp(r, "assistant");
}

static void put_capitalized(struct sbuf *b, const char *role)
{
	put(b, "%c%s", toupper((unsigned char)role[0]), role + 1);
}

static void format_llama2(struct sbuf *b, const struct bn_chat_msg *msgs, size_t n)
{
	const char *sys = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bn_chat_msg *c = &msgs[i];

		if (!strcmp(c->role, "system")) {
			sys = c->content;
		} else if (!strcmp(c->role, "user")) {
			put(b, "[INST] ");
			if (sys)
				put(b, "<<SYS>>\n%s\n<</SYS>>\n\n", sys);
			sys = NULL;
			put(b, "%s [/INST]", c->content);
		} else {
			put(b, " %s </s>", c->content);
		}
	}
}

char *bn_chat_format(const struct bn_model *m, const struct bn_chat_msg *msgs, size_t n_msgs,
		     int *error)
{
	struct sbuf b = { 0 };
	enum chat_style st;
	size_t i;

	if (!m || (n_msgs && !msgs)) {
		if (error)
			*error = -EINVAL;
		return NULL;
	}
	for (i = 0; i < n_msgs; i++) {
		if (!msgs[i].role || !msgs[i].content || !role_ok(msgs[i].role)) {
			if (error)
				*error = -EINVAL;
			return NULL;
		}
	}
	st = style_of(m);
	put(&b, "%s", "");
	if (st == CHAT_LLAMA2) {
		format_llama2(&b, msgs, n_msgs);
		goto done;
	}
	for (i = 0; i < n_msgs; i++) {
		const char *r = msgs[i].role, *c = msgs[i].content;

		switch (st) {
		case CHAT_BITNET:
			put_capitalized(&b, r);
			put(&b, ": %s<|eot_id|>", c);
			break;
		case CHAT_LLAMA3:
			put(&b, "<|start_header_id|>%s<|end_header_id|>\n\n%s<|eot_id|>", r, c);
			break;
		case CHAT_CHATML:
			put(&b, "<|im_start|>%s\n%s<|im_end|>\n", r, c);
			break;
		default:
			put_capitalized(&b, r);
			put(&b, ": %s\n", c);
			break;
		}
	}
	switch (st) {
	case CHAT_BITNET:
	case CHAT_PLAIN:
		put(&b, "Assistant: ");
		break;
	case CHAT_LLAMA3:
		put(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
		break;
	case CHAT_CHATML:
		put(&b, "<|im_start|>assistant\n");
		break;
	default:
		break;
	}
done:
	if (b.err) {
		free(b.p);
		if (error)
			*error = b.err;
		return NULL;
	}
	if (error)
		*error = 0;
	return b.p;
}
