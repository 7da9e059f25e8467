// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: submission path A, the device's own rings. Results
 * against the userspace core on random shapes, batches, MULTI jobs, CQ
 * overflow, poll(), several submitting threads, close and exit with jobs
 * in flight, and one 7B-size matmul.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "ksft_common.h"

KSFT_DEV_FIXTURE(ring);

static int run_dev(void *dev, const struct bitnet_job *job)
{
	return bnd_run(dev, job);
}

static const uint32_t ks[] = { 128, 256, 384, 640, 1024, 2560 };

TEST_F(ring, random_shapes)
{
	uint32_t st = 1234, i;

	for (i = 0; i < 16; i++) {
		uint32_t m = 1 + ksft_rand(&st) % 300, k = ks[ksft_rand(&st) % 6];
		uint32_t n = 1 + ksft_rand(&st) % 9;
		uint8_t out_type = i % 2 ? BITNET_OUT_F32 : BITNET_OUT_I32;

		/* with and without caller-provided sums */
		EXPECT_EQ(-1, ksft_check_shape(self->dev, BNC_FMT_I2_S, m, k, n, out_type, i % 3,
					       100 + i, run_dev, self->dev))
		TH_LOG("%s %ux%u n=%u", out_type == BITNET_OUT_F32 ? "f32" : "i32", m, k, n);
	}
}

/* Q/K/V-style: several weights, one activation, f32 out. */
TEST_F(ring, multi)
{
	static const uint32_t rows[3] = { 256, 64, 64 };
	struct bitnet_job_weight ws[3];
	struct bitnet_job job;
	float *got[3], *want;
	struct kw w[3];
	struct ka a;
	int i;

	ASSERT_EQ(0, ka_make(&a, 4, 256, 31));
	want = calloc(4 * 256, sizeof(float));
	ASSERT_NE(NULL, want);
	memset(ws, 0, sizeof(ws));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kw_make(&w[i], BNC_FMT_I2_S, rows[i], 256, 40 + i));
		ASSERT_EQ(0, kw_load(self->dev, &w[i], &ws[i].handle));
		got[i] = calloc(4 * rows[i], sizeof(float));
		ASSERT_NE(NULL, got[i]);
		ws[i].out = (uintptr_t)got[i];
	}
	bnd_job_multi(&job, ws, 3, 4, a.q, a.sigma, a.sum, BITNET_OUT_F32);
	ASSERT_EQ(0, bnd_run(self->dev, &job));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kw_ref_f32(&w[i], &a, want));
		EXPECT_EQ(-1, ksft_diff_f32(got[i], want, 4 * rows[i])) TH_LOG("weight %d", i);
		free(got[i]);
		kw_free(&w[i]);
	}
	free(want);
	ka_free(&a);
}

