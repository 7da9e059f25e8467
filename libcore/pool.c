// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace thread pool: a generation counter starts a job, a pending
 * count ends it; both are futex words that waiters spin on briefly first.
 */
#include "libcore/pool.h"
#include "kmod/core/bnc_internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

/* ~50-100 us of PAUSE before sleeping: spans the gaps of a decode step. */
#define BNC_SPIN_LIMIT 2000
#define BNC_MAX_TASKS 0xffff
#define BNC_TASKS_PER_THREAD 16
/*
 * LUT3 tables are built for at most this many tokens at a time (2.4 MB for
 * K = 6912): larger batches go through in groups.
 */
#define BNC_LUT3_GROUP 16
/*
 * Every LUT3 tile reads all of its group's tables (1.2 MB for K = 6912 and
 * 8 tokens, from L3), and its kernel runs 3-4 row blocks at a time: fewer,
 * larger tiles. bitnet-bench batch, 2 threads, load average ~3.2, LUT3
 * time over R16's: 1 token 0.91-0.93 with 2 a thread (0.80-0.97 with 1,
 * 1.00-1.04 with 4, 1.37 with 16); 4 tokens 1.09-1.12 with 2, 1.27-1.31
 * with 4; 8 tokens 1.09-1.10 with either.
 */
#define BNC_LUT3_TASKS_PER_THREAD 2
/*
 * Batches (4+ tokens, the kernel's passes over K) one tile a thread: each
 * tile's kernel reads every pass's tables again and ends its passes on
 * narrower spans. 2 threads, alternating in one process (the other core
 * partly busy: R16 ran near its 1-thread time), LUT3 time over R16's with
 * 2 a thread -> 1: 8 tokens 0.964-0.979 -> 0.923-0.948 (3 runs), 16 tokens
 * 0.931 -> 0.890, 4 tokens 0.916 -> 0.915.
 */
#define BNC_LUT3_BATCH_TASKS_PER_THREAD 1
#define BNC_LUT3_BATCH_TOKENS 4

/*
 * A job is published in one 64-bit word: generation (32 bits), number of
 * tasks (16) and next unclaimed task (16). Threads claim tasks with a
 * compare-and-swap, so whoever is running does the work: a worker that a
 * busy machine has not scheduled yet delays nothing, the caller simply
 * runs its tasks. @inflight counts threads between "about to claim" and
 * "done with what they claimed"; the caller returns when it is 0.
 */
struct bnc_pool {
	int threads;
	pthread_t *tids;
	atomic_uint gen;	    /* futex word: bumped to start a job */
	atomic_ullong claim;	    /* gen << 32 | count << 16 | next */
	atomic_uint inflight;	    /* futex word: threads in a job */
	atomic_int sleepers;	    /* workers in futex_wait on gen */
	atomic_int caller_sleeping; /* caller in futex_wait on inflight */
	atomic_int stop;
	bnc_pool_fn fn;
	void *arg;
};

