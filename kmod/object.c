// SPDX-License-Identifier: GPL-2.0
/*
 * Weight objects: created with a shape and packed size, filled from user
 * memory in chunks, sealed (repacked to the compute core's execution
 * layout, immutable from then on), exported as an anon-inode file and
 * imported read-only by other contexts.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/uaccess.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/sched/signal.h>
#include "bitnet_priv.h"
#include "fpu.h"

/* Bytes copied from user memory between two resched points. */
#define BITNET_FILL_CHUNK	(1U << 20)

static void bitnet_obj_free(struct kref *ref)
{
	struct bitnet_obj *obj = container_of(ref, struct bitnet_obj, ref);

	vfree(obj->stage);
	vfree(obj->exec);
	bitnet_pin_release(obj->pinned);
	atomic64_dec(&bitnet_stats.live_objects);
	mutex_destroy(&obj->lock);
	kfree(obj);
}

void bitnet_obj_put(struct bitnet_obj *obj)
{
	kref_put(&obj->ref, bitnet_obj_free);
}

/* Look up @handle; returns the object with a reference and its mode. */
static int bitnet_obj_lookup(struct bitnet_ctx *ctx, u32 handle, bool for_write,
			     struct bitnet_obj **out)
{
	struct bitnet_handle *h;
	int ret = 0;

	xa_lock(&ctx->handles);
	h = xa_load(&ctx->handles, handle);
	if (!h)
		ret = -ENOENT;
	else if (for_write && h->imported)
		ret = -EPERM;
	else
		kref_get(&h->obj->ref);
	if (!ret)
		*out = h->obj;
	xa_unlock(&ctx->handles);
	if (ret)
		bitnet_warn_user("object handle %u: %d\n", handle, ret);
	return ret;
}

int bitnet_obj_get_sealed(struct bitnet_ctx *ctx, u32 handle, struct bitnet_obj **out)
{
	struct bitnet_obj *obj;
	int ret;

	ret = bitnet_obj_lookup(ctx, handle, false, &obj);
	if (ret)
		return ret;
	/* Pairs with smp_store_release() in seal: the layout is visible. */
	if (!smp_load_acquire(&obj->sealed)) {
		bitnet_obj_put(obj);
		bitnet_warn_user("job on unsealed object %u\n", handle);
		return -EBUSY;
	}
	*out = obj;
	return 0;
}

static int bitnet_handle_add(struct bitnet_ctx *ctx, struct bitnet_obj *obj,
			     bool imported, u64 charge, u32 *id)
{
	struct bitnet_handle *h;
	int ret;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	h->obj = obj;
	h->imported = imported;
	h->charge = charge;
	ret = xa_alloc_cyclic(&ctx->handles, id, h, XA_LIMIT(1, INT_MAX),
			      &ctx->next_handle, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		kfree(h);
		return ret == -EBUSY ? -EMFILE : ret;
	}
	return 0;
}

static void bitnet_handle_drop(struct bitnet_ctx *ctx, struct bitnet_handle *h)
{
	atomic64_sub(h->charge, &ctx->charged);
	bitnet_obj_put(h->obj);
	kfree(h);
}

/*
 * Gives @obj, with our reference to it, a handle in @ctx that owns @charge
 * bytes of the file's charge, then copies the ioctl's @args (the handle in
 * them at *@id) back to userspace. If either fails, all of it is undone:
 * the handle, the reference and the charge.
 */
static int bitnet_handle_install(struct bitnet_ctx *ctx, struct bitnet_obj *obj,
				 bool imported, u64 charge, u32 *id, void __user *arg,
				 const void *args, size_t len)
{
	struct bitnet_handle *h;
	int ret;

	ret = bitnet_handle_add(ctx, obj, imported, charge, id);
	if (ret) {
		bitnet_obj_put(obj);
		atomic64_sub(charge, &ctx->charged);
		return ret;
	}
	if (copy_to_user(arg, args, len)) {
		h = xa_erase(&ctx->handles, *id);
		if (h)
			bitnet_handle_drop(ctx, h);
		return -EFAULT;
	}
	return 0;
}

void bitnet_ctx_drop_handles(struct bitnet_ctx *ctx)
{
	struct bitnet_handle *h;
	unsigned long id;

	xa_for_each(&ctx->handles, id, h) {
		xa_erase(&ctx->handles, id);
		bitnet_handle_drop(ctx, h);
	}
}

static int bitnet_obj_check_create(const struct bitnet_obj_create *c)
{
	size_t expect;

	if (c->flags || c->pad)
		return -EINVAL;
	if (c->format < BITNET_FMT_I2_S || c->format > BITNET_FMT_EXEC)
		return -EINVAL;
	if (bnc_check_shape(c->rows, c->cols))
		return -EINVAL;
	if (c->rows > READ_ONCE(bitnet_limits.max_rows) ||
	    c->cols > READ_ONCE(bitnet_limits.max_cols))
		return -E2BIG;
	if (c->bytes > READ_ONCE(bitnet_limits.max_object_bytes))
		return -E2BIG;
	expect = bnc_packed_size(c->format, c->rows, c->cols);
	if (!expect || c->bytes != expect)
		return -EINVAL;
	return 0;
}

