// SPDX-License-Identifier: GPL-2.0
/*
 * Activation arenas: kernel pages mmapped into the process, so jobs read
 * activations and write results without copies. Each arena has its own
 * mmap offset; only the context that created it can map or name it.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include "bitnet_priv.h"

/* Arena @id is mapped at BITNET_OFF_ARENA_BASE + id * this. */
#define BITNET_ARENA_STRIDE	(1ULL << 32)

static void bitnet_arena_free(struct kref *ref)
{
	struct bitnet_arena *arena = container_of(ref, struct bitnet_arena, ref);

	bitnet_kbuf_free(&arena->buf);
	kfree(arena);
}

void bitnet_arena_put(struct bitnet_arena *arena)
{
	kref_put(&arena->ref, bitnet_arena_free);
}

/* Remove from the context's table (done by the caller) and budget. */
static void bitnet_arena_drop(struct bitnet_ctx *ctx, struct bitnet_arena *arena)
{
	atomic64_sub(arena->size, &ctx->charged);
	bitnet_arena_put(arena);
}

struct bitnet_arena *bitnet_arena_get(struct bitnet_ctx *ctx, u32 id)
{
	struct bitnet_arena *arena;

	xa_lock(&ctx->arenas);
	arena = xa_load(&ctx->arenas, id);
	if (arena)
		kref_get(&arena->ref);
	xa_unlock(&ctx->arenas);
	return arena;
}

void bitnet_ctx_drop_arenas(struct bitnet_ctx *ctx)
{
	struct bitnet_arena *arena;
	unsigned long id;

	xa_for_each(&ctx->arenas, id, arena) {
		xa_erase(&ctx->arenas, id);
		bitnet_arena_drop(ctx, arena);
	}
}

long bitnet_ioc_arena_create(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_arena_create c;
	struct bitnet_arena *arena;
	u64 max = round_down(READ_ONCE(bitnet_limits.max_arena_bytes), PAGE_SIZE);
	int ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (c.flags || !c.size) {
		bitnet_warn_user("ARENA_CREATE: flags %#x size %llu\n", c.flags, c.size);
		return -EINVAL;
	}
	if (c.size > max)
		return -E2BIG;
	arena = kzalloc(sizeof(*arena), GFP_KERNEL_ACCOUNT);
	if (!arena)
		return -ENOMEM;
	kref_init(&arena->ref);
	arena->size = PAGE_ALIGN(c.size);
	/* Arenas count against the file's budget like objects do. */
	if (atomic64_add_return(arena->size, &ctx->charged) >
	    READ_ONCE(bitnet_limits.max_file_bytes)) {
		atomic64_sub(arena->size, &ctx->charged);
		kfree(arena);
		return -ENOMEM;
	}
	ret = bitnet_kbuf_alloc(&arena->buf, arena->size);
	if (ret) {
		atomic64_sub(arena->size, &ctx->charged);
		kfree(arena);
		return ret;
	}
	ret = xa_alloc_cyclic(&ctx->arenas, &arena->id, arena, XA_LIMIT(1, 0xffff),
			      &ctx->next_arena, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		bitnet_arena_drop(ctx, arena);
		return ret == -EBUSY ? -EMFILE : ret;
	}
	c.id = arena->id;
	c.mmap_offset = BITNET_OFF_ARENA_BASE + arena->id * BITNET_ARENA_STRIDE;
	if (copy_to_user(arg, &c, sizeof(c))) {
		if (xa_erase(&ctx->arenas, c.id))
			bitnet_arena_drop(ctx, arena);
		return -EFAULT;
	}
	return 0;
}

long bitnet_ioc_arena_destroy(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_arena_destroy d;
	struct bitnet_arena *arena;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.flags)
		return -EINVAL;
	arena = xa_erase(&ctx->arenas, d.id);
	if (!arena) {
		bitnet_warn_user("ARENA_DESTROY: no arena %u\n", d.id);
		return -ENOENT;
	}
	bitnet_arena_drop(ctx, arena);
	return 0;
}

int bitnet_arena_mmap(struct bitnet_ctx *ctx, struct vm_area_struct *vma)
{
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) - BITNET_OFF_ARENA_BASE;
	struct bitnet_arena *arena;
	int ret;

	if (off % BITNET_ARENA_STRIDE || off / BITNET_ARENA_STRIDE > U32_MAX)
		return -EINVAL;
	arena = bitnet_arena_get(ctx, off / BITNET_ARENA_STRIDE);
	if (!arena)
		return -EINVAL;
	ret = bitnet_kbuf_mmap(&arena->buf, vma);
	bitnet_arena_put(arena);
	return ret;
}
