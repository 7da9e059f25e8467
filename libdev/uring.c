// SPDX-License-Identifier: GPL-2.0
/*
 * libbitnet-dev, path B: jobs as IORING_OP_URING_CMD on a ring created
 * with IORING_SETUP_SQE128. liburing 2.3 has no uring_cmd helper, so the
 * SQE is prepared with io_uring_prep_rw() and the command filled in here.
 */
#include <stdlib.h>
#include <string.h>
#include <liburing.h>
#include "dev_priv.h"

struct bnd_uring {
	struct io_uring ring;
	int fd;
	uint64_t seq;
};

int bnd_uring_open(struct bnd_dev *dev, uint32_t entries, struct bnd_uring **out)
{
	struct bnd_uring *u;
	int ret;

	if (!(dev->info.features & BITNET_FEAT_URING_CMD))
		return -EOPNOTSUPP;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(entries, &u->ring, IORING_SETUP_SQE128);
	if (ret < 0) {
		free(u);
		return ret;
	}
	u->fd = dev->fd;
	*out = u;
	return 0;
}

void bnd_uring_close(struct bnd_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

int bnd_uring_push(struct bnd_uring *u, const struct bitnet_job *job, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;
	/* Clears the whole 128-byte SQE: the command area must not carry junk. */
	memset(sqe, 0, 2 * sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, u->fd, NULL, 0, 0);
	sqe->cmd_op = BITNET_URING_CMD_JOB;
	memcpy(sqe->cmd, job, sizeof(*job));
	io_uring_sqe_set_data64(sqe, user_data);
	return 0;
}

int bnd_uring_submit(struct bnd_uring *u)
{
	return io_uring_submit(&u->ring);
}

int bnd_uring_wait(struct bnd_uring *u, uint64_t *user_data, int32_t *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	do {
		ret = io_uring_wait_cqe(&u->ring, &cqe);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	*user_data = io_uring_cqe_get_data64(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return 0;
}

int bnd_uring_submit_wait(struct bnd_uring *u, uint32_t min_complete)
{
	int ret;

	do {
		ret = io_uring_submit_and_wait(&u->ring, min_complete);
	} while (ret == -EINTR);
	return ret;
}

int bnd_uring_peek(struct bnd_uring *u, uint64_t *user_data, int32_t *res)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(&u->ring, &cqe) < 0)
		return 0;
	*user_data = io_uring_cqe_get_data64(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return 1;
}

int bnd_uring_run(struct bnd_uring *u, const struct bitnet_job *job)
{
	uint64_t seq = ++u->seq, got;
	int32_t res;
	int ret;

	ret = bnd_uring_push(u, job, seq);
	if (ret)
		return ret;
	ret = bnd_uring_submit(u);
	if (ret < 0)
		return ret;
	do {
		ret = bnd_uring_wait(u, &got, &res);
		if (ret)
			return ret;
	} while (got != seq);
	return res;
}