long bitnet_ioc_obj_create(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_create c;
	struct bitnet_obj *obj;
	size_t exec_bytes;
	u64 charge;
	int ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	ret = bitnet_obj_check_create(&c);
	if (ret) {
		bitnet_warn_user("OBJ_CREATE fmt %u %ux%u bytes %llu: %d\n", c.format,
				 c.rows, c.cols, c.bytes, ret);
		return ret;
	}
	exec_bytes = bnc_exec_size(c.rows, c.cols);
	if (!exec_bytes)
		return -EINVAL;
	/* The packed stage lives until seal, the execution layout after. */
	charge = c.bytes + exec_bytes;
	if (atomic64_add_return(charge, &ctx->charged) >
	    READ_ONCE(bitnet_limits.max_file_bytes)) {
		ret = -ENOMEM;
		goto err_file;
	}
	ret = bitnet_pin_reserve(charge);
	if (ret)
		goto err_file;

	ret = -ENOMEM;
	obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);
	if (!obj)
		goto err_global;
	kref_init(&obj->ref);
	mutex_init(&obj->lock);
	obj->format = c.format;
	obj->rows = c.rows;
	obj->cols = c.cols;
	obj->bytes = c.bytes;
	obj->exec_bytes = exec_bytes;
	obj->pinned = charge;
	atomic64_inc(&bitnet_stats.live_objects);
	obj->stage = __vmalloc(c.bytes, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!obj->stage) {
		bitnet_obj_put(obj);
		goto err_file;
	}
	return bitnet_handle_install(ctx, obj, false, charge, &c.handle, arg, &c, sizeof(c));

err_global:
	bitnet_pin_release(charge);
err_file:
	atomic64_sub(charge, &ctx->charged);
	if (ret == -ENOMEM)
		bitnet_warn_user("OBJ_CREATE: %llu bytes over the memory limits\n", charge);
	return ret;
}

