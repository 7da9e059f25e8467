// SPDX-License-Identifier: GPL-2.0
/* UTF-8 validation, coding, and GPT-2's byte-level alphabet. */
#include "daemon/engine/tokenizer/unicode_utf8.h"

int utf8_char_len(const uint8_t *s, size_t n)
{
	uint8_t b = s[0], lo = 0x80, hi = 0xbf;
	int need, i;

	if (b < 0x80)
		return 1;
	if (b < 0xc2)
		return 0;
	if (b < 0xe0) {
		need = 2;
	} else if (b < 0xf0) {
		need = 3;
		if (b == 0xe0)
			lo = 0xa0; /* overlong */
		else if (b == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (b < 0xf5) {
		need = 4;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f; /* > U+10FFFF */
	} else {
		return 0;
	}
	for (i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return need;
}

bool utf8_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < n) {
		int k;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_char_len(p + i, n - i);
		if (k <= 0)
			return false;
		i += k;
	}
	return true;
}

int utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	int k = utf8_char_len(s, n), i;

	if (k <= 0) {
		*cp = 0xfffd;
		return 1;
	}
	if (k == 1) {
		*cp = s[0];
		return 1;
	}
	*cp = s[0] & (0x7f >> k);
	for (i = 1; i < k; i++)
		*cp = (*cp << 6) | (s[i] & 0x3f);
	return k;
}

int utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | (cp >> 6);
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | (cp >> 12);
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | (cp >> 18);
	out[1] = 0x80 | ((cp >> 12) & 0x3f);
	out[2] = 0x80 | ((cp >> 6) & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * Printable Latin-1 bytes stand for themselves; the other 68 bytes, in
 * order, take the code points 256..323: 0x00-0x20, 0x7f-0xa0 and 0xad.
 */
uint32_t gpt2_byte_to_cp(uint8_t b)
{
	if (b <= 0x20)
		return 256 + b;
	if (b >= 0x7f && b <= 0xa0)
		return 289 + (b - 0x7f);
	if (b == 0xad)
		return 323;
	return b;
}

int gpt2_cp_to_byte(uint32_t cp)
{
	if (cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad)
		return -1;
	if (cp < 256)
		return cp;
	if (cp <= 288)
		return cp - 256;
	if (cp <= 322)
		return 0x7f + (cp - 289);
	if (cp == 323)
		return 0xad;
	return -1;
}
