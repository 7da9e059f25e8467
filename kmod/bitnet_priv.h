/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bitnet.ko internals shared between the module's files.
 *
 * Lifetime rules:
 *  - struct bitnet_ctx is one open file of /dev/bitnet. The file holds one
 *    reference, every job in flight holds one more, so completions of jobs
 *    that outlive close() still find their ring.
 *  - struct bitnet_obj is a weight object. Each handle (in any context),
 *    each exported file and each job using it holds a reference.
 *  - struct bitnet_arena is an activation arena. Its context's table and
 *    each job using it hold a reference; user mappings hold the pages.
 */
#ifndef BITNET_PRIV_H
#define BITNET_PRIV_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/fs.h>
#include <linux/ratelimit.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/bitnet.h>
#include "bitnet_core.h"
#include "bnc_uapi.h"

/* Bad input from userspace: logged, but never enough to flood the log. */
#define bitnet_warn_user(fmt, ...) \
	pr_warn_ratelimited("bitnet: pid %d: " fmt, task_pid_nr(current), ##__VA_ARGS__)

/* ---- limits (module parameters, main.c) ---- */
struct bitnet_limits {
	unsigned long max_object_bytes;
	unsigned long max_file_bytes;
	unsigned long max_global_bytes;
	unsigned int max_rows;
	unsigned int max_cols;
	unsigned int max_tokens;
	unsigned int max_multi;
	unsigned int max_sq_entries;
	unsigned int max_cq_entries;
	unsigned int max_arena_bytes;
	unsigned int tile_ops;
};

extern struct bitnet_limits bitnet_limits;

/* ---- page-backed kernel buffers that can be mmapped (kbuf.c) ---- */
struct bitnet_kbuf {
	struct page **pages;
	unsigned int nr_pages;
	void *vaddr;
};

int bitnet_kbuf_alloc(struct bitnet_kbuf *kb, size_t size);
void bitnet_kbuf_free(struct bitnet_kbuf *kb);
int bitnet_kbuf_mmap(struct bitnet_kbuf *kb, struct vm_area_struct *vma);

/* ---- per open file ---- */
struct bitnet_ring;

struct bitnet_ctx {
	struct kref ref;
	struct mutex lock;		/* ring setup, arena and object tables */
	struct xarray handles;		/* handle -> struct bitnet_handle */
	u32 next_handle;
	struct xarray arenas;		/* id -> struct bitnet_arena */
	u32 next_arena;
	atomic64_t charged;		/* object bytes charged to this file */
	struct bitnet_ring *ring;	/* set once, freed with the context */
	atomic_t inflight;		/* jobs submitted, not yet completed */
	bool closed;			/* file released: cancel pending tiles */
};

void bitnet_ctx_put(struct bitnet_ctx *ctx);

static inline void bitnet_ctx_get(struct bitnet_ctx *ctx)
{
	kref_get(&ctx->ref);
}

/* ---- weight objects (object.c) ---- */
struct bitnet_obj {
	struct kref ref;
	struct mutex lock;		/* fill/seal; immutable once sealed */
	u32 format;
	u32 rows;
	u32 cols;
	u64 bytes;			/* packed size in @format */
	u64 filled;			/* bytes [0, filled) have been written */
	bool sealed;
	void *stage;			/* packed bytes until sealed */
	struct bnc_matrix mat;		/* execution layout, valid once sealed */
	void *exec;			/* backing of mat.data */
	size_t exec_bytes;
	u64 pinned;			/* kernel memory held now */
};

/* A context's reference to an object. */
struct bitnet_handle {
	struct bitnet_obj *obj;
	bool imported;			/* read-only */
	u64 charge;			/* bytes charged to the owning context */
};

void bitnet_obj_put(struct bitnet_obj *obj);
/* A sealed object the context may run jobs on, with a reference taken. */
int bitnet_obj_get_sealed(struct bitnet_ctx *ctx, u32 handle, struct bitnet_obj **out);
void bitnet_ctx_drop_handles(struct bitnet_ctx *ctx);

long bitnet_ioc_obj_create(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_obj_fill(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_obj_seal(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_obj_destroy(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_obj_info(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_obj_export(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_obj_import(struct bitnet_ctx *ctx, void __user *arg);

/* ---- activation arenas (arena.c) ---- */
struct bitnet_arena {
	struct kref ref;
	u32 id;
	u64 size;
	struct bitnet_kbuf buf;
};

void bitnet_arena_put(struct bitnet_arena *arena);
struct bitnet_arena *bitnet_arena_get(struct bitnet_ctx *ctx, u32 id);
int bitnet_arena_mmap(struct bitnet_ctx *ctx, struct vm_area_struct *vma);
void bitnet_ctx_drop_arenas(struct bitnet_ctx *ctx);
long bitnet_ioc_arena_create(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_arena_destroy(struct bitnet_ctx *ctx, void __user *arg);

/* ---- jobs (job.c: validation and setup; exec.c: running) ---- */

/* One completion waiting for CQ space; first member of struct bitnet_kjob. */
struct bitnet_cq_node {
	struct list_head link;
	struct bitnet_cqe cqe;
};

/* One output of a job: a weight and where its N x rows results go. */
struct bitnet_kjob_out {
	struct bitnet_obj *obj;
	void *out;			/* kernel address of the results */
	struct page **pages;		/* pinned user pages, or NULL (arena) */
	unsigned int nr_pages;
	void *vmap;			/* kernel mapping of @pages */
	u32 tile_base;			/* first tile index of this output */
	u32 row_tiles;
};

struct bitnet_kjob;
typedef void (*bitnet_complete_fn)(struct bitnet_kjob *job);

struct bitnet_exec_work {
	struct work_struct work;
	struct bitnet_kjob *job;
};

struct bitnet_kjob {
	struct bitnet_cq_node node;	/* must stay first: see ring.c */
	struct bitnet_ctx *ctx;		/* reference held */
	bitnet_complete_fn complete;
	void *complete_data;		/* e.g. the io_uring_cmd */
	int res;
	u8 op;
	u8 out_type;
	struct bnc_act act;
	void *act_buf;			/* copied activations, or NULL (arena) */
	struct bitnet_arena *arena;	/* reference held, or NULL */
	/* tiling */
	u32 rows_per_tile;
	u32 toks_per_tile;
	u32 tok_tiles;
	u32 nr_tiles;
	atomic_t next_tile;
	atomic_t workers_left;
	u64 ops;			/* MACs of the whole job */
	u32 nr_works;
	struct bitnet_exec_work *works;
	u32 nr_outs;
	struct bitnet_kjob_out outs[];
};

/*
 * Validate @job (already copied into kernel memory), take references,
 * copy activations in and pin outputs. On success the job is ready for
 * bitnet_exec_start(); on error nothing is held.
 */
int bitnet_kjob_prepare(struct bitnet_ctx *ctx, const struct bitnet_job *job,
			struct bitnet_kjob **out);
/* Drop everything prepare took, except the job memory and the ctx ref. */
void bitnet_kjob_release(struct bitnet_kjob *job);
/* Free the job memory and drop its context reference. */
void bitnet_kjob_free(struct bitnet_kjob *job);

/*
 * Run the job's tiles on the workqueue; @complete is called once from
 * a worker after the results are in place and bitnet_kjob_release() ran.
 */
void bitnet_exec_start(struct bitnet_kjob *job);
int bitnet_exec_init(void);
void bitnet_exec_exit(void);
unsigned int bitnet_exec_workers(void);
enum bnc_isa bitnet_exec_isa(void);

/* ---- ring A (ring.c) ---- */
long bitnet_ioc_ring_setup(struct bitnet_ctx *ctx, void __user *arg);
long bitnet_ioc_enter(struct bitnet_ctx *ctx, void __user *arg);
__poll_t bitnet_ring_poll(struct bitnet_ctx *ctx, struct file *file,
			  struct poll_table_struct *wait);
int bitnet_ring_mmap(struct bitnet_ctx *ctx, struct vm_area_struct *vma);
void bitnet_ring_free(struct bitnet_ring *ring);

/* ---- submission B, io_uring (uring.c) ---- */
bool bitnet_uring_supported(void);
struct io_uring_cmd;
int bitnet_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

/* ---- counters (stats.c) ---- */
struct bitnet_stats {
	atomic64_t jobs;
	atomic64_t job_errors;
	atomic64_t ops;
	atomic64_t bytes_read;
	atomic64_t live_objects;
	atomic64_t live_contexts;	/* open files and their lingering jobs */
	atomic64_t pinned_bytes;
	atomic64_t bad_input;
};

extern struct bitnet_stats bitnet_stats;

void bitnet_stats_busy(u64 ns);
int bitnet_stats_init(void);
void bitnet_stats_exit(void);
extern const struct attribute_group *bitnet_attr_groups[];

/* Reserve/release object bytes against the global limit. */
int bitnet_pin_reserve(u64 bytes);
void bitnet_pin_release(u64 bytes);

#endif /* BITNET_PRIV_H */
