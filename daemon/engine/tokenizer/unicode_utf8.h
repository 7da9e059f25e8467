/* SPDX-License-Identifier: GPL-2.0 */
/* UTF-8 helpers and GPT-2's byte <-> unicode mapping. */
#ifndef BITNET_UNICODE_UTF8_H
#define BITNET_UNICODE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Length of the valid UTF-8 character at @s (at most @n bytes): 1..4, 0 if
 * the bytes there are not a valid character (overlong, surrogate, > U+10FFFF,
 * bad continuation), or -1 if they are a valid but incomplete prefix.
 */
int utf8_char_len(const uint8_t *s, size_t n);
bool utf8_valid(const char *s, size_t n);
/* Decodes one valid character; returns its length. */
int utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
/* Encodes @cp; returns 1..4. */
int utf8_encode(uint32_t cp, char *out);

/* GPT-2 bytes_to_unicode: the code point byte @b is written as. */
uint32_t gpt2_byte_to_cp(uint8_t b);
/* The inverse: the byte, or -1 if @cp stands for no byte. */
int gpt2_cp_to_byte(uint32_t cp);

#endif /* BITNET_UNICODE_UTF8_H */
