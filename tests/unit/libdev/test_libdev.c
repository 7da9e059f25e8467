// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side checks of the ABI header and libbitnet-dev that need no
 * device: struct layouts (no implicit padding, a job fits the 80-byte
 * command area of a 128-byte io_uring SQE), job builders, and clean errors
 * when the device is absent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "libdev/bitnet-dev.h"
#include "tests/tap.h"

/* A struct has no implicit padding if its size is the sum of its fields. */
#define FIELDS_SUM_JOB (1 + 1 + 2 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 8)

int main(void)
{
	struct bitnet_job job;
	struct bnd_dev *dev = NULL;
	int8_t q[4];
	int32_t out[4];

	printf("1..12\n");
	tap_ok(sizeof(struct bitnet_job) == 72 && FIELDS_SUM_JOB == 72,
	       "bitnet_job is 72 bytes, packed");
	tap_ok(sizeof(struct bitnet_job) <= 80, "a job fits the SQE128 command area");
	tap_ok(sizeof(struct bitnet_sqe) == 88 && offsetof(struct bitnet_sqe, job) == 16,
	       "bitnet_sqe layout");
	tap_ok(sizeof(struct bitnet_cqe) == 16, "bitnet_cqe is 16 bytes");
	tap_ok(sizeof(struct bitnet_info) == 120, "bitnet_info is 120 bytes");
	tap_ok(sizeof(struct bitnet_obj_create) == 32 && sizeof(struct bitnet_obj_fill) == 32 &&
		       sizeof(struct bitnet_obj_info) == 48 &&
		       sizeof(struct bitnet_obj_export) == 16 &&
		       sizeof(struct bitnet_obj_import) == 16,
	       "object ioctl structs sizes");
	tap_ok(sizeof(struct bitnet_ring_setup) == 112 && sizeof(struct bitnet_enter) == 16 &&
		       sizeof(struct bitnet_arena_create) == 24,
	       "ring and arena structs sizes");
	tap_ok(sizeof(struct bitnet_job_weight) == 16, "bitnet_job_weight is 16 bytes");

	bnd_job_matmul(&job, 7, 2, q, NULL, NULL, out, BITNET_OUT_I32);
	tap_ok(job.op == BITNET_OP_MATMUL && job.handle == 7 && job.n_tokens == 2 &&
		       job.act == (uintptr_t)q && job.out == (uintptr_t)out && !job.flags &&
		       !job.pad && !job.reserved && !job.n_weights,
	       "bnd_job_matmul fills a clean job");
	bnd_job_multi(&job, (void *)64, 3, 1, q, NULL, NULL, BITNET_OUT_F32);
	tap_ok(job.op == BITNET_OP_MATMUL_MULTI && job.n_weights == 3 && job.weights == 64 &&
		       !job.handle && !job.out && job.out_type == BITNET_OUT_F32,
	       "bnd_job_multi fills a clean job");
	tap_ok(bnd_open("/nonexistent/bitnet", &dev) == -ENOENT && !dev,
	       "bnd_open of a missing device: -ENOENT");
	tap_ok(bnd_open("/dev/null", &dev) == -ENOTTY && !dev,
	       "bnd_open of a non-bitnet device: -ENOTTY");
	return tap_exit();
}
