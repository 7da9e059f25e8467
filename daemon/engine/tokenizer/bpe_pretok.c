// SPDX-License-Identifier: GPL-2.0
/*
 * BPE pre-tokenizers: the regular expressions LLaMA-3 and GPT-2 split text
 * with before merging, run by PCRE2 in UTF + UCP mode so \p{L}, \p{N} and
 * \s have their Unicode meaning. The case-insensitive contractions are
 * spelt out in ASCII: (?i) would also fold U+017F into 's'.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "daemon/engine/tokenizer/vocab_priv.h"

#define CONTRACTIONS "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])"

static const char llama3_re[] = CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
					     "|\\p{N}{1,3}"
					     "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
					     "|\\s*[\\r\\n]+"
					     "|\\s+(?!\\S)"
					     "|\\s+";

static const char gpt2_re[] = "'s|'t|'re|'ve|'m|'ll|'d"
			      "| ?\\p{L}+"
			      "| ?\\p{N}+"
			      "| ?[^\\s\\p{L}\\p{N}]+"
			      "|\\s+(?!\\S)"
			      "|\\s+";

struct bn_pretok {
	pcre2_code *code;
};

int bn_pretok_new(enum bn_pre_kind kind, struct bn_pretok **out, char *err, size_t errlen)
{
	const char *re = kind == BN_PRE_GPT2 ? gpt2_re : llama3_re;
	struct bn_pretok *p;
	PCRE2_SIZE erroff;
	int errcode;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
				&errcode, &erroff, NULL);
	if (!p->code) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		if (err && errlen)
			snprintf(err, errlen, "pre-tokenizer regex: %s at %zu", (const char *)msg,
				 (size_t)erroff);
		free(p);
		return -EINVAL;
	}
	/* JIT is only a speed-up: the interpreter gives the same splits */
	pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	*out = p;
	return 0;
}

void bn_pretok_free(struct bn_pretok *p)
{
	if (!p)
		return;
	pcre2_code_free(p->code);
	free(p);
}

int bn_pretok_split(const struct bn_pretok *p, const char *text, size_t len,
		    int (*fn)(const char *word, size_t len, void *ctx), void *ctx)
{
	pcre2_match_data *md;
	size_t pos = 0;
	int ret = 0;

	md = pcre2_match_data_create_from_pattern(p->code, NULL);
	if (!md)
		return -ENOMEM;
	while (pos < len && !ret) {
		PCRE2_SIZE *ov;
		int rc;

		/* the caller has validated the UTF-8 */
		rc = pcre2_match(p->code, (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK, md, NULL);
		/* JIT's fixed stack can run out where the interpreter's heap won't */
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
			rc = pcre2_match(p->code, (PCRE2_SPTR)text, len, pos,
					 PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH) {
			ret = fn(text + pos, len - pos, ctx);
			break;
		}
		if (rc < 0) {
			ret = -ENOMEM; /* a match or heap limit */
			break;
		}
		ov = pcre2_get_ovector_pointer(md);
		if (ov[0] > pos)
			ret = fn(text + pos, ov[0] - pos, ctx);
		if (!ret && ov[1] > ov[0])
			ret = fn(text + ov[0], ov[1] - ov[0], ctx);
		if (ov[1] > pos) {
			pos = ov[1];
		} else {
			/* an empty match: step one character */
			size_t next = pos + 1;

			while (next < len && ((uint8_t)text[next] & 0xc0) == 0x80)
				next++;
			if (!ret)
				ret = fn(text + pos, next - pos, ctx);
			pos = next;
		}
	}
	pcre2_match_data_free(md);
	return ret;
}
