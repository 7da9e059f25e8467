// SPDX-License-Identifier: GPL-2.0
/*
 * Jobs: a struct bitnet_job from either submission path, validated in
 * kernel memory, turned into a struct bitnet_kjob that the workers can run
 * without the submitter's mm: activations are copied in (or live in an
 * arena), outputs are pinned user pages mapped into the kernel (or arena
 * memory), weights are referenced.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/uaccess.h>
#include <linux/overflow.h>
#include "bitnet_priv.h"

/* Largest result of one weight in one job: bounds what a job pins. */
#define BITNET_MAX_OUT_BYTES	(1ULL << 30)

/* Where the job's addresses point: user memory, or one arena. */
struct bitnet_job_mem {
	struct bitnet_arena *arena;
};

/*
 * Kernel address of [addr, addr + len) in @arena, or NULL if it does not
 * fit or is misaligned.
 */
static void *bitnet_arena_ptr(struct bitnet_arena *arena, u64 addr, u64 len,
			      unsigned int align)
{
	if (addr > arena->size || len > arena->size - addr || addr % align)
		return NULL;
	return (u8 *)arena->buf.vaddr + addr;
}

/* Pin @len writable user bytes at @addr and map them into the kernel. */
static int bitnet_out_pin(struct bitnet_kjob_out *o, u64 addr, u64 len)
{
	unsigned long first = addr & PAGE_MASK;
	unsigned int nr;
	int got;

	if (addr % sizeof(s32) || !access_ok(u64_to_user_ptr(addr), len))
		return addr % sizeof(s32) ? -EINVAL : -EFAULT;
	nr = DIV_ROUND_UP(offset_in_page(addr) + len, PAGE_SIZE);
	o->pages = kvmalloc_array(nr, sizeof(*o->pages), GFP_KERNEL_ACCOUNT);
	if (!o->pages)
		return -ENOMEM;
	got = pin_user_pages_fast(first, nr, FOLL_WRITE, o->pages);
	if (got != nr) {
		if (got > 0)
			unpin_user_pages(o->pages, got);
		kvfree(o->pages);
		o->pages = NULL;
		return got < 0 && got != -EFAULT ? got : -EFAULT;
	}
	o->nr_pages = nr;
	/* A small output in one lowmem page needs no vmap (nor its TLB flush). */
	if (nr == 1 && !PageHighMem(o->pages[0])) {
		o->out = (u8 *)page_address(o->pages[0]) + offset_in_page(addr);
		return 0;
	}
	o->vmap = vmap(o->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!o->vmap)
		return -ENOMEM;	/* pages released by bitnet_kjob_release() */
	o->out = (u8 *)o->vmap + offset_in_page(addr);
	return 0;
}

static int bitnet_out_setup(struct bitnet_kjob *job, struct bitnet_job_mem *mem,
			    struct bitnet_kjob_out *o, u64 addr)
{
	u64 len = (u64)job->act.n * o->obj->rows * sizeof(s32);

	if (!addr)
		return -EINVAL;
	if (len > BITNET_MAX_OUT_BYTES)
		return -E2BIG;
	if (mem->arena) {
		o->out = bitnet_arena_ptr(mem->arena, addr, len, sizeof(s32));
		return o->out ? 0 : -EINVAL;
	}
	return bitnet_out_pin(o, addr, len);
}

