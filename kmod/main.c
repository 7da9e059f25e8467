// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet.ko: /dev/bitnet, ternary x int8 matrix multiplication offload.
 *
 * This file holds the device, the per-open context, module parameters and
 * the ioctl dispatch. The ABI is include/uapi/linux/bitnet.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/poll.h>
#include <linux/mm.h>
#include "bitnet_priv.h"

struct bitnet_limits bitnet_limits = {
	.max_object_bytes	= 1UL << 30,
	.max_file_bytes		= 4UL << 30,
	.max_global_bytes	= 8UL << 30,
	.max_rows		= 1U << 20,
	.max_cols		= 1U << 16,
	.max_tokens		= 4096,
	.max_multi		= 8,
	.max_sq_entries		= 4096,
	.max_cq_entries		= 8192,
	.max_arena_bytes	= 256U << 20,
	.tile_ops		= 1U << 21,
};

module_param_named(max_object_bytes, bitnet_limits.max_object_bytes, ulong, 0644);
MODULE_PARM_DESC(max_object_bytes, "Largest packed weight object, bytes (E2BIG beyond)");
module_param_named(max_file_bytes, bitnet_limits.max_file_bytes, ulong, 0644);
MODULE_PARM_DESC(max_file_bytes, "Object memory one open file may create, bytes (ENOMEM beyond)");
module_param_named(max_global_bytes, bitnet_limits.max_global_bytes, ulong, 0644);
MODULE_PARM_DESC(max_global_bytes, "Object memory of the whole module, bytes (ENOMEM beyond)");
module_param_named(max_rows, bitnet_limits.max_rows, uint, 0644);
MODULE_PARM_DESC(max_rows, "Largest M of a weight object");
module_param_named(max_cols, bitnet_limits.max_cols, uint, 0644);
MODULE_PARM_DESC(max_cols, "Largest K of a weight object (a multiple of 128)");
module_param_named(max_tokens, bitnet_limits.max_tokens, uint, 0644);
MODULE_PARM_DESC(max_tokens, "Largest N (tokens) of one job");
module_param_named(max_multi, bitnet_limits.max_multi, uint, 0644);
MODULE_PARM_DESC(max_multi, "Most weights in one BITNET_OP_MATMUL_MULTI job");
module_param_named(max_sq_entries, bitnet_limits.max_sq_entries, uint, 0644);
MODULE_PARM_DESC(max_sq_entries, "Largest submission ring");
module_param_named(max_cq_entries, bitnet_limits.max_cq_entries, uint, 0644);
MODULE_PARM_DESC(max_cq_entries, "Largest completion ring");
module_param_named(max_arena_bytes, bitnet_limits.max_arena_bytes, uint, 0644);
MODULE_PARM_DESC(max_arena_bytes, "Largest activation arena, bytes");
module_param_named(tile_ops, bitnet_limits.tile_ops, uint, 0644);
MODULE_PARM_DESC(tile_ops, "Multiply-adds per tile: one FPU section, then a resched point");

static atomic64_t bitnet_pinned_global = ATOMIC64_INIT(0);

int bitnet_pin_reserve(u64 bytes)
{
	u64 now = atomic64_add_return(bytes, &bitnet_pinned_global);

	if (now > READ_ONCE(bitnet_limits.max_global_bytes)) {
		atomic64_sub(bytes, &bitnet_pinned_global);
		return -ENOMEM;
	}
	atomic64_add(bytes, &bitnet_stats.pinned_bytes);
	return 0;
}

void bitnet_pin_release(u64 bytes)
{
	atomic64_sub(bytes, &bitnet_pinned_global);
	atomic64_sub(bytes, &bitnet_stats.pinned_bytes);
}

static void bitnet_ctx_free(struct kref *ref)
{
	struct bitnet_ctx *ctx = container_of(ref, struct bitnet_ctx, ref);

	if (ctx->ring)
		bitnet_ring_free(ctx->ring);
	xa_destroy(&ctx->handles);
	xa_destroy(&ctx->arenas);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
	atomic64_dec(&bitnet_stats.live_contexts);
}

void bitnet_ctx_put(struct bitnet_ctx *ctx)
{
	kref_put(&ctx->ref, bitnet_ctx_free);
}

static int bitnet_open(struct inode *inode, struct file *file)
{
	struct bitnet_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->handles, XA_FLAGS_ALLOC1);
	xa_init_flags(&ctx->arenas, XA_FLAGS_ALLOC1);
	file->private_data = ctx;
	atomic64_inc(&bitnet_stats.live_contexts);
	return stream_open(inode, file);
}

/*
 * The last reference to the file is gone. Jobs still in flight keep the
 * context (and its ring) alive until they complete; their remaining tiles
 * are skipped.
 */
static int bitnet_release(struct inode *inode, struct file *file)
{
	struct bitnet_ctx *ctx = file->private_data;

	WRITE_ONCE(ctx->closed, true);
	bitnet_ctx_drop_handles(ctx);
	bitnet_ctx_drop_arenas(ctx);
	bitnet_ctx_put(ctx);
	return 0;
}

