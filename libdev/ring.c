// SPDX-License-Identifier: GPL-2.0
/*
 * libbitnet-dev, path A: the device's own SQ/CQ rings. The memory-ordering
 * rules are io_uring's: SQEs are written before a release store of
 * sq.tail, CQEs are read after an acquire load of cq.tail and released by
 * a release store of cq.head.
 */
#include <string.h>
#include <sys/mman.h>
#include "dev_priv.h"

#define load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define BND_RUN_SQ_ENTRIES 8

static uint32_t *ring_u32(void *base, uint32_t off)
{
	return (uint32_t *)((uint8_t *)base + off);
}

void bnd_ring_unmap(struct bnd_dev *dev)
{
	struct bnd_ring *r = &dev->ring;

	if (r->rings)
		munmap(r->rings, r->rings_size);
	if (r->sqes)
		munmap(r->sqes, r->sqes_size);
	memset(r, 0, sizeof(*r));
}

int bnd_ring_setup(struct bnd_dev *dev, uint32_t sq, uint32_t cq)
{
	struct bitnet_ring_setup s = { .sq_entries = sq, .cq_entries = cq };
	struct bnd_ring *r = &dev->ring;
	int ret;

	if (r->rings)
		return -EBUSY;
	ret = bnd_ioctl(dev, BITNET_IOC_RING_SETUP, &s);
	if (ret)
		return ret;
	r->rings = mmap(NULL, s.rings_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
			BITNET_OFF_RINGS);
	if (r->rings == MAP_FAILED) {
		r->rings = NULL;
		return -errno;
	}
	r->rings_size = s.rings_size;
	r->sqes = mmap(NULL, s.sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		       BITNET_OFF_SQES);
	if (r->sqes == MAP_FAILED) {
		ret = -errno;
		r->sqes = NULL;
		bnd_ring_unmap(dev);
		return ret;
	}
	r->sqes_size = s.sqes_size;
	r->sq_head = ring_u32(r->rings, s.sq_off.head);
	r->sq_tail = ring_u32(r->rings, s.sq_off.tail);
	r->sq_flags = ring_u32(r->rings, s.sq_off.flags);
	r->sq_dropped = ring_u32(r->rings, s.sq_off.dropped);
	r->sq_mask = *ring_u32(r->rings, s.sq_off.ring_mask);
	r->sq_entries = *ring_u32(r->rings, s.sq_off.ring_entries);
	r->cq_head = ring_u32(r->rings, s.cq_off.head);
	r->cq_tail = ring_u32(r->rings, s.cq_off.tail);
	r->cq_overflow = ring_u32(r->rings, s.cq_off.overflow);
	r->cqes = (struct bitnet_cqe *)((uint8_t *)r->rings + s.cq_off.cqes);
	r->cq_mask = *ring_u32(r->rings, s.cq_off.ring_mask);
	r->cq_entries = *ring_u32(r->rings, s.cq_off.ring_entries);
	r->local_tail = *r->sq_tail;
	return 0;
}

int bnd_ring_push_sqe(struct bnd_dev *dev, const struct bitnet_sqe *sqe)
{
	struct bnd_ring *r = &dev->ring;

	if (!r->rings)
		return -ENXIO;
	/* Acquire: the kernel has finished copying the slots before its head. */
	if (r->local_tail - load_acquire(r->sq_head) >= r->sq_entries)
		return -EBUSY;
	r->sqes[r->local_tail & r->sq_mask] = *sqe;
	r->local_tail++;
	return 0;
}

int bnd_ring_push(struct bnd_dev *dev, const struct bitnet_job *job, uint64_t user_data)
{
	struct bitnet_sqe sqe = { .user_data = user_data, .job = *job };

	return bnd_ring_push_sqe(dev, &sqe);
}

uint32_t bnd_ring_queued(const struct bnd_dev *dev)
{
	const struct bnd_ring *r = &dev->ring;

	return r->rings ? r->local_tail - load_acquire(r->sq_head) : 0;
}

int bnd_ring_enter(struct bnd_dev *dev, uint32_t min_complete, int wait)
{
	struct bnd_ring *r = &dev->ring;
	struct bitnet_enter e = { 0 };
	int ret;

	if (!r->rings)
		return -ENXIO;
	/* Release: the SQEs are written before the tail that publishes them. */
	store_release(r->sq_tail, r->local_tail);
	e.to_submit = r->local_tail - load_acquire(r->sq_head);
	e.min_complete = min_complete;
	e.flags = wait ? BITNET_ENTER_GETEVENTS : 0;
	ret = bnd_ioctl(dev, BITNET_IOC_ENTER, &e);
	return ret ? ret : (int)e.submitted;
}

int bnd_ring_pop(struct bnd_dev *dev, struct bitnet_cqe *cqe)
{
	struct bnd_ring *r = &dev->ring;
	uint32_t head;

	if (!r->rings)
		return -ENXIO;
	head = *r->cq_head;
	if (head == load_acquire(r->cq_tail))
		return 0;
	*cqe = r->cqes[head & r->cq_mask];
	/* Release: done reading the CQE before the kernel may reuse it. */
	store_release(r->cq_head, head + 1);
	return 1;
}

uint32_t bnd_ring_overflow(const struct bnd_dev *dev)
{
	return dev->ring.rings ? load_acquire(dev->ring.cq_overflow) : 0;
}

uint32_t bnd_ring_dropped(const struct bnd_dev *dev)
{
	return dev->ring.rings ? load_acquire(dev->ring.sq_dropped) : 0;
}

uint32_t bnd_ring_sq_flags(const struct bnd_dev *dev)
{
	return dev->ring.rings ? load_acquire(dev->ring.sq_flags) : 0;
}

uint32_t bnd_ring_cq_entries(const struct bnd_dev *dev)
{
	return dev->ring.cq_entries;
}

/* Submit the pushed job and wait until the CQE with @seq comes back. */
static int bnd_run_locked(struct bnd_dev *dev, const struct bitnet_job *job, uint64_t seq)
{
	struct bitnet_cqe cqe;
	int ret;

	if (!dev->ring.rings) {
		ret = bnd_ring_setup(dev, BND_RUN_SQ_ENTRIES, 0);
		if (ret)
			return ret;
	}
	ret = bnd_ring_push(dev, job, seq);
	if (ret)
		return ret;
	for (;;) {
		ret = bnd_ring_enter(dev, 1, 1);
		if (ret < 0)
			return ret;
		while (bnd_ring_pop(dev, &cqe) == 1)
			if (cqe.user_data == seq)
				return cqe.res;
	}
}

int bnd_run(struct bnd_dev *dev, const struct bitnet_job *job)
{
	int ret;

	pthread_mutex_lock(&dev->run_lock);
	ret = bnd_run_locked(dev, job, ++dev->run_seq);
	pthread_mutex_unlock(&dev->run_lock);
	return ret;
}