static void bnc_futex_wait(atomic_uint *addr, u32 val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void bnc_futex_wake(atomic_uint *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void bnc_pause(void)
{
	__builtin_ia32_pause();
}

static u32 bnc_wait_gen(struct bnc_pool *pool, u32 seen)
{
	int spins = 0;
	u32 g;

	while ((g = atomic_load(&pool->gen)) == seen) {
		if (++spins < BNC_SPIN_LIMIT) {
			bnc_pause();
			continue;
		}
		atomic_fetch_add(&pool->sleepers, 1);
		if (atomic_load(&pool->gen) == seen)
			bnc_futex_wait(&pool->gen, seen);
		atomic_fetch_sub(&pool->sleepers, 1);
		spins = 0;
	}
	return g;
}

/* Claims and runs tasks of the current job until none is left. */
static void bnc_run_tasks(struct bnc_pool *pool)
{
	unsigned long long c = atomic_load(&pool->claim);
	u32 next, count;

	for (;;) {
		next = c & 0xffff;
		count = (c >> 16) & 0xffff;
		if (next >= count)
			return;
		if (!atomic_compare_exchange_weak(&pool->claim, &c, c + 1))
			continue; /* @c now holds the current word */
		pool->fn(pool->arg, next, count);
		c = atomic_load(&pool->claim);
	}
}

static void bnc_leave(struct bnc_pool *pool)
{
	if (atomic_fetch_sub(&pool->inflight, 1) == 1 && atomic_load(&pool->caller_sleeping))
		bnc_futex_wake(&pool->inflight);
}

static void *bnc_worker(void *p)
{
	struct bnc_pool *pool = p;
	u32 seen = 0;

	for (;;) {
		seen = bnc_wait_gen(pool, seen);
		if (atomic_load(&pool->stop))
			break;
		atomic_fetch_add(&pool->inflight, 1);
		bnc_run_tasks(pool);
		bnc_leave(pool);
	}
	return NULL;
}

static void bnc_wait_idle(struct bnc_pool *pool)
{
	int spins = 0;
	u32 left;

	while ((left = atomic_load(&pool->inflight)) != 0) {
		if (++spins < BNC_SPIN_LIMIT) {
			bnc_pause();
			continue;
		}
		atomic_store(&pool->caller_sleeping, 1);
		if (atomic_load(&pool->inflight) == left)
			bnc_futex_wait(&pool->inflight, left);
		atomic_store(&pool->caller_sleeping, 0);
		spins = 0;
	}
}

static void bnc_publish(struct bnc_pool *pool, bnc_pool_fn fn, void *arg, u32 count)
{
	u32 g = atomic_load(&pool->gen) + 1;

	pool->fn = fn;
	pool->arg = arg;
	atomic_store(&pool->claim, (unsigned long long)g << 32 | (unsigned long long)count << 16);
	atomic_store(&pool->gen, g);
	if (atomic_load(&pool->sleepers))
		bnc_futex_wake(&pool->gen);
}

struct bnc_pool *bnc_pool_new(int threads)
{
	struct bnc_pool *pool;
	int i;

	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (int)n : 1;
	}
	if (threads > BNC_MAX_TASKS)
		threads = BNC_MAX_TASKS;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->threads = threads;
	pool->tids = calloc(threads, sizeof(*pool->tids));
	if (!pool->tids) {
		free(pool);
		return NULL;
	}
	for (i = 1; i < threads; i++) {
		if (pthread_create(&pool->tids[i], NULL, bnc_worker, pool)) {
			pool->threads = i; /* stop only those started */
			bnc_pool_free(pool);
			return NULL;
		}
	}
	return pool;
}

int bnc_pool_threads(const struct bnc_pool *pool)
{
	return pool->threads;
}

void bnc_pool_run_n(struct bnc_pool *pool, bnc_pool_fn fn, void *arg, int count)
{
	int i;

	if (count <= 0)
		return;
	if (pool->threads == 1 || count == 1 || count > BNC_MAX_TASKS) {
		for (i = 0; i < count; i++)
			fn(arg, i, count);
		return;
	}
	atomic_fetch_add(&pool->inflight, 1);
	bnc_publish(pool, fn, arg, count);
	bnc_run_tasks(pool);
	atomic_fetch_sub(&pool->inflight, 1);
	bnc_wait_idle(pool);
}

void bnc_pool_run(struct bnc_pool *pool, bnc_pool_fn fn, void *arg)
{
	bnc_pool_run_n(pool, fn, arg, pool->threads);
}

static void bnc_nop(void *arg, int index, int count)
{
	(void)arg;
	(void)index;
	(void)count;
}

void bnc_pool_free(struct bnc_pool *pool)
{
	int i;

	if (!pool)
		return;
	if (pool->threads > 1) {
		atomic_store(&pool->stop, 1);
		bnc_publish(pool, bnc_nop, NULL, 0);
		for (i = 1; i < pool->threads; i++)
			pthread_join(pool->tids[i], NULL);
	}
	free(pool->tids);
	free(pool);
}

/* ---- matmuls split into row tiles ---- */

struct bnc_pool_mm {
	enum bnc_isa isa;
	const struct bnc_matrix *const *w;
	u32 n_w;
	const struct bnc_act *x;
	s32 *const *out_i32;
	float *const *out_f32;
	size_t out_stride; /* 0: each weight's rows */
	u32 tok0;	   /* x's first token is the outputs' token tok0 */
	u64 lut_gen;	   /* LUT3: these tables' number (0: none needed) */
	u64 blocks;	   /* row blocks of all weights together */
	atomic_int ret;
};

/* A thread's LUT3 tables: the last ones it built, kept for its next tiles. */
struct bnc_lut3_tls {
	s16 *lut;
	size_t bytes;
	u64 gen;
};

static pthread_once_t bnc_lut3_once = PTHREAD_ONCE_INIT;
static pthread_key_t bnc_lut3_key;
static atomic_ullong bnc_lut3_next_gen;

static void bnc_lut3_tls_free(void *p)
{
	struct bnc_lut3_tls *t = p;

	free(t->lut);
	free(t);
}

static void bnc_lut3_key_init(void)
{
	if (pthread_key_create(&bnc_lut3_key, bnc_lut3_tls_free))
		abort();
}

/*
 * The tables of mm->x, built by the calling thread on its first tile of
 * this group: every thread builds all of them (~2 ns a table), so tiles
 * read tables from their own core's caches; tables one thread wrote and
 * another read (built split over the threads) made the 2-thread batches
 * 1.5x R16's time, where one thread tied.
 */
static const s16 *bnc_lut3_tables(const struct bnc_pool_mm *mm, int *ret)
{
	struct bnc_lut3_tls *t;
	size_t need = bnc_lut3_table_bytes(mm->x->n, mm->x->k);

	pthread_once(&bnc_lut3_once, bnc_lut3_key_init);
	t = pthread_getspecific(bnc_lut3_key);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || pthread_setspecific(bnc_lut3_key, t)) {
			free(t);
			*ret = -ENOMEM;
			return NULL;
		}
	}
	if (t->gen == mm->lut_gen)
		return t->lut;
	if (need > t->bytes) {
		free(t->lut);
		t->bytes = 0;
		t->lut = aligned_alloc(BNC_BUF_ALIGN, need);
		if (!t->lut) {
			*ret = -ENOMEM;
			return NULL;
		}
		t->bytes = need;
	}
	t->gen = 0;
	*ret = bnc_lut3_build(mm->isa, mm->x, 0, bnc_lut3_triples(mm->x->k), t->lut);
	if (*ret)
		return NULL;
	t->gen = mm->lut_gen;
	return t->lut;
}

