// SPDX-License-Identifier: GPL-2.0
/*
 * Submission path A: the device's own SQ/CQ rings, mmapped by userspace,
 * with io_uring's ordering rules. Userspace publishes SQEs with a release
 * store of sq.tail; BITNET_IOC_ENTER reads the tail with an acquire load,
 * copies each SQE into kernel memory once, validates the copy, and
 * releases sq.head. Completions are written before a release store of
 * cq.tail; userspace releases cq.head after reading them. A completion
 * that finds the CQ full waits on a kernel list (never dropped) and is
 * moved into the CQ by the next ENTER once space is free.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/uaccess.h>
#include <linux/log2.h>
#include "bitnet_priv.h"

/* The shared header of the BITNET_OFF_RINGS mapping; CQEs follow. */
struct bitnet_rings_hdr {
	u32 sq_head;
	u32 sq_tail;
	u32 sq_ring_mask;
	u32 sq_ring_entries;
	u32 sq_flags;
	u32 sq_dropped;
	u32 sq_resv[10];	/* cq fields on their own cache line */
	u32 cq_head;
	u32 cq_tail;
	u32 cq_ring_mask;
	u32 cq_ring_entries;
	u32 cq_overflow;
	u32 cq_resv[11];
	struct bitnet_cqe cqes[];
};

struct bitnet_ring {
	struct bitnet_kbuf rings_buf;
	struct bitnet_kbuf sqes_buf;
	struct bitnet_rings_hdr *hdr;
	struct bitnet_sqe *sqes;
	u32 sq_entries;
	u32 cq_entries;
	struct mutex submit_lock;	/* SQ consumer side */
	u32 sq_head;			/* kernel's copy, the truth */
	spinlock_t cq_lock;		/* CQ producer side and the overflow list */
	u32 cq_tail;			/* kernel's copy, the truth */
	struct list_head overflow;	/* struct bitnet_cq_node, oldest first */
	u32 nr_overflow;
	atomic_t pending;		/* jobs from this ring not yet completed */
	wait_queue_head_t wait;
};

static struct bitnet_ring *bitnet_ctx_ring(struct bitnet_ctx *ctx)
{
	/* Pairs with smp_store_release() in ring setup. */
	return smp_load_acquire(&ctx->ring);
}

/* CQEs userspace has not consumed yet (a bogus head reads as full). */
static u32 bitnet_cq_ready(struct bitnet_ring *ring)
{
	/* Acquire: userspace has finished reading the CQEs before its head. */
	u32 used = READ_ONCE(ring->cq_tail) - smp_load_acquire(&ring->hdr->cq_head);

	return min(used, ring->cq_entries);
}

static void bitnet_cq_write(struct bitnet_ring *ring, const struct bitnet_cqe *cqe)
{
	ring->hdr->cqes[ring->cq_tail & (ring->cq_entries - 1)] = *cqe;
	/* The CQE is visible before the tail that publishes it. */
	smp_store_release(&ring->hdr->cq_tail, ring->cq_tail + 1);
	WRITE_ONCE(ring->cq_tail, ring->cq_tail + 1);
}

/*
 * Post @node's CQE; @node is freed (kvfree) once its CQE is in the ring.
 * Called with no locks held.
 */
static void bitnet_ring_post(struct bitnet_ring *ring, struct bitnet_cq_node *node)
{
	bool posted = false;

	spin_lock(&ring->cq_lock);
	if (list_empty(&ring->overflow) && bitnet_cq_ready(ring) < ring->cq_entries) {
		bitnet_cq_write(ring, &node->cqe);
		posted = true;
	} else {
		list_add_tail(&node->link, &ring->overflow);
		ring->nr_overflow++;
		WRITE_ONCE(ring->hdr->cq_overflow, ring->hdr->cq_overflow + 1);
		WRITE_ONCE(ring->hdr->sq_flags, ring->hdr->sq_flags | BITNET_SQ_CQ_OVERFLOW);
	}
	spin_unlock(&ring->cq_lock);
	if (posted)
		kvfree(node);
	wake_up_all(&ring->wait);
}