static int bitnet_obj_copy_in(struct bitnet_obj *obj, u64 offset, u64 len,
			      const u8 __user *src)
{
	u8 *dst = (u8 *)obj->stage + offset;

	while (len) {
		size_t n = min_t(u64, len, BITNET_FILL_CHUNK);

		if (copy_from_user(dst, src, n))
			return -EFAULT;
		dst += n;
		src += n;
		len -= n;
		if (len) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

long bitnet_ioc_obj_fill(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_fill f;
	struct bitnet_obj *obj;
	int ret;

	if (copy_from_user(&f, arg, sizeof(f)))
		return -EFAULT;
	if (f.flags || !f.len) {
		bitnet_warn_user("OBJ_FILL: flags %#x len %llu\n", f.flags, f.len);
		return -EINVAL;
	}
	ret = bitnet_obj_lookup(ctx, f.handle, true, &obj);
	if (ret)
		return ret;
	mutex_lock(&obj->lock);
	if (obj->sealed) {
		ret = -EPERM;
	} else if (f.offset > obj->bytes || f.len > obj->bytes - f.offset) {
		bitnet_warn_user("OBJ_FILL: [%llu, +%llu) past %llu bytes\n",
				 f.offset, f.len, obj->bytes);
		ret = -EINVAL;
	} else if (f.offset > obj->filled) {
		/* Chunks come in order (overwrites allowed): no holes. */
		bitnet_warn_user("OBJ_FILL: offset %llu leaves a hole at %llu\n",
				 f.offset, obj->filled);
		ret = -EINVAL;
	} else {
		ret = bitnet_obj_copy_in(obj, f.offset, f.len, u64_to_user_ptr(f.data));
		if (!ret)
			obj->filled = max(obj->filled, f.offset + f.len);
	}
	mutex_unlock(&obj->lock);
	bitnet_obj_put(obj);
	return ret;
}

/* Repack the filled stage into the execution layout. Called locked. */
static int bitnet_obj_repack(struct bitnet_obj *obj)
{
	int ret;

	obj->exec = __vmalloc(obj->exec_bytes, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!obj->exec)
		return -ENOMEM;
	obj->mat.rows = obj->rows;
	obj->mat.cols = obj->cols;
	obj->mat.data = obj->exec;
	bitnet_fpu_begin();
	ret = bnc_repack(&obj->mat, obj->format, obj->stage, obj->bytes);
	bitnet_fpu_end();
	if (ret) {
		vfree(obj->exec);
		obj->exec = NULL;
		return ret;
	}
	vfree(obj->stage);
	obj->stage = NULL;
	return 0;
}

long bitnet_ioc_obj_seal(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_seal s;
	struct bitnet_handle *h;
	struct bitnet_obj *obj;
	int ret;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	if (s.flags)
		return -EINVAL;
	ret = bitnet_obj_lookup(ctx, s.handle, true, &obj);
	if (ret)
		return ret;
	mutex_lock(&obj->lock);
	if (obj->sealed) {
		ret = -EPERM;
	} else if (obj->filled < obj->bytes) {
		bitnet_warn_user("OBJ_SEAL: %llu of %llu bytes filled\n", obj->filled,
				 obj->bytes);
		ret = -ENODATA;
	} else {
		ret = bitnet_obj_repack(obj);
		if (ret)
			bitnet_warn_user("OBJ_SEAL: repack of format %u: %d\n", obj->format,
					 ret);
	}
	if (!ret) {
		/* The stage is gone: give its bytes back to both budgets. */
		obj->pinned -= obj->bytes;
		bitnet_pin_release(obj->bytes);
		xa_lock(&ctx->handles);
		h = xa_load(&ctx->handles, s.handle);
		if (h && h->obj == obj) {
			h->charge -= obj->bytes;
			atomic64_sub(obj->bytes, &ctx->charged);
		}
		xa_unlock(&ctx->handles);
		/* Publishes mat for lockless readers (bitnet_obj_get_sealed). */
		smp_store_release(&obj->sealed, true);
	}
	mutex_unlock(&obj->lock);
	bitnet_obj_put(obj);
	return ret;
}

long bitnet_ioc_obj_destroy(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_destroy d;
	struct bitnet_handle *h;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.flags)
		return -EINVAL;
	h = xa_erase(&ctx->handles, d.handle);
	if (!h) {
		bitnet_warn_user("OBJ_DESTROY: no handle %u\n", d.handle);
		return -ENOENT;
	}
	bitnet_handle_drop(ctx, h);
	return 0;
}

long bitnet_ioc_obj_info(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_info info;
	struct bitnet_handle *h;
	struct bitnet_obj *obj;
	bool imported;
	int ret;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.flags || info.pad)
		return -EINVAL;
	ret = bitnet_obj_lookup(ctx, info.handle, false, &obj);
	if (ret)
		return ret;
	xa_lock(&ctx->handles);
	h = xa_load(&ctx->handles, info.handle);
	imported = h && h->imported;
	xa_unlock(&ctx->handles);

	mutex_lock(&obj->lock);
	info.format = obj->format;
	info.state = (obj->sealed ? BITNET_OBJ_SEALED : 0) |
		     (imported ? BITNET_OBJ_IMPORTED : 0);
	info.rows = obj->rows;
	info.cols = obj->cols;
	info.bytes = obj->bytes;
	info.pinned_bytes = obj->pinned;
	info.scale_bits = obj->sealed ? obj->mat.scale_bits : 0;
	mutex_unlock(&obj->lock);
	bitnet_obj_put(obj);
	if (copy_to_user(arg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int bitnet_obj_file_release(struct inode *inode, struct file *file)
{
	bitnet_obj_put(file->private_data);
	return 0;
}

static const struct file_operations bitnet_obj_fops = {
	.owner		= THIS_MODULE,
	.release	= bitnet_obj_file_release,
};

long bitnet_ioc_obj_export(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_export e;
	struct bitnet_obj *obj;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&e, arg, sizeof(e)))
		return -EFAULT;
	if ((e.flags & ~BITNET_EXPORT_CLOEXEC) || e.pad)
		return -EINVAL;
	ret = bitnet_obj_get_sealed(ctx, e.handle, &obj);
	if (ret)
		return ret;
	fd = get_unused_fd_flags(O_RDONLY |
				 ((e.flags & BITNET_EXPORT_CLOEXEC) ? O_CLOEXEC : 0));
	if (fd < 0) {
		bitnet_obj_put(obj);
		return fd;
	}
	/* The file owns the object reference from here on. */
	file = anon_inode_getfile("[bitnet-obj]", &bitnet_obj_fops, obj, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		bitnet_obj_put(obj);
		return PTR_ERR(file);
	}
	e.fd = fd;
	if (copy_to_user(arg, &e, sizeof(e))) {
		put_unused_fd(fd);
		fput(file);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}

long bitnet_ioc_obj_import(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_obj_import im;
	struct bitnet_obj *obj;
	struct file *file;

	if (copy_from_user(&im, arg, sizeof(im)))
		return -EFAULT;
	if (im.flags || im.pad)
		return -EINVAL;
	file = fget(im.fd);
	if (!file) {
		bitnet_warn_user("OBJ_IMPORT: bad fd %d\n", im.fd);
		return -EBADF;
	}
	if (file->f_op != &bitnet_obj_fops) {
		fput(file);
		bitnet_warn_user("OBJ_IMPORT: fd %d is not a bitnet object\n", im.fd);
		return -EINVAL;
	}
	obj = file->private_data;
	kref_get(&obj->ref);
	fput(file);
	return bitnet_handle_install(ctx, obj, true, 0, &im.handle, arg, &im, sizeof(im));
}