/* Activations, their scales and sums: into kernel memory or the arena. */
static int bitnet_act_setup(struct bitnet_kjob *job, struct bitnet_job_mem *mem,
			    const struct bitnet_job *j, u32 k)
{
	u64 n = j->n_tokens, qlen = n * k, vlen = n * sizeof(s32);
	bool want_scale = j->out_type == BITNET_OUT_F32;
	u8 *buf;

	job->act.n = n;
	job->act.k = k;
	if (!j->act || (want_scale && !j->act_scale))
		return -EINVAL;
	if (mem->arena) {
		job->act.q = bitnet_arena_ptr(mem->arena, j->act, qlen, 1);
		if (want_scale)
			job->act.sigma = bitnet_arena_ptr(mem->arena, j->act_scale, vlen, 4);
		if (j->act_sum)
			job->act.sum = bitnet_arena_ptr(mem->arena, j->act_sum, vlen, 4);
		if (!job->act.q || (want_scale && !job->act.sigma) ||
		    (j->act_sum && !job->act.sum))
			return -EINVAL;
		return 0;
	}
	/* q first (any length), then sigma and sum, 4-byte aligned. */
	qlen = round_up(qlen, sizeof(s32));
	buf = kvmalloc(qlen + 2 * vlen, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	job->act_buf = buf;
	if (copy_from_user(buf, u64_to_user_ptr(j->act), n * k))
		return -EFAULT;
	job->act.q = (s8 *)buf;
	if (want_scale) {
		if (copy_from_user(buf + qlen, u64_to_user_ptr(j->act_scale), vlen))
			return -EFAULT;
		job->act.sigma = (float *)(buf + qlen);
	}
	if (j->act_sum) {
		if (copy_from_user(buf + qlen + vlen, u64_to_user_ptr(j->act_sum), vlen))
			return -EFAULT;
		job->act.sum = (s32 *)(buf + qlen + vlen);
	}
	return 0;
}

/* The weight list of a job, in kernel memory. */
static int bitnet_weights_read(const struct bitnet_job *j, struct bitnet_job_mem *mem,
			       struct bitnet_job_weight *w, u32 n)
{
	size_t len = sizeof(*w) * n;
	const void *src;
	u32 i;

	if (j->op == BITNET_OP_MATMUL) {
		w->handle = j->handle;
		w->pad = 0;
		w->out = j->out;
		return 0;
	}
	if (mem->arena) {
		src = bitnet_arena_ptr(mem->arena, j->weights, len, 8);
		if (!src)
			return -EINVAL;
		memcpy(w, src, len);
	} else if (copy_from_user(w, u64_to_user_ptr(j->weights), len)) {
		return -EFAULT;
	}
	for (i = 0; i < n; i++)
		if (w[i].pad)
			return -EINVAL;
	return 0;
}

/* Check what can be checked before anything is allocated. */
static int bitnet_job_check(const struct bitnet_job *j, u32 *nr_outs)
{
	if ((j->flags & ~BITNET_JOB_FLAGS_ALL) || j->pad || j->reserved)
		return -EINVAL;
	if (!(j->flags & BITNET_JOB_ARENA) && j->arena)
		return -EINVAL;
	switch (j->op) {
	case BITNET_OP_NOP:
		*nr_outs = 0;
		return 0;
	case BITNET_OP_MATMUL:
		if (j->n_weights || j->weights)
			return -EINVAL;
		*nr_outs = 1;
		break;
	case BITNET_OP_MATMUL_MULTI:
		if (j->handle || j->out || !j->n_weights)
			return -EINVAL;
		if (j->n_weights > READ_ONCE(bitnet_limits.max_multi))
			return -E2BIG;
		*nr_outs = j->n_weights;
		break;
	default:
		return -EINVAL;
	}
	if (j->out_type > BITNET_OUT_F32 || !j->n_tokens)
		return -EINVAL;
	if (j->n_tokens > READ_ONCE(bitnet_limits.max_tokens))
		return -E2BIG;
	return 0;
}

/*
 * Split the job into tiles of about tile_ops multiply-adds: row ranges
 * aligned for the core, times token ranges; at least one tile per worker
 * when the job is big enough to share.
 */
static int bitnet_job_tile(struct bitnet_kjob *job)
{
	u64 budget = max(READ_ONCE(bitnet_limits.tile_ops), 1U);
	u32 align = bnc_row_tile_align(), k = job->act.k, n = job->act.n;
	u32 max_rows = 0, i, toks, rows;
	u64 tiles = 0;

	for (i = 0; i < job->nr_outs; i++)
		max_rows = max(max_rows, job->outs[i].obj->rows);
	toks = clamp_t(u64, div64_u64(budget, (u64)align * k), 1, n);
	rows = round_down(min_t(u64, div64_u64(budget, (u64)k * toks), U32_MAX), align);
	rows = max(rows, align);
	/* Spread a single big matrix over every worker. */
	rows = min(rows, round_up(DIV_ROUND_UP(max_rows, bitnet_exec_workers()), align));
	job->rows_per_tile = rows;
	job->toks_per_tile = toks;
	job->tok_tiles = DIV_ROUND_UP(n, toks);
	for (i = 0; i < job->nr_outs; i++) {
		struct bitnet_kjob_out *o = &job->outs[i];

		o->row_tiles = DIV_ROUND_UP(o->obj->rows, rows);
		o->tile_base = tiles;
		tiles += (u64)o->row_tiles * job->tok_tiles;
		if (tiles > U32_MAX)
			return -E2BIG;
		job->ops += (u64)o->obj->rows * k * n;
	}
	job->nr_tiles = tiles;
	job->nr_works = min(bitnet_exec_workers(), job->nr_tiles);
	if (job->nr_works) {
		job->works = kcalloc(job->nr_works, sizeof(*job->works), GFP_KERNEL_ACCOUNT);
		if (!job->works)
			return -ENOMEM;
	}
	return 0;
}

static int bitnet_job_setup(struct bitnet_ctx *ctx, struct bitnet_kjob *job,
			    const struct bitnet_job *j)
{
	struct bitnet_job_weight *w = NULL, one;
	struct bitnet_job_mem mem = { };
	u32 i, k = 0;
	int ret;

	if (j->flags & BITNET_JOB_ARENA) {
		mem.arena = bitnet_arena_get(ctx, j->arena);
		if (!mem.arena)
			return -ENOENT;
		job->arena = mem.arena;
	}
	if (j->op == BITNET_OP_NOP)
		return 0;
	w = job->nr_outs > 1 ? kcalloc(job->nr_outs, sizeof(*w), GFP_KERNEL) : &one;
	if (!w)
		return -ENOMEM;
	ret = bitnet_weights_read(j, &mem, w, job->nr_outs);
	for (i = 0; !ret && i < job->nr_outs; i++) {
		ret = bitnet_obj_get_sealed(ctx, w[i].handle, &job->outs[i].obj);
		if (ret)
			break;
		/* All weights of a job share its activations: one K. */
		if (!k)
			k = job->outs[i].obj->cols;
		else if (job->outs[i].obj->cols != k)
			ret = -EINVAL;
	}
	if (!ret)
		ret = bitnet_act_setup(job, &mem, j, k);
	for (i = 0; !ret && i < job->nr_outs; i++)
		ret = bitnet_out_setup(job, &mem, &job->outs[i], w[i].out);
	if (!ret)
		ret = bitnet_job_tile(job);
	if (w != &one)
		kfree(w);
	return ret;
}

int bitnet_kjob_prepare(struct bitnet_ctx *ctx, const struct bitnet_job *j,
			struct bitnet_kjob **out)
{
	struct bitnet_kjob *job;
	u32 nr_outs;
	int ret;

	ret = bitnet_job_check(j, &nr_outs);
	if (ret)
		goto bad;
	job = kvzalloc(struct_size(job, outs, nr_outs), GFP_KERNEL_ACCOUNT);
	if (!job)
		return -ENOMEM;
	INIT_LIST_HEAD(&job->node.link);
	job->op = j->op;
	job->out_type = j->out_type;
	job->nr_outs = nr_outs;
	ret = bitnet_job_setup(ctx, job, j);
	if (ret) {
		bitnet_kjob_release(job);
		kvfree(job);
		goto bad;
	}
	bitnet_ctx_get(ctx);
	job->ctx = ctx;
	*out = job;
	return 0;
bad:
	atomic64_inc(&bitnet_stats.bad_input);
	bitnet_warn_user("job op %u: %d\n", j->op, ret);
	return ret;
}

void bitnet_kjob_release(struct bitnet_kjob *job)
{
	u32 i;

	for (i = 0; i < job->nr_outs; i++) {
		struct bitnet_kjob_out *o = &job->outs[i];

		if (o->vmap)
			vunmap(o->vmap);
		if (o->pages && o->nr_pages)
			unpin_user_pages_dirty_lock(o->pages, o->nr_pages, true);
		kvfree(o->pages);
		if (o->obj)
			bitnet_obj_put(o->obj);
		memset(o, 0, sizeof(*o));
	}
	if (job->arena)
		bitnet_arena_put(job->arena);
	job->arena = NULL;
	kvfree(job->act_buf);
	job->act_buf = NULL;
	kfree(job->works);
	job->works = NULL;
}

void bitnet_kjob_free(struct bitnet_kjob *job)
{
	struct bitnet_ctx *ctx = job->ctx;

	kvfree(job);
	if (ctx)
		bitnet_ctx_put(ctx);
}