/* Move backlogged completions into the CQ as far as space allows. */
static void bitnet_ring_flush(struct bitnet_ring *ring)
{
	struct bitnet_cq_node *node, *tmp;
	LIST_HEAD(done);

	spin_lock(&ring->cq_lock);
	list_for_each_entry_safe(node, tmp, &ring->overflow, link) {
		if (bitnet_cq_ready(ring) >= ring->cq_entries)
			break;
		bitnet_cq_write(ring, &node->cqe);
		list_move_tail(&node->link, &done);
		ring->nr_overflow--;
	}
	if (list_empty(&ring->overflow))
		WRITE_ONCE(ring->hdr->sq_flags, ring->hdr->sq_flags & ~BITNET_SQ_CQ_OVERFLOW);
	spin_unlock(&ring->cq_lock);
	list_for_each_entry_safe(node, tmp, &done, link)
		kvfree(node);
}

/* Completion of a job submitted through this ring (worker context). */
static void bitnet_ring_complete(struct bitnet_kjob *job)
{
	struct bitnet_ctx *ctx = job->ctx;
	struct bitnet_ring *ring = ctx->ring;

	job->node.cqe.res = job->res;
	job->node.cqe.flags = 0;
	/* From here the node belongs to the ring (freed with it at worst). */
	job->ctx = NULL;
	bitnet_ring_post(ring, &job->node);
	atomic_dec(&ring->pending);
	wake_up_all(&ring->wait);
	bitnet_ctx_put(ctx);
}

static int bitnet_ring_post_error(struct bitnet_ring *ring, u64 user_data, int res)
{
	struct bitnet_cq_node *node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);

	if (!node)
		return -ENOMEM;
	node->cqe.user_data = user_data;
	node->cqe.res = res;
	bitnet_ring_post(ring, node);
	return 0;
}

/* Turn one SQE (already in kernel memory) into a running job or a CQE. */
static int bitnet_ring_submit_one(struct bitnet_ctx *ctx, struct bitnet_ring *ring,
				  const struct bitnet_sqe *sqe)
{
	struct bitnet_kjob *job;
	int ret;

	if (sqe->flags || sqe->pad) {
		bitnet_warn_user("SQE flags %#x pad %#x\n", sqe->flags, sqe->pad);
		ret = -EINVAL;
	} else {
		ret = bitnet_kjob_prepare(ctx, &sqe->job, &job);
	}
	if (ret) {
		ret = bitnet_ring_post_error(ring, sqe->user_data, ret);
		if (!ret)
			WRITE_ONCE(ring->hdr->sq_dropped, ring->hdr->sq_dropped + 1);
		return ret;
	}
	job->node.cqe.user_data = sqe->user_data;
	job->complete = bitnet_ring_complete;
	atomic_inc(&ring->pending);
	bitnet_exec_start(job);
	return 0;
}

/* Completions the kernel may still owe beyond the CQ itself. */
static bool bitnet_ring_backlogged(struct bitnet_ring *ring)
{
	u32 owed;

	spin_lock(&ring->cq_lock);
	owed = atomic_read(&ring->pending) + ring->nr_overflow;
	spin_unlock(&ring->cq_lock);
	return owed >= ring->cq_entries;
}

static int bitnet_ring_submit(struct bitnet_ctx *ctx, struct bitnet_ring *ring, u32 to_submit)
{
	u32 tail, avail, done = 0;
	int ret = 0;

	mutex_lock(&ring->submit_lock);
	/* Pairs with userspace's release store after writing the SQEs. */
	tail = smp_load_acquire(&ring->hdr->sq_tail);
	avail = min(tail - ring->sq_head, ring->sq_entries);
	to_submit = min(to_submit, avail);
	while (done < to_submit) {
		struct bitnet_sqe sqe;

		if (bitnet_ring_backlogged(ring)) {
			ret = -EBUSY;
			break;
		}
		/* The one copy of the SQE; userspace may scribble on the slot. */
		memcpy(&sqe, &ring->sqes[ring->sq_head & (ring->sq_entries - 1)], sizeof(sqe));
		ret = bitnet_ring_submit_one(ctx, ring, &sqe);
		if (ret)
			break;
		ring->sq_head++;
		done++;
	}
	/* Userspace may reuse the slots once it sees the new head. */
	smp_store_release(&ring->hdr->sq_head, ring->sq_head);
	mutex_unlock(&ring->submit_lock);
	return done ? done : ret;
}

