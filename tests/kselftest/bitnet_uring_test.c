// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: submission path B, IORING_OP_URING_CMD. Results
 * against the userspace core on random shapes, batches, several threads
 * with their own io_uring on one file, bad commands.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <liburing.h>
#include "kselftest_harness.h"
#include "ksft_common.h"

FIXTURE(uring)
{
	struct bnd_dev *dev;
	struct bnd_uring *u;
};

FIXTURE_SETUP(uring)
{
	int ret;

	self->u = NULL;
	KSFT_OPEN_DEV(&self->dev);
	ret = bnd_uring_open(self->dev, 64, &self->u);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "module built without io_uring_cmd support");
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable here (%s); ring A covers it", strerror(-ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(uring)
{
	bnd_uring_close(self->u);
	bnd_close(self->dev);
}

static int run_uring(void *u, const struct bitnet_job *job)
{
	return bnd_uring_run(u, job);
}

TEST_F(uring, random_shapes)
{
	static const uint32_t ks[] = { 128, 256, 512, 1152, 2560 };
	uint32_t st = 4321, i;

	for (i = 0; i < 12; i++) {
		uint32_t m = 1 + ksft_rand(&st) % 400, k = ks[ksft_rand(&st) % 5];
		uint32_t n = 1 + ksft_rand(&st) % 7;
		uint8_t out_type = i % 2 ? BITNET_OUT_F32 : BITNET_OUT_I32;
		bool tq2 = i % 4 == 3;

		EXPECT_EQ(-1, ksft_check_shape(self->dev, tq2 ? BNC_FMT_TQ2_0 : BNC_FMT_I2_S, m,
					       tq2 ? 512 : k, n, out_type, i % 3, 300 + i,
					       run_uring, self->u));
	}
}

TEST_F(uring, batch_and_errors)
{
	enum {
		JOBS = 24
	};
	int seen[JOBS + 2] = { 0 };
	struct bitnet_job job;
	struct ksft_batch b;
	uint64_t ud;
	int32_t res;
	int i;

	ASSERT_EQ(0, ksft_batch_make(&b, self->dev, JOBS, 100, 768, 3, 500, 600));
	for (i = 0; i < JOBS; i++)
		ASSERT_EQ(0, bnd_uring_push(self->u, &b.jobs[i], i));
	/* two bad ones in the same batch: unknown handle, non-zero pad */
	job = b.jobs[0];
	job.handle = b.handle + 50;
	ASSERT_EQ(0, bnd_uring_push(self->u, &job, JOBS));
	job.handle = b.handle;
	job.pad = 1;
	ASSERT_EQ(0, bnd_uring_push(self->u, &job, JOBS + 1));
	ASSERT_EQ(JOBS + 2, bnd_uring_submit(self->u));
	for (i = 0; i < JOBS + 2; i++) {
		ASSERT_EQ(0, bnd_uring_wait(self->u, &ud, &res));
		ASSERT_LT(ud, JOBS + 2);
		seen[ud]++;
		EXPECT_EQ(ud == JOBS ? -ENOENT : ud == JOBS + 1 ? -EINVAL : 0, res)
		TH_LOG("job %llu", (unsigned long long)ud);
	}
	for (i = 0; i < JOBS; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("job %d", i);
	EXPECT_EQ(-1, ksft_batch_check(&b));
	ksft_batch_free(&b);
}

/* Without IORING_SETUP_SQE128 the job does not fit: EINVAL. */
TEST_F(uring, needs_sqe128)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, bnd_fd(self->dev), NULL, 0, 0);
	sqe->cmd_op = BITNET_URING_CMD_JOB;
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(-EINVAL, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

/*
 * Only the whole ioctl-encoded BITNET_URING_CMD_JOB is a job: another
 * number, direction or size, an ioctl's code or the old bare 0xb17 is
 * ENOTTY.
 */
TEST_F(uring, unknown_cmd_op)
{
	static const __u32 ops[] = {
		0x1234,
		0xb17,
		BITNET_IOC_ENTER,
		_IOW(BITNET_IOC_MAGIC, 0x80, struct bitnet_job),
		_IOWR(BITNET_IOC_MAGIC, 0x80, struct bitnet_sqe),
		_IOWR(BITNET_IOC_MAGIC, 0x81, struct bitnet_job),
	};
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	size_t i;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, IORING_SETUP_SQE128));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		sqe = io_uring_get_sqe(&ring);
		memset(sqe, 0, 2 * sizeof(*sqe));
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, bnd_fd(self->dev), NULL, 0, 0);
		sqe->cmd_op = ops[i];
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ(-ENOTTY, cqe->res) TH_LOG("cmd_op %#x", ops[i]);
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
}

