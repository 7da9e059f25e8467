/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the bitnet kselftests: random ternary weights and
 * activations, the userspace compute core as the reference, counters.
 */
#ifndef BITNET_KSFT_COMMON_H
#define BITNET_KSFT_COMMON_H

#include <pthread.h>
#include <stdbool.h>
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

/* Runs one job to completion: bnd_run(), bnd_uring_run(), ... on @runner. */
typedef int (*ksft_run_fn)(void *runner, const struct bitnet_job *job);

/*
 * One job of @a on the loaded @w at @handle, output @out_type, with the
 * caller-provided sums if @with_sum, run by @run(@runner, job): the index
 * of the first difference from the reference, -1 if none, -2 if the job
 * failed.
 */
long ksft_check_job(const struct kw *w, uint32_t handle, const struct ka *a, uint8_t out_type,
		    int with_sum, ksft_run_fn run, void *runner);
/*
 * ksft_check_job() on a random weight of @fmt, @m x @k (seed @seed) loaded
 * into @dev for the job and destroyed after, and @n random tokens (seed
 * @seed + 100). Its result, or -3 if the weight or tokens failed.
 */
long ksft_check_shape(struct bnd_dev *dev, uint32_t fmt, uint32_t m, uint32_t k, uint32_t n,
		      uint8_t out_type, int with_sum, uint32_t seed, ksft_run_fn run, void *runner);
/*
 * @n_jobs BITNET_OUT_I32 jobs of @n random tokens (seeds @seed, @seed + 1,
 * ...) through ksft_check_job(); stops at the first failure. Returns 0, or
 * 1 on a failure.
 */
int ksft_check_jobs(const struct kw *w, uint32_t handle, uint32_t n, int n_jobs, uint32_t seed,
		    ksft_run_fn run, void *runner);

/*
 * A batch: @n_jobs BITNET_OUT_I32 jobs, each of its own @n random tokens
 * (seeds @a_seed, @a_seed + 1, ...), on one random @rows x @cols weight
 * (seed @w_seed) loaded into @dev.
 */
struct ksft_batch {
	struct kw w;
	uint32_t handle;
	int n_jobs;
	struct ka *a;
	int32_t **got;
	struct bitnet_job *jobs;
};

int ksft_batch_make(struct ksft_batch *b, struct bnd_dev *dev, int n_jobs, uint32_t rows,
		    uint32_t cols, uint32_t n, uint32_t w_seed, uint32_t a_seed);
/* The first job whose result is not the reference's, or -1. */
int ksft_batch_check(const struct ksft_batch *b);
void ksft_batch_free(struct ksft_batch *b);

/* How many threads the tests that submit concurrently start. */
#define KSFT_THREADS 4

/* A test's submitting thread: what it runs on, and how many checks failed. */
struct ksft_thread {
	struct bnd_dev *dev; /* the test's open file */
	int export_fd;	     /* the object, exported */
	const struct kw *w;
	uint32_t handle; /* the object in @dev */
	int seed;	 /* 1, 2, ... */
	int failures;
	pthread_t tid;
};

/*
 * Starts @n threads running @fn, each on its own copy of @proto with seed
 * 1..n; 0 or the pthread_create() error (the threads started are joined).
 */
int ksft_threads_start(struct ksft_thread *t, int n, void *(*fn)(void *),
		       const struct ksft_thread *proto);
/* Joins the @n threads; the index of the first that failed, or -1. */
int ksft_threads_join(struct ksft_thread *t, int n);

/* Index of the first difference, or -1. Floats compare bit-exactly. */
long ksft_diff_i32(const int32_t *a, const int32_t *b, size_t n);
long ksft_diff_f32(const float *a, const float *b, size_t n);

/* A module counter from /sys/class/misc/bitnet/<name>; -1 if absent. */
long long ksft_stat(const char *name);
/* Wait (bounded) until a counter reaches @want; returns its last value. */
long long ksft_stat_wait(const char *name, long long want);
/* Write a module parameter; returns 0 or -errno. Old value in @old. */
int ksft_param_set(const char *name, const char *val, char *old, size_t oldlen);

/* The module's live objects and pinned bytes: what a test must give back. */
struct ksft_live {
	long long objects;
	long long pinned;
};

struct ksft_live ksft_live_now(void);
/*
 * Waits (bounded) until both are back at @then's; false, the differences
 * printed as TAP comments, if they are not.
 */
bool ksft_live_back(const struct ksft_live *then);

/*
 * For a child that leaves jobs in flight and exits: a 2048 x 2048 weight
 * (seed @seed) loaded into @dev and, in @job, 4 tokens (seed @seed + 1) on
 * it, into memory never freed. 0, or -1 if anything failed.
 */
int ksft_busy_job(struct bnd_dev *dev, uint32_t seed, struct bitnet_job *job);

/* Whether /dev/bitnet can be opened; the reason in @why when not. */
int ksft_have_device(const char **why);

/*
 * With kselftest_harness.h: in a FIXTURE_SETUP, opens /dev/bitnet into
 * *@devp (NULL first), or SKIPs the test without the device.
 */
#define KSFT_OPEN_DEV(devp)                           \
	do {                                          \
		const char *why_;                     \
                                                      \
		*(devp) = NULL;                       \
		if (!ksft_have_device(&why_))         \
			SKIP(return, "%s", why_);     \
		ASSERT_EQ(0, bnd_open(NULL, (devp))); \
	} while (0)

/* A FIXTURE @name whose tests each get their own open /dev/bitnet, self->dev. */
#define KSFT_DEV_FIXTURE(name)             \
	FIXTURE(name)                      \
	{                                  \
		struct bnd_dev *dev;       \
	};                                 \
	FIXTURE_SETUP(name)                \
	{                                  \
		KSFT_OPEN_DEV(&self->dev); \
	}                                  \
	FIXTURE_TEARDOWN(name)             \
	{                                  \
		bnd_close(self->dev);      \
	}

#endif /* BITNET_KSFT_COMMON_H */