static bool bitnet_ring_can_return(struct bitnet_ring *ring, u32 min_complete)
{
	u32 ready = bitnet_cq_ready(ring);

	return ready >= min_complete || ready >= ring->cq_entries ||
	       !atomic_read(&ring->pending) || READ_ONCE(ring->nr_overflow);
}

static int bitnet_ring_wait(struct bitnet_ring *ring, u32 min_complete)
{
	int ret;

	for (;;) {
		bitnet_ring_flush(ring);
		if (bitnet_cq_ready(ring) >= min_complete ||
		    bitnet_cq_ready(ring) >= ring->cq_entries || !atomic_read(&ring->pending))
			return 0;
		ret = wait_event_interruptible(ring->wait,
					       bitnet_ring_can_return(ring, min_complete));
		if (ret)
			return ret;
	}
}

long bitnet_ioc_enter(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_ring *ring = bitnet_ctx_ring(ctx);
	struct bitnet_enter e;
	int ret = 0, got;

	if (copy_from_user(&e, arg, sizeof(e)))
		return -EFAULT;
	e.submitted = 0;	/* out only */
	if (e.flags & ~BITNET_ENTER_GETEVENTS) {
		bitnet_warn_user("ENTER: flags %#x\n", e.flags);
		return -EINVAL;
	}
	if (!ring)
		return -ENXIO;
	bitnet_ring_flush(ring);
	if (e.to_submit) {
		got = bitnet_ring_submit(ctx, ring, e.to_submit);
		if (got < 0)
			return got;
		e.submitted = got;
	}
	if (e.flags & BITNET_ENTER_GETEVENTS)
		ret = bitnet_ring_wait(ring, e.min_complete);
	/* Consumed SQEs are reported even when the wait was interrupted. */
	if (ret && !e.submitted)
		return ret;
	if (copy_to_user(arg, &e, sizeof(e)))
		return -EFAULT;
	return 0;
}

__poll_t bitnet_ring_poll(struct bitnet_ctx *ctx, struct file *file,
			  struct poll_table_struct *wait)
{
	struct bitnet_ring *ring = bitnet_ctx_ring(ctx);
	__poll_t mask = 0;

	if (!ring)
		return EPOLLERR;
	poll_wait(file, &ring->wait, wait);
	if (bitnet_cq_ready(ring) || READ_ONCE(ring->nr_overflow))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

void bitnet_ring_free(struct bitnet_ring *ring)
{
	struct bitnet_cq_node *node, *tmp;

	list_for_each_entry_safe(node, tmp, &ring->overflow, link)
		kvfree(node);
	bitnet_kbuf_free(&ring->rings_buf);
	bitnet_kbuf_free(&ring->sqes_buf);
	mutex_destroy(&ring->submit_lock);
	kfree(ring);
}

static int bitnet_ring_check_setup(struct bitnet_ring_setup *s)
{
	u32 max_sq = READ_ONCE(bitnet_limits.max_sq_entries);
	u32 max_cq = READ_ONCE(bitnet_limits.max_cq_entries);

	if (s->flags || s->pad || s->reserved[0] || s->reserved[1])
		return -EINVAL;
	if (!s->sq_entries)
		return -EINVAL;
	if (s->sq_entries > max_sq || s->cq_entries > max_cq)
		return -E2BIG;
	s->sq_entries = roundup_pow_of_two(s->sq_entries);
	s->cq_entries = s->cq_entries ? roundup_pow_of_two(s->cq_entries) :
					2 * s->sq_entries;
	if (s->cq_entries < s->sq_entries)
		return -EINVAL;
	if (s->sq_entries > max_sq || s->cq_entries > max_cq)
		return -E2BIG;
	return 0;
}

static void bitnet_ring_fill_offsets(struct bitnet_ring_setup *s)
{
	memset(&s->sq_off, 0, sizeof(s->sq_off));
	memset(&s->cq_off, 0, sizeof(s->cq_off));
	s->sq_off.head = offsetof(struct bitnet_rings_hdr, sq_head);
	s->sq_off.tail = offsetof(struct bitnet_rings_hdr, sq_tail);
	s->sq_off.ring_mask = offsetof(struct bitnet_rings_hdr, sq_ring_mask);
	s->sq_off.ring_entries = offsetof(struct bitnet_rings_hdr, sq_ring_entries);
	s->sq_off.flags = offsetof(struct bitnet_rings_hdr, sq_flags);
	s->sq_off.dropped = offsetof(struct bitnet_rings_hdr, sq_dropped);
	s->cq_off.head = offsetof(struct bitnet_rings_hdr, cq_head);
	s->cq_off.tail = offsetof(struct bitnet_rings_hdr, cq_tail);
	s->cq_off.ring_mask = offsetof(struct bitnet_rings_hdr, cq_ring_mask);
	s->cq_off.ring_entries = offsetof(struct bitnet_rings_hdr, cq_ring_entries);
	s->cq_off.overflow = offsetof(struct bitnet_rings_hdr, cq_overflow);
	s->cq_off.cqes = offsetof(struct bitnet_rings_hdr, cqes);
}

static struct bitnet_ring *bitnet_ring_alloc(const struct bitnet_ring_setup *s)
{
	struct bitnet_ring *ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);