static long bitnet_ioc_get_info(void __user *arg)
{
	struct bitnet_info info;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.flags) {
		bitnet_warn_user("GET_INFO: flags %#x\n", info.flags);
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	info.abi_version = BITNET_ABI_VERSION;
	info.features = BITNET_FEAT_RING | BITNET_FEAT_ARENA | BITNET_FEAT_EXPORT |
			BITNET_FEAT_OUT_F32 | BITNET_FEAT_MULTI;
	if (bitnet_uring_supported())
		info.features |= BITNET_FEAT_URING_CMD;
	info.max_object_bytes = READ_ONCE(bitnet_limits.max_object_bytes);
	info.max_file_bytes = READ_ONCE(bitnet_limits.max_file_bytes);
	info.max_global_bytes = READ_ONCE(bitnet_limits.max_global_bytes);
	info.pinned_bytes = atomic64_read(&bitnet_pinned_global);
	info.max_rows = READ_ONCE(bitnet_limits.max_rows);
	info.max_cols = round_down(READ_ONCE(bitnet_limits.max_cols), BNC_K_ALIGN);
	info.max_tokens = READ_ONCE(bitnet_limits.max_tokens);
	info.max_multi = READ_ONCE(bitnet_limits.max_multi);
	info.max_sq_entries = rounddown_pow_of_two(READ_ONCE(bitnet_limits.max_sq_entries) | 1);
	info.max_cq_entries = rounddown_pow_of_two(READ_ONCE(bitnet_limits.max_cq_entries) | 1);
	info.max_arena_bytes = round_down(READ_ONCE(bitnet_limits.max_arena_bytes), PAGE_SIZE);
	info.nr_workers = bitnet_exec_workers();
	info.isa = bitnet_exec_isa();
	if (copy_to_user(arg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long bitnet_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct bitnet_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case BITNET_IOC_GET_INFO:
		return bitnet_ioc_get_info(uarg);
	case BITNET_IOC_OBJ_CREATE:
		return bitnet_ioc_obj_create(ctx, uarg);
	case BITNET_IOC_OBJ_FILL:
		return bitnet_ioc_obj_fill(ctx, uarg);
	case BITNET_IOC_OBJ_SEAL:
		return bitnet_ioc_obj_seal(ctx, uarg);
	case BITNET_IOC_OBJ_DESTROY:
		return bitnet_ioc_obj_destroy(ctx, uarg);
	case BITNET_IOC_OBJ_INFO:
		return bitnet_ioc_obj_info(ctx, uarg);
	case BITNET_IOC_OBJ_EXPORT:
		return bitnet_ioc_obj_export(ctx, uarg);
	case BITNET_IOC_OBJ_IMPORT:
		return bitnet_ioc_obj_import(ctx, uarg);
	case BITNET_IOC_ARENA_CREATE:
		return bitnet_ioc_arena_create(ctx, uarg);
	case BITNET_IOC_ARENA_DESTROY:
		return bitnet_ioc_arena_destroy(ctx, uarg);
	case BITNET_IOC_RING_SETUP:
		return bitnet_ioc_ring_setup(ctx, uarg);
	case BITNET_IOC_ENTER:
		return bitnet_ioc_enter(ctx, uarg);
	default:
		return -ENOTTY;
	}
}

static int bitnet_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct bitnet_ctx *ctx = file->private_data;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;

	if (off >= BITNET_OFF_ARENA_BASE)
		return bitnet_arena_mmap(ctx, vma);
	return bitnet_ring_mmap(ctx, vma);
}

static __poll_t bitnet_poll(struct file *file, struct poll_table_struct *wait)
{
	return bitnet_ring_poll(file->private_data, file, wait);
}

static const struct file_operations bitnet_fops = {
	.owner		= THIS_MODULE,
	.open		= bitnet_open,
	.release	= bitnet_release,
	.unlocked_ioctl	= bitnet_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= bitnet_mmap,
	.poll		= bitnet_poll,
#ifdef BITNET_HAVE_URING_CMD
	.uring_cmd	= bitnet_uring_cmd,
#endif
};

static struct miscdevice bitnet_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= BITNET_DEVICE_NAME,
	.fops		= &bitnet_fops,
	.mode		= 0660,
};

static int __init bitnet_init(void)
{
	int ret;

	ret = bitnet_exec_init();
	if (ret)
		return ret;
	ret = bitnet_stats_init();
	if (ret)
		goto err_exec;
	bitnet_misc.groups = bitnet_attr_groups;
	ret = misc_register(&bitnet_misc);
	if (ret)
		goto err_stats;
	pr_info("ready: %u workers, isa %s, io_uring %s\n", bitnet_exec_workers(),
		bnc_isa_name(bitnet_exec_isa()), bitnet_uring_supported() ? "yes" : "no");
	return 0;
err_stats:
	bitnet_stats_exit();
err_exec:
	bitnet_exec_exit();
	return ret;
}

static void __exit bitnet_exit(void)
{
	misc_deregister(&bitnet_misc);
	/* Drains jobs of files closed with work in flight. */
	bitnet_exec_exit();
	bitnet_stats_exit();
}

module_init(bitnet_init);
module_exit(bitnet_exit);

MODULE_DESCRIPTION("Ternary x int8 matrix multiplication offload for BitNet b1.58 models");
MODULE_AUTHOR("The bitnet authors");
MODULE_LICENSE("GPL");