static void *uring_thread_fn(void *p)
{
	struct ksft_thread *t = p;
	struct bnd_uring *u;

	if (bnd_uring_open(t->dev, 8, &u)) {
		t->failures++;
		return NULL;
	}
	t->failures += ksft_check_jobs(t->w, t->handle, 2, 20, t->seed * 50, run_uring, u);
	bnd_uring_close(u);
	return NULL;
}

/* Several threads, each with its own io_uring, on one file at once. */
TEST_F(uring, threads)
{
	struct ksft_thread args[KSFT_THREADS];
	struct kw w;
	uint32_t h;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 160, 1024, 700));
	ASSERT_EQ(0, kw_load(self->dev, &w, &h));
	ASSERT_EQ(0, ksft_threads_start(
			     args, KSFT_THREADS, uring_thread_fn,
			     &(struct ksft_thread){ .dev = self->dev, .w = &w, .handle = h }));
	EXPECT_EQ(-1, ksft_threads_join(args, KSFT_THREADS));
	kw_free(&w);
}

/*
 * A process that queues io_uring jobs and exits without reaping them:
 * io_uring waits for the commands, nothing leaks.
 */
TEST(exit_in_flight)
{
	struct ksft_live live;
	const char *why;
	int status;
	pid_t pid;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	live = ksft_live_now();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct bitnet_job job;
		struct bnd_uring *u;
		struct bnd_dev *dev;
		int i;

		if (bnd_open(NULL, &dev) || bnd_uring_open(dev, 16, &u))
			_exit(4);
		if (ksft_busy_job(dev, 90, &job))
			_exit(1);
		for (i = 0; i < 8; i++)
			if (bnd_uring_push(u, &job, i))
				_exit(2);
		_exit(bnd_uring_submit(u) == 8 ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WEXITSTATUS(status) == 4)
		SKIP(return, "io_uring unavailable");
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(ksft_live_back(&live));
}

#define IO_URING_SYSCTL "/proc/sys/kernel/io_uring_disabled"

static int write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(val, f) < 0 ? -EIO : 0;
	return fclose(f) ? -errno : ret;
}

/* With io_uring disabled by sysctl, path B is refused and ring A works. */
TEST(io_uring_disabled)
{
	struct bnd_uring *u = NULL;
	struct bitnet_job job;
	struct bnd_dev *dev;
	const char *why;
	char old[16] = "0";
	FILE *f;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	f = fopen(IO_URING_SYSCTL, "r");
	if (!f)
		SKIP(return, "no %s on this kernel", IO_URING_SYSCTL);
	if (!fgets(old, sizeof(old), f))
		snprintf(old, sizeof(old), "0");
	fclose(f);
	if (write_sysctl(IO_URING_SYSCTL, "2"))
		SKIP(return, "cannot write %s", IO_URING_SYSCTL);
	ASSERT_EQ(0, bnd_open(NULL, &dev));
	EXPECT_NE(0, bnd_uring_open(dev, 8, &u));
	memset(&job, 0, sizeof(job));
	EXPECT_EQ(0, bnd_run(dev, &job));
	bnd_uring_close(u);
	bnd_close(dev);
	EXPECT_EQ(0, write_sysctl(IO_URING_SYSCTL, old));
}

TEST_HARNESS_MAIN
