/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pieces several bitnet-bench subcommands measure or need: this machine's
 * DRAM read bandwidth and int8 GEMM throughput (the two sides of a
 * roofline), a clock, prompts, and the 2B-4T-shape model from
 * bitnet-mkmodel.
 */
#ifndef BITNET_BENCH_MEASURE_H
#define BITNET_BENCH_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "kmod/core/bitnet_core.h"

struct bnc_pool;

/* Int8 activations of @n tokens of @k, quantized from fixed values. */
struct bench_act {
	struct bnc_act act;
	s8 *q;
	float *sigma;
	s32 *sum;
};

double bench_now(void);
/* Best of 4 reads of two 512 MiB buffers over @pool, in GB/s. */
double bench_dram_gbs(struct bnc_pool *pool);
/*
 * Ternary x int8 GEMM of @m x @k by @n tokens on the best ISA, weights in
 * cache, over @pool: best G multiply-accumulates per second.
 */
double bench_gemm_gmacs(struct bnc_pool *pool, uint32_t m, uint32_t k, uint32_t n);
/*
 * The int8 ceiling of a roofline: vpdpbusd from registers on every thread of
 * @pool, in G multiply-accumulates per second (without AVX-512 VNNI: the
 * GEMM above, 2560 x 2560 by 128 tokens).
 */
double bench_int8_peak_gmacs(struct bnc_pool *pool);
/*
 * Both rates read again after a run, each keeping the larger of its two
 * readings (@gmacs NULL: DRAM's only). They move on a shared host (DRAM's
 * within a minute; another tenant on a core halved an int8 reading, 235
 * against 466), and a roofline from the lower reading would flatter the run.
 */
void bench_rates_again(struct bnc_pool *pool, double *gbs, double *gmacs);
/* 64-byte aligned; exits when out of memory. */
void *bench_xalloc(size_t bytes);
/*
 * Room for weights as the engine's CPU backend keeps them
 * (bn_cpu_weight_region(): on transparent huge pages; a TLB miss a 4 KiB
 * page cost batches of 4 tokens 5-20% here); exits when out of memory.
 */
void *bench_xalloc_weights(size_t bytes);
/* A random ternary @m x @k matrix in the execution layout; returns its data. */
void *bench_ternary(uint32_t m, uint32_t k, uint32_t layout, struct bnc_matrix *mat);
struct bench_act *bench_act_new(uint32_t n, uint32_t k);
void bench_act_free(struct bench_act *a);
/* A fixed pseudo-random prompt of @n ordinary tokens; @salt makes another. */
void bench_prompt(int32_t *ids, int n, uint32_t n_vocab, uint32_t salt);
/*
 * Writes @out with bitnet-mkmodel (next to this program) unless it exists:
 * @args are its options (e.g. "--type i2_s"), @what names it for the log.
 */
int bench_mkmodel(const char *args, const char *out, const char *what);

#endif /* BITNET_BENCH_MEASURE_H */