/*
 * Task @index of @count takes an equal share of the weights' row blocks, in
 * order. Several tasks per thread let a thread that runs late (or not at
 * all) cost only its share, and keep the wait at the end of a job (the
 * other thread finishing its last task) short: a decode step makes ~150
 * matmul dispatches, and 16 tasks per thread measured ~2% faster than 4.
 */
static void bnc_pool_mm_tile(void *p, int index, int count)
{
	struct bnc_pool_mm *mm = p;
	u64 b0 = mm->blocks * index / count, b1 = mm->blocks * (index + 1) / count;
	struct bnc_act xl = *mm->x;
	const struct bnc_act *x = mm->x;
	u64 first = 0;
	int ret = 0, zero = 0;
	u32 i;

	if (mm->lut_gen) {
		xl.lut = bnc_lut3_tables(mm, &ret);
		x = &xl;
	}

	for (i = 0; i < mm->n_w && !ret && first < b1; i++) {
		const struct bnc_matrix *w = mm->w[i];
		u64 nb = bnc_row_blocks(w->rows), lo, hi;
		size_t stride = mm->out_stride ? mm->out_stride : w->rows;
		u32 row_begin, row_end;

		lo = b0 > first ? b0 - first : 0;
		hi = b1 - first < nb ? b1 - first : nb;
		first += nb;
		if (lo >= hi)
			continue;
		/* LUT3 blocks are two of these: tiles split none */
		if (w->layout == BNC_LAYOUT_LUT3) {
			lo &= ~1ull;
			hi = hi == nb ? hi : hi & ~1ull;
			if (lo >= hi)
				continue;
		}
		row_begin = lo * BNC_BLOCK_ROWS;
		row_end = hi * BNC_BLOCK_ROWS < w->rows ? hi * BNC_BLOCK_ROWS : w->rows;
		if (mm->out_f32)
			ret = bnc_matmul_f32(mm->isa, w, x, row_begin, row_end, 0, x->n,
					     mm->out_f32[i] + mm->tok0 * stride, stride);
		else
			ret = bnc_matmul_i32(mm->isa, w, x, row_begin, row_end, 0, x->n,
					     mm->out_i32[i] + mm->tok0 * stride, stride);
	}
	if (ret)
		atomic_compare_exchange_strong(&mm->ret, &zero, ret);
}

static int bnc_pool_mm_run(struct bnc_pool *pool, struct bnc_pool_mm *mm, u32 per_thread)
{
	u64 tasks = (u64)bnc_pool_threads(pool) * per_thread;

	atomic_init(&mm->ret, 0);
	bnc_pool_run_n(pool, bnc_pool_mm_tile, mm, mm->blocks < tasks ? mm->blocks : tasks);
	return atomic_load(&mm->ret);
}