/* Many jobs in one ENTER; every user_data comes back once, right result. */
TEST_F(ring, batch)
{
	enum {
		JOBS = 32
	};
	struct ksft_batch b;
	struct bitnet_cqe cqe;
	int seen[JOBS] = { 0 };
	int i, done = 0, ret;

	ASSERT_EQ(0, bnd_ring_setup(self->dev, JOBS, 0));
	ASSERT_EQ(0, ksft_batch_make(&b, self->dev, JOBS, 200, 512, 2, 50, 60));
	for (i = 0; i < JOBS; i++)
		ASSERT_EQ(0, bnd_ring_push(self->dev, &b.jobs[i], 1000 + i));
	ASSERT_EQ(-EBUSY, bnd_ring_push(self->dev, &b.jobs[0], 1));
	ret = bnd_ring_enter(self->dev, JOBS, 1);
	ASSERT_EQ(JOBS, ret);
	while (done < JOBS) {
		if (bnd_ring_pop(self->dev, &cqe) != 1) {
			ASSERT_LE(0, bnd_ring_enter(self->dev, 1, 1));
			continue;
		}
		ASSERT_GE(cqe.user_data, 1000);
		ASSERT_LT(cqe.user_data, 1000 + JOBS);
		EXPECT_EQ(0, cqe.res);
		seen[cqe.user_data - 1000]++;
		done++;
	}
	for (i = 0; i < JOBS; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("job %d", i);
	EXPECT_EQ(-1, ksft_batch_check(&b));
	EXPECT_EQ(0, bnd_ring_overflow(self->dev));
	ksft_batch_free(&b);
}

/* An SQE with bad header fields still gets its CQE, counted as dropped. */
TEST_F(ring, bad_sqe)
{
	struct bitnet_sqe sqe;
	struct bitnet_cqe cqe;

	ASSERT_EQ(0, bnd_ring_setup(self->dev, 4, 0));
	memset(&sqe, 0, sizeof(sqe));
	sqe.user_data = 77;
	sqe.flags = 1;
	ASSERT_EQ(0, bnd_ring_push_sqe(self->dev, &sqe));
	sqe.user_data = 78;
	sqe.flags = 0;
	sqe.pad = 5;
	ASSERT_EQ(0, bnd_ring_push_sqe(self->dev, &sqe));
	sqe.user_data = 79;
	sqe.pad = 0;
	ASSERT_EQ(0, bnd_ring_push_sqe(self->dev, &sqe)); /* a NOP */
	ASSERT_EQ(3, bnd_ring_enter(self->dev, 3, 1));
	ASSERT_EQ(1, bnd_ring_pop(self->dev, &cqe));
	EXPECT_EQ(77, cqe.user_data);
	EXPECT_EQ(-EINVAL, cqe.res);
	ASSERT_EQ(1, bnd_ring_pop(self->dev, &cqe));
	EXPECT_EQ(78, cqe.user_data);
	EXPECT_EQ(-EINVAL, cqe.res);
	ASSERT_EQ(1, bnd_ring_pop(self->dev, &cqe));
	EXPECT_EQ(79, cqe.user_data);
	EXPECT_EQ(0, cqe.res);
	EXPECT_EQ(2, bnd_ring_dropped(self->dev));
}

/*
 * Completions beyond the CQ's size wait in the kernel and are all
 * delivered, in order, once userspace makes room.
 */
TEST_F(ring, cq_overflow)
{
	enum {
		SQ = 4,
		CQ = 4,
		TOTAL = 8
	};
	struct bitnet_job job;
	struct bitnet_cqe cqe;
	int seen[TOTAL] = { 0 }, i, got = 0, ret;

	ASSERT_EQ(0, bnd_ring_setup(self->dev, SQ, CQ));
	ASSERT_EQ(CQ, bnd_ring_cq_entries(self->dev));
	memset(&job, 0, sizeof(job)); /* NOPs: complete at once */
	for (i = 0; i < TOTAL; i++) {
		ASSERT_EQ(0, bnd_ring_push(self->dev, &job, i));
		ASSERT_EQ(1, bnd_ring_enter(self->dev, 0, 0));
	}
	/* The CQ holds 4, the kernel keeps 4 more. */
	EXPECT_EQ(TOTAL - CQ, bnd_ring_overflow(self->dev));
	EXPECT_EQ(BITNET_SQ_CQ_OVERFLOW, bnd_ring_sq_flags(self->dev) & BITNET_SQ_CQ_OVERFLOW);
	/* The backlog is full: more submissions are refused, not lost. */
	ASSERT_EQ(0, bnd_ring_push(self->dev, &job, 99));
	EXPECT_EQ(-EBUSY, bnd_ring_enter(self->dev, 0, 0));
	while (got < TOTAL) {
		ret = bnd_ring_pop(self->dev, &cqe);
		if (ret == 1) {
			ASSERT_LT(cqe.user_data, TOTAL);
			EXPECT_EQ(got, cqe.user_data); /* order kept */
			seen[cqe.user_data]++;
			got++;
			continue;
		}
		/* Make the kernel move backlogged CQEs in (no new SQEs). */
		ASSERT_LE(0, bnd_ring_enter(self->dev, 0, 0)) TH_LOG("got %d", got);
		if (bnd_ring_queued(self->dev))
			break;
	}
	for (i = 0; i < TOTAL; i++)
		EXPECT_EQ(1, seen[i]);
	/* The NOP refused earlier went in on a later ENTER; it comes last. */
	for (i = 0; i < 100; i++) {
		ret = bnd_ring_pop(self->dev, &cqe);
		if (ret == 1)
			break;
		ASSERT_LE(0, bnd_ring_enter(self->dev, 1, 1));
	}
	ASSERT_EQ(1, ret);
	EXPECT_EQ(99, cqe.user_data);
	EXPECT_EQ(0, bnd_ring_sq_flags(self->dev) & BITNET_SQ_CQ_OVERFLOW);
	EXPECT_EQ(0, bnd_ring_pop(self->dev, &cqe));
}

TEST_F(ring, poll)
{
	struct pollfd pfd = { .fd = bnd_fd(self->dev), .events = POLLIN };
	struct bitnet_job job;
	struct bitnet_cqe cqe;

	ASSERT_EQ(0, bnd_ring_setup(self->dev, 4, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	memset(&job, 0, sizeof(job));
	ASSERT_EQ(0, bnd_ring_push(self->dev, &job, 5));
	ASSERT_EQ(1, bnd_ring_enter(self->dev, 0, 0));
	/* Blocks until the completion is posted. */
	ASSERT_EQ(1, poll(&pfd, 1, -1));
	EXPECT_TRUE(pfd.revents & POLLIN);
	ASSERT_EQ(1, bnd_ring_pop(self->dev, &cqe));
	EXPECT_EQ(5, cqe.user_data);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

static void *submit_thread(void *p)
{
	struct ksft_thread *t = p;
	struct bnd_dev *dev;
	uint32_t h;

	if (bnd_open(NULL, &dev)) {
		t->failures++;
		return NULL;
	}
	if (bnd_obj_import(dev, t->export_fd, &h))
		t->failures++;
	else
		t->failures += ksft_check_jobs(t->w, h, 3, 20, t->seed * 100, run_dev, dev);
	bnd_close(dev);
	return NULL;
}

/* Threads with their own files share one exported object. */
TEST_F(ring, threads)
{
	struct ksft_thread args[KSFT_THREADS];
	struct bnd_dev *shared;
	struct bitnet_job job;
	int32_t *out;
	struct kw w;
	struct ka a;
	uint32_t h;
	int i, fd;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 300, 640, 70));
	ASSERT_EQ(0, kw_load(self->dev, &w, &h));
	ASSERT_EQ(0, bnd_obj_export(self->dev, h, BITNET_EXPORT_CLOEXEC, &fd));
	ASSERT_EQ(0, ksft_threads_start(args, KSFT_THREADS, submit_thread,
					&(struct ksft_thread){ .export_fd = fd, .w = &w }));
	/* Meanwhile, several threads on one file through bnd_run(). */
	shared = self->dev;
	ASSERT_EQ(0, ka_make(&a, 1, 640, 5));
	out = calloc(300, sizeof(*out));
	ASSERT_NE(NULL, out);
	bnd_job_matmul(&job, h, 1, a.q, NULL, NULL, out, BITNET_OUT_I32);
	for (i = 0; i < 20; i++)
		EXPECT_EQ(0, bnd_run(shared, &job));
	EXPECT_EQ(-1, ksft_threads_join(args, KSFT_THREADS));
	close(fd);
	free(out);
	ka_free(&a);
	kw_free(&w);
}

/*
 * A process that submits big jobs and exits (or closes) without waiting:
 * nothing leaks, the counters return to where they were.
 */
TEST(exit_in_flight)
{
	struct ksft_live live;
	const char *why;
	int mode, status;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	live = ksft_live_now();
	for (mode = 0; mode < 2; mode++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			struct bitnet_job job;
			struct bnd_dev *dev;
			int i;

			if (bnd_open(NULL, &dev) || ksft_busy_job(dev, 80, &job) ||
			    bnd_ring_setup(dev, 8, 0))
				_exit(1);
			for (i = 0; i < 8; i++) {
				job.out_type = i % 2 ? BITNET_OUT_F32 : BITNET_OUT_I32;
				if (bnd_ring_push(dev, &job, i))
					_exit(2);
			}
			if (bnd_ring_enter(dev, 0, 0) != 8)
				_exit(3);
			if (mode == 1)
				close(bnd_fd(dev)); /* mappings keep the file */
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("mode %d", mode);
	}
	EXPECT_TRUE(ksft_live_back(&live));
}

/*
 * A 7B-size projection (11008 x 4096): many tiles, each a bounded FPU
 * section; the harness fails the run on any lockup or stall report.
 */
TEST_F(ring, big_matmul)
{
	struct bitnet_job job;
	int32_t *got, *want;
	struct kw w;
	struct ka a;
	uint32_t h;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 11008, 4096, 90));
	ASSERT_EQ(0, ka_make(&a, 1, 4096, 91));
	ASSERT_EQ(0, kw_load(self->dev, &w, &h));
	got = calloc(11008, sizeof(*got));
	want = calloc(11008, sizeof(*want));
	ASSERT_TRUE(got && want);
	bnd_job_matmul(&job, h, 1, a.q, NULL, NULL, got, BITNET_OUT_I32);
	ASSERT_EQ(0, bnd_run(self->dev, &job));
	ASSERT_EQ(0, kw_ref_i32(&w, &a, want));
	EXPECT_EQ(-1, ksft_diff_i32(got, want, 11008));
	free(got);
	free(want);
	ka_free(&a);
	kw_free(&w);
}

TEST_HARNESS_MAIN
