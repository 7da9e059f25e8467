// SPDX-License-Identifier: GPL-2.0
/*
 * Running jobs: a job's tiles are taken, one at a time, by up to one work
 * item per online CPU on an unbound workqueue. Each tile is one bounded
 * FPU section; workers reschedule between tiles, so even a 7B-size matmul
 * never holds a CPU long enough for soft lockup or RCU stall reports.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched.h>
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include "bitnet_priv.h"
#include "fpu.h"

static int isa_param = -1;
module_param_named(isa, isa_param, int, 0444);
MODULE_PARM_DESC(isa, "Compute core path: -1 best supported, 0 scalar, 1 AVX2, 2 AVX-512 VNNI");

static unsigned int workers_param;
module_param_named(workers, workers_param, uint, 0444);
MODULE_PARM_DESC(workers, "Work items per job (0: online CPUs)");

static struct workqueue_struct *bitnet_wq;
static enum bnc_isa bitnet_isa;
static unsigned int bitnet_workers;

unsigned int bitnet_exec_workers(void)
{
	return bitnet_workers;
}

enum bnc_isa bitnet_exec_isa(void)
{
	return bitnet_isa;
}

static void bitnet_job_fail(struct bitnet_kjob *job, int err)
{
	cmpxchg(&job->res, 0, err);
}

static int bitnet_run_tile(struct bitnet_kjob *job, u32 t)
{
	struct bitnet_kjob_out *o = job->outs;
	u32 local, rb, re, tb, te, rows;
	int ret;

	while (t >= o->tile_base + o->row_tiles * job->tok_tiles)
		o++;
	local = t - o->tile_base;
	rows = o->obj->rows;
	rb = (local / job->tok_tiles) * job->rows_per_tile;
	re = min(rb + job->rows_per_tile, rows);
	tb = (local % job->tok_tiles) * job->toks_per_tile;
	te = min(tb + job->toks_per_tile, job->act.n);

	bitnet_fpu_begin();
	if (job->out_type == BITNET_OUT_F32)
		ret = bnc_matmul_f32(bitnet_isa, &o->obj->mat, &job->act, rb, re, tb, te,
				     o->out, rows);
	else
		ret = bnc_matmul_i32(bitnet_isa, &o->obj->mat, &job->act, rb, re, tb, te,
				     o->out, rows);
	bitnet_fpu_end();
	return ret;
}

/* The last worker of a job: results are in place, hand it back. */
static void bitnet_job_finish(struct bitnet_kjob *job)
{
	struct bitnet_ctx *ctx = job->ctx;
	u64 bytes = 0;
	u32 i;

	if (!job->res) {
		for (i = 0; i < job->nr_outs; i++)
			bytes += job->outs[i].obj->exec_bytes;
		atomic64_add(job->ops, &bitnet_stats.ops);
		atomic64_add(bytes, &bitnet_stats.bytes_read);
	} else {
		atomic64_inc(&bitnet_stats.job_errors);
	}
	atomic64_inc(&bitnet_stats.jobs);
	bitnet_kjob_release(job);
	atomic_dec(&ctx->inflight);
	job->complete(job);
}

static void bitnet_exec_work_fn(struct work_struct *work)
{
	struct bitnet_exec_work *ew = container_of(work, struct bitnet_exec_work, work);
	struct bitnet_kjob *job = ew->job;
	u64 start = ktime_get_ns();
	u32 t;
	int ret;

	for (;;) {
		t = atomic_fetch_inc(&job->next_tile);
		if (t >= job->nr_tiles)
			break;
		if (READ_ONCE(job->ctx->closed)) {
			/* Nobody can see the results any more. */
			bitnet_job_fail(job, -ECANCELED);
			break;
		}
		ret = bitnet_run_tile(job, t);
		if (ret) {
			bitnet_job_fail(job, ret);
			break;
		}
		cond_resched();
	}
	bitnet_stats_busy(ktime_get_ns() - start);
	if (atomic_dec_and_test(&job->workers_left))
		bitnet_job_finish(job);
}

void bitnet_exec_start(struct bitnet_kjob *job)
{
	u32 i, n = job->nr_works;

	atomic_inc(&job->ctx->inflight);
	if (!n) {
		bitnet_job_finish(job);
		return;
	}
	atomic_set(&job->next_tile, 0);
	atomic_set(&job->workers_left, n);
	for (i = 0; i < n; i++) {
		job->works[i].job = job;
		INIT_WORK(&job->works[i].work, bitnet_exec_work_fn);
	}
	/*
	 * One tile is one bounded FPU section: run it here rather than pay
	 * for a worker wakeup, which would dominate a small job's latency.
	 */
	if (job->nr_tiles == 1) {
		bitnet_exec_work_fn(&job->works[0].work);
		return;
	}
	/* After the last queue_work() the job may already be gone. */
	for (i = 0; i < n; i++)
		queue_work(bitnet_wq, &job->works[i].work);
}

int bitnet_exec_init(void)
{
	u32 supported = bnc_isa_supported();

	if (isa_param >= BNC_ISA_COUNT ||
	    (isa_param >= 0 && !(supported & (1U << isa_param)))) {
		pr_err("isa=%d is not supported by this CPU (mask %#x)\n", isa_param, supported);
		return -EINVAL;
	}
	bitnet_isa = isa_param < 0 ? bnc_isa_best() : isa_param;
	bitnet_workers = workers_param ? workers_param : num_online_cpus();
	bitnet_workers = clamp(bitnet_workers, 1U, 256U);
	bitnet_wq = alloc_workqueue("bitnet", WQ_UNBOUND | WQ_SYSFS, 0);
	return bitnet_wq ? 0 : -ENOMEM;
}

void bitnet_exec_exit(void)
{
	destroy_workqueue(bitnet_wq);
}
