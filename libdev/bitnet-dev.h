/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libbitnet-dev: the userspace side of /dev/bitnet (uapi/linux/bitnet.h).
 * Everything that talks to the device goes through here: objects, arenas,
 * the device's own ring (path A) and io_uring commands (path B), so no
 * other code hand-rolls ring accesses or memory barriers.
 *
 * Functions return 0 (or a count) on success and a negative errno on
 * failure; errno itself is left as the failing call set it.
 * A struct bnd_dev is not thread-safe except bnd_run(), which serializes
 * its callers. Several threads should each use their own struct bnd_dev
 * (objects are shared between them by export/import) or their own
 * struct bnd_uring.
 */
#ifndef BITNET_DEV_H
#define BITNET_DEV_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bitnet.h>

#define BND_DEFAULT_PATH "/dev/" BITNET_DEVICE_NAME

struct bnd_dev;

/* Open the device and read its info. */
int bnd_open(const char *path, struct bnd_dev **out);
void bnd_close(struct bnd_dev *dev);
int bnd_fd(const struct bnd_dev *dev);
const struct bitnet_info *bnd_info(const struct bnd_dev *dev);

/* ---- weight objects ---- */
int bnd_obj_create(struct bnd_dev *dev, uint32_t fmt, uint32_t rows, uint32_t cols, uint64_t bytes,
		   uint32_t *handle);
int bnd_obj_fill(struct bnd_dev *dev, uint32_t handle, uint64_t offset, const void *data,
		 uint64_t len);
int bnd_obj_seal(struct bnd_dev *dev, uint32_t handle);
int bnd_obj_destroy(struct bnd_dev *dev, uint32_t handle);
int bnd_obj_info(struct bnd_dev *dev, uint32_t handle, struct bitnet_obj_info *info);
/* Export a sealed object as a file descriptor (*fd), BITNET_EXPORT_* flags. */
int bnd_obj_export(struct bnd_dev *dev, uint32_t handle, uint32_t flags, int *fd);
int bnd_obj_import(struct bnd_dev *dev, int fd, uint32_t *handle);
/*
 * Create, fill in chunks of @chunk bytes (0: 16 MiB) and seal; on failure
 * the object is destroyed.
 */
int bnd_obj_load(struct bnd_dev *dev, uint32_t fmt, uint32_t rows, uint32_t cols, const void *data,
		 uint64_t bytes, uint64_t chunk, uint32_t *handle);

/* ---- activation arenas ---- */
struct bnd_arena {
	uint32_t id;
	uint64_t size; /* bytes mapped */
	void *ptr;     /* the mapping; job addresses are offsets into it */
};

int bnd_arena_create(struct bnd_dev *dev, uint64_t size, struct bnd_arena *arena);
int bnd_arena_destroy(struct bnd_dev *dev, struct bnd_arena *arena);

/* ---- job descriptors ---- */

/* One weight, N tokens: out[n * rows + m]; @sigma needed for F32 only. */
void bnd_job_matmul(struct bitnet_job *job, uint32_t handle, uint32_t n_tokens, const int8_t *q,
		    const float *sigma, const int32_t *sum, void *out, uint8_t out_type);
/* Several weights (@weights[n_weights], each with its own out) on one q. */
void bnd_job_multi(struct bitnet_job *job, const struct bitnet_job_weight *weights,
		   uint32_t n_weights, uint32_t n_tokens, const int8_t *q, const float *sigma,
		   const int32_t *sum, uint8_t out_type);

/* ---- path A: the device's own rings ---- */

/* Set up and map the ring: @sq entries, @cq entries (0: 2 * sq). */
int bnd_ring_setup(struct bnd_dev *dev, uint32_t sq, uint32_t cq);
/* Queue one SQE locally; -EBUSY when the SQ is full. Not yet submitted. */
int bnd_ring_push(struct bnd_dev *dev, const struct bitnet_job *job, uint64_t user_data);
/* Queue a whole SQE as given (its flags and pad included): for tests. */
int bnd_ring_push_sqe(struct bnd_dev *dev, const struct bitnet_sqe *sqe);
/* SQEs pushed but not yet consumed by the kernel. */
uint32_t bnd_ring_queued(const struct bnd_dev *dev);
/*
 * BITNET_IOC_ENTER: submit what was pushed, wait for @min_complete
 * completions when @wait. Returns SQEs consumed, or -errno.
 */
int bnd_ring_enter(struct bnd_dev *dev, uint32_t min_complete, int wait);
/* Take one CQE: 1 if one was ready, 0 if the CQ is empty. */
int bnd_ring_pop(struct bnd_dev *dev, struct bitnet_cqe *cqe);
/* Kernel-written counters and flags, for tests and diagnostics. */
uint32_t bnd_ring_overflow(const struct bnd_dev *dev);
uint32_t bnd_ring_dropped(const struct bnd_dev *dev);
uint32_t bnd_ring_sq_flags(const struct bnd_dev *dev);
uint32_t bnd_ring_cq_entries(const struct bnd_dev *dev);

/*
 * Run one job through the ring and wait for it (sets up a small ring on
 * first use). Returns the job's result (0 or -errno). Thread-safe.
 */
int bnd_run(struct bnd_dev *dev, const struct bitnet_job *job);

/* ---- path B: io_uring IORING_OP_URING_CMD ---- */
struct bnd_uring;

/* -EOPNOTSUPP when the module lacks BITNET_FEAT_URING_CMD; or io_uring's error. */
int bnd_uring_open(struct bnd_dev *dev, uint32_t entries, struct bnd_uring **out);
void bnd_uring_close(struct bnd_uring *u);
/* Queue one job; -EBUSY when the SQ is full. */
int bnd_uring_push(struct bnd_uring *u, const struct bitnet_job *job, uint64_t user_data);
/* Submit queued jobs; returns how many. */
int bnd_uring_submit(struct bnd_uring *u);
/* Wait for one completion. */
int bnd_uring_wait(struct bnd_uring *u, uint64_t *user_data, int32_t *res);
/* Submit queued jobs and wait until @min_complete CQEs are ready. */
int bnd_uring_submit_wait(struct bnd_uring *u, uint32_t min_complete);
/* Take one CQE without waiting: 1 if one was ready, 0 if none. */
int bnd_uring_peek(struct bnd_uring *u, uint64_t *user_data, int32_t *res);
/* Push, submit and wait for one job; returns its result. */
int bnd_uring_run(struct bnd_uring *u, const struct bitnet_job *job);

/* ---- sharing sealed objects with another process (unix socket) ---- */

/* Send @n exported object fds (SCM_RIGHTS); the caller keeps its fds. */
int bnd_share_send(int sock, const int *fds, uint32_t n);
/* Receive up to @max object fds (close-on-exec); import with bnd_obj_import(). */
int bnd_share_recv(int sock, uint32_t max, int *fds, uint32_t *n);
/* 0 if the socket's peer runs as root or as our euid, else -EPERM. */
int bnd_share_peer_allowed(int sock);

#endif /* BITNET_DEV_H */
