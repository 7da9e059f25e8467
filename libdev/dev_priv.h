/* SPDX-License-Identifier: GPL-2.0 */
/* libbitnet-dev internals shared between its files. */
#ifndef BITNET_DEV_PRIV_H
#define BITNET_DEV_PRIV_H

#include <pthread.h>
#include <errno.h>
#include "bitnet-dev.h"

/* The mapped ring of path A, userspace view. */
struct bnd_ring {
	void *rings;
	size_t rings_size;
	struct bitnet_sqe *sqes;
	size_t sqes_size;
	uint32_t *sq_head;
	uint32_t *sq_tail;
	uint32_t *sq_flags;
	uint32_t *sq_dropped;
	uint32_t sq_mask;
	uint32_t sq_entries;
	uint32_t *cq_head;
	uint32_t *cq_tail;
	uint32_t *cq_overflow;
	struct bitnet_cqe *cqes;
	uint32_t cq_mask;
	uint32_t cq_entries;
	uint32_t local_tail; /* SQEs pushed, published on enter */
};

struct bnd_dev {
	int fd;
	struct bitnet_info info;
	struct bnd_ring ring; /* ring.rings == NULL until set up */
	pthread_mutex_t run_lock;
	uint64_t run_seq;
};

/* ioctl() that returns 0 or -errno. */
int bnd_ioctl(const struct bnd_dev *dev, unsigned long req, void *arg);
void bnd_ring_unmap(struct bnd_dev *dev);

#endif /* BITNET_DEV_PRIV_H */