	if (!ring)
		return NULL;
	if (bitnet_kbuf_alloc(&ring->rings_buf, s->rings_size) ||
	    bitnet_kbuf_alloc(&ring->sqes_buf, s->sqes_size)) {
		bitnet_kbuf_free(&ring->rings_buf);
		kfree(ring);
		return NULL;
	}
	mutex_init(&ring->submit_lock);
	spin_lock_init(&ring->cq_lock);
	INIT_LIST_HEAD(&ring->overflow);
	init_waitqueue_head(&ring->wait);
	ring->sq_entries = s->sq_entries;
	ring->cq_entries = s->cq_entries;
	ring->hdr = ring->rings_buf.vaddr;
	ring->sqes = ring->sqes_buf.vaddr;
	ring->hdr->sq_ring_mask = s->sq_entries - 1;
	ring->hdr->sq_ring_entries = s->sq_entries;
	ring->hdr->cq_ring_mask = s->cq_entries - 1;
	ring->hdr->cq_ring_entries = s->cq_entries;
	return ring;
}

long bitnet_ioc_ring_setup(struct bitnet_ctx *ctx, void __user *arg)
{
	struct bitnet_ring_setup s;
	struct bitnet_ring *ring;
	int ret;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	ret = bitnet_ring_check_setup(&s);
	if (ret) {
		bitnet_warn_user("RING_SETUP sq %u cq %u: %d\n", s.sq_entries, s.cq_entries, ret);
		return ret;
	}
	s.rings_size = PAGE_ALIGN(sizeof(struct bitnet_rings_hdr) +
				  (u64)s.cq_entries * sizeof(struct bitnet_cqe));
	s.sqes_size = PAGE_ALIGN((u64)s.sq_entries * sizeof(struct bitnet_sqe));
	bitnet_ring_fill_offsets(&s);

	mutex_lock(&ctx->lock);
	if (ctx->ring) {
		ret = -EBUSY;
		goto out;
	}
	ring = bitnet_ring_alloc(&s);
	if (!ring) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_to_user(arg, &s, sizeof(s))) {
		bitnet_ring_free(ring);
		ret = -EFAULT;
		goto out;
	}
	/* Publishes the initialised ring to bitnet_ctx_ring(). */
	smp_store_release(&ctx->ring, ring);
out:
	mutex_unlock(&ctx->lock);
	return ret;
}

int bitnet_ring_mmap(struct bitnet_ctx *ctx, struct vm_area_struct *vma)
{
	struct bitnet_ring *ring = bitnet_ctx_ring(ctx);
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;

	if (!ring)
		return -ENXIO;
	if (off == BITNET_OFF_RINGS)
		return bitnet_kbuf_mmap(&ring->rings_buf, vma);
	if (off == BITNET_OFF_SQES)
		return bitnet_kbuf_mmap(&ring->sqes_buf, vma);
	return -EINVAL;
}
