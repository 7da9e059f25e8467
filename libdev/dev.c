// SPDX-License-Identifier: GPL-2.0
/*
 * libbitnet-dev: device, weight objects, arenas and job descriptors.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "dev_priv.h"

#define BND_DEFAULT_CHUNK (16ULL << 20)

int bnd_ioctl(const struct bnd_dev *dev, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(dev->fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int bnd_open(const char *path, struct bnd_dev **out)
{
	struct bnd_dev *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->fd = open(path ? path : BND_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = -errno;
		free(dev);
		return ret;
	}
	ret = bnd_ioctl(dev, BITNET_IOC_GET_INFO, &dev->info);
	if (!ret && dev->info.abi_version != BITNET_ABI_VERSION)
		ret = -EPROTO;
	if (ret) {
		close(dev->fd);
		free(dev);
		return ret;
	}
	pthread_mutex_init(&dev->run_lock, NULL);
	*out = dev;
	return 0;
}

void bnd_close(struct bnd_dev *dev)
{
	if (!dev)
		return;
	bnd_ring_unmap(dev);
	close(dev->fd);
	pthread_mutex_destroy(&dev->run_lock);
	free(dev);
}

int bnd_fd(const struct bnd_dev *dev)
{
	return dev->fd;
}

const struct bitnet_info *bnd_info(const struct bnd_dev *dev)
{
	return &dev->info;
}

int bnd_obj_create(struct bnd_dev *dev, uint32_t fmt, uint32_t rows, uint32_t cols, uint64_t bytes,
		   uint32_t *handle)
{
	struct bitnet_obj_create c = {
		.format = fmt,
		.rows = rows,
		.cols = cols,
		.bytes = bytes,
	};
	int ret = bnd_ioctl(dev, BITNET_IOC_OBJ_CREATE, &c);

	if (!ret)
		*handle = c.handle;
	return ret;
}

int bnd_obj_fill(struct bnd_dev *dev, uint32_t handle, uint64_t offset, const void *data,
		 uint64_t len)
{
	struct bitnet_obj_fill f = {
		.handle = handle,
		.offset = offset,
		.len = len,
		.data = (uintptr_t)data,
	};

	return bnd_ioctl(dev, BITNET_IOC_OBJ_FILL, &f);
}

int bnd_obj_seal(struct bnd_dev *dev, uint32_t handle)
{
	struct bitnet_obj_seal s = { .handle = handle };

	return bnd_ioctl(dev, BITNET_IOC_OBJ_SEAL, &s);
}

int bnd_obj_destroy(struct bnd_dev *dev, uint32_t handle)
{
	struct bitnet_obj_destroy d = { .handle = handle };

	return bnd_ioctl(dev, BITNET_IOC_OBJ_DESTROY, &d);
}

int bnd_obj_info(struct bnd_dev *dev, uint32_t handle, struct bitnet_obj_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return bnd_ioctl(dev, BITNET_IOC_OBJ_INFO, info);
}

int bnd_obj_export(struct bnd_dev *dev, uint32_t handle, uint32_t flags, int *fd)
{
	struct bitnet_obj_export e = { .handle = handle, .flags = flags };
	int ret = bnd_ioctl(dev, BITNET_IOC_OBJ_EXPORT, &e);

	if (!ret)
		*fd = e.fd;
	return ret;
}

int bnd_obj_import(struct bnd_dev *dev, int fd, uint32_t *handle)
{
	struct bitnet_obj_import im = { .fd = fd };
	int ret = bnd_ioctl(dev, BITNET_IOC_OBJ_IMPORT, &im);

	if (!ret)
		*handle = im.handle;
	return ret;
}

int bnd_obj_load(struct bnd_dev *dev, uint32_t fmt, uint32_t rows, uint32_t cols, const void *data,
		 uint64_t bytes, uint64_t chunk, uint32_t *handle)
{
	uint64_t off, n;
	uint32_t h;
	int ret;

	if (!chunk)
		chunk = BND_DEFAULT_CHUNK;
	ret = bnd_obj_create(dev, fmt, rows, cols, bytes, &h);
	if (ret)
		return ret;
	for (off = 0; !ret && off < bytes; off += n) {
		n = bytes - off < chunk ? bytes - off : chunk;
		ret = bnd_obj_fill(dev, h, off, (const uint8_t *)data + off, n);
	}
	if (!ret)
		ret = bnd_obj_seal(dev, h);
	if (ret) {
		bnd_obj_destroy(dev, h);
		return ret;
	}
	*handle = h;
	return 0;
}

int bnd_arena_create(struct bnd_dev *dev, uint64_t size, struct bnd_arena *arena)
{
	struct bitnet_arena_create c = { .size = size };
	struct bitnet_arena_destroy d = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	ret = bnd_ioctl(dev, BITNET_IOC_ARENA_CREATE, &c);
	if (ret)
		return ret;
	arena->id = c.id;
	arena->size = (size + page - 1) / page * page;
	arena->ptr = mmap(NULL, arena->size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
			  (off_t)c.mmap_offset);
	if (arena->ptr == MAP_FAILED) {
		ret = -errno;
		d.id = c.id;
		bnd_ioctl(dev, BITNET_IOC_ARENA_DESTROY, &d);
		arena->ptr = NULL;
		return ret;
	}
	return 0;
}

int bnd_arena_destroy(struct bnd_dev *dev, struct bnd_arena *arena)
{
	struct bitnet_arena_destroy d = { .id = arena->id };

	if (arena->ptr)
		munmap(arena->ptr, arena->size);
	arena->ptr = NULL;
	return bnd_ioctl(dev, BITNET_IOC_ARENA_DESTROY, &d);
}

/* What every job carries: the op, the activations, the output type. */
static void job_init(struct bitnet_job *job, uint8_t op, uint32_t n_tokens, const int8_t *q,
		     const float *sigma, const int32_t *sum, uint8_t out_type)
{
	memset(job, 0, sizeof(*job));
	job->op = op;
	job->out_type = out_type;
	job->n_tokens = n_tokens;
	job->act = (uintptr_t)q;
	job->act_scale = (uintptr_t)sigma;
	job->act_sum = (uintptr_t)sum;
}

void bnd_job_matmul(struct bitnet_job *job, uint32_t handle, uint32_t n_tokens, const int8_t *q,
		    const float *sigma, const int32_t *sum, void *out, uint8_t out_type)
{
	job_init(job, BITNET_OP_MATMUL, n_tokens, q, sigma, sum, out_type);
	job->handle = handle;
	job->out = (uintptr_t)out;
}

void bnd_job_multi(struct bitnet_job *job, const struct bitnet_job_weight *weights,
		   uint32_t n_weights, uint32_t n_tokens, const int8_t *q, const float *sigma,
		   const int32_t *sum, uint8_t out_type)
{
	job_init(job, BITNET_OP_MATMUL_MULTI, n_tokens, q, sigma, sum, out_type);
	job->n_weights = n_weights;
	job->weights = (uintptr_t)weights;
}
