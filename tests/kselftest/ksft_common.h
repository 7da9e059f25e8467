/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the bitnet kselftests: random ternary weights and
 * activations, the userspace compute core as the reference, counters.
 */
#ifndef BITNET_KSFT_COMMON_H
#define BITNET_KSFT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "libdev/bitnet-dev.h"
#include "kmod/core/bitnet_core.h"

/* One random ternary weight, packed in @fmt, and its reference layout. */
struct kw {
	uint32_t fmt;
	uint32_t rows;
	uint32_t cols;
	uint32_t scale_bits;
	int8_t *t;    /* codes, rows * cols */
	void *packed; /* @bytes in @fmt */
	size_t bytes;
	struct bnc_matrix mat; /* userspace execution layout */
};

/* Random activations for N tokens of K. */
struct ka {
	uint32_t n;
	uint32_t k;
	int8_t *q;
	float *sigma;
	int32_t *sum;
};

uint32_t ksft_rand(uint32_t *state);
int kw_make(struct kw *w, uint32_t fmt, uint32_t rows, uint32_t cols, uint32_t seed);
void kw_free(struct kw *w);
int ka_make(struct ka *a, uint32_t n, uint32_t k, uint32_t seed);
void ka_free(struct ka *a);
struct bnc_act ka_act(const struct ka *a);

/* Reference results from the userspace core (whole matrix, best ISA). */
int kw_ref_i32(const struct kw *w, const struct ka *a, int32_t *out);
int kw_ref_f32(const struct kw *w, const struct ka *a, float *out);

/* Load @w into the device: create, fill in @chunk pieces, seal. */
int kw_load(struct bnd_dev *dev, const struct kw *w, uint32_t *handle);

/* Index of the first difference, or -1. Floats compare bit-exactly. */
long ksft_diff_i32(const int32_t *a, const int32_t *b, size_t n);
long ksft_diff_f32(const float *a, const float *b, size_t n);

/* A module counter from /sys/class/misc/bitnet/<name>; -1 if absent. */
long long ksft_stat(const char *name);
/* Wait (bounded) until a counter reaches @want; returns its last value. */
long long ksft_stat_wait(const char *name, long long want);
/* Write a module parameter; returns 0 or -errno. Old value in @old. */
int ksft_param_set(const char *name, const char *val, char *old, size_t oldlen);

/* Whether /dev/bitnet can be opened; the reason in @why when not. */
int ksft_have_device(const char **why);

#endif /* BITNET_KSFT_COMMON_H */