/*
 * LUT3 matmuls, a group of tokens at a time: each thread builds the group's
 * tables on its first tile (bnc_lut3_tables()), then the row tiles.
 */
static int bnc_pool_mm_lut3(struct bnc_pool *pool, struct bnc_pool_mm *mm)
{
	const struct bnc_act *x = mm->x;
	struct bnc_act xg = *x;
	u32 n0, cnt;
	int ret;

	if (!x->n || !bnc_lut3_table_bytes(x->n < BNC_LUT3_GROUP ? x->n : BNC_LUT3_GROUP, x->k))
		return -EINVAL;
	for (n0 = 0; n0 < x->n; n0 += cnt) {
		cnt = x->n - n0 < BNC_LUT3_GROUP ? x->n - n0 : BNC_LUT3_GROUP;
		xg.n = cnt;
		xg.q = x->q + (size_t)n0 * x->k;
		xg.sum = x->sum ? x->sum + n0 : NULL;
		xg.sigma = x->sigma ? x->sigma + n0 : NULL;
		mm->x = &xg;
		mm->tok0 = n0;
		mm->lut_gen = atomic_fetch_add(&bnc_lut3_next_gen, 1) + 1;
		ret = bnc_pool_mm_run(pool, mm,
				      cnt >= BNC_LUT3_BATCH_TOKENS ?
					      BNC_LUT3_BATCH_TASKS_PER_THREAD :
					      BNC_LUT3_TASKS_PER_THREAD);
		mm->x = x;
		mm->lut_gen = 0;
		if (ret)
			return ret;
	}
	return 0;
}

static int bnc_pool_mm(struct bnc_pool *pool, struct bnc_pool_mm *mm)
{
	int lut3 = 0;
	u32 i;

	if (!pool || !mm->w || !mm->x || !mm->n_w)
		return -EINVAL;
	mm->blocks = 0;
	for (i = 0; i < mm->n_w; i++) {
		if (!mm->w[i] || (mm->out_f32 ? !mm->out_f32[i] : !mm->out_i32[i]))
			return -EINVAL;
		mm->blocks += bnc_row_blocks(mm->w[i]->rows);
		lut3 |= bnc_lut3_uses_tables(mm->isa, mm->w[i]);
	}
	if (lut3 && !mm->x->lut && mm->x->q)
		return bnc_pool_mm_lut3(pool, mm);
	return bnc_pool_mm_run(pool, mm, BNC_TASKS_PER_THREAD);
}

int bnc_pool_matmul_multi_i32(struct bnc_pool *pool, enum bnc_isa isa,
			      const struct bnc_matrix *const *w, u32 n_w, const struct bnc_act *x,
			      s32 *const *out)
{
	struct bnc_pool_mm mm = { .isa = isa, .w = w, .n_w = n_w, .x = x, .out_i32 = out };

	if (!out)
		return -EINVAL;
	return bnc_pool_mm(pool, &mm);
}

int bnc_pool_matmul_multi_f32(struct bnc_pool *pool, enum bnc_isa isa,
			      const struct bnc_matrix *const *w, u32 n_w, const struct bnc_act *x,
			      float *const *out)
{
	struct bnc_pool_mm mm = { .isa = isa, .w = w, .n_w = n_w, .x = x, .out_f32 = out };

	if (!out)
		return -EINVAL;
	return bnc_pool_mm(pool, &mm);
}

int bnc_pool_matmul_i32(struct bnc_pool *pool, enum bnc_isa isa, const struct bnc_matrix *w,
			const struct bnc_act *x, s32 *out, size_t out_stride)
{
	struct bnc_pool_mm mm = {
		.isa = isa, .w = &w, .n_w = 1, .x = x, .out_i32 = &out, .out_stride = out_stride
	};

	if (!out || !out_stride)
		return -EINVAL;
	return bnc_pool_mm(pool, &mm);
}

int bnc_pool_matmul_f32(struct bnc_pool *pool, enum bnc_isa isa, const struct bnc_matrix *w,
			const struct bnc_act *x, float *out, size_t out_stride)
{
	struct bnc_pool_mm mm = {
		.isa = isa, .w = &w, .n_w = 1, .x = x, .out_f32 = &out, .out_stride = out_stride
	};

	if (!out || !out_stride)
		return -EINVAL;
	return bnc_pool_mm(pool, &mm);
}
