// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: every ioctl's happy path and its documented errors for
 * bad input (see man/bitnet.4).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "ksft_common.h"

static int raw_ioctl(struct bnd_dev *dev, unsigned long req, void *arg)
{
	return ioctl(bnd_fd(dev), req, arg) < 0 ? -errno : 0;
}

KSFT_DEV_FIXTURE(dev);

TEST_F(dev, get_info)
{
	const struct bitnet_info *info = bnd_info(self->dev);
	struct bitnet_info in = { .flags = 1 };
	uint64_t need = BITNET_FEAT_RING | BITNET_FEAT_ARENA | BITNET_FEAT_EXPORT |
			BITNET_FEAT_OUT_F32 | BITNET_FEAT_MULTI;

	EXPECT_EQ(BITNET_ABI_VERSION, info->abi_version);
	EXPECT_EQ(need, info->features & need);
	EXPECT_EQ(0, info->max_cols % 128);
	EXPECT_GE(info->max_tokens, 1);
	EXPECT_GE(info->nr_workers, 1);
	EXPECT_LE(info->isa, BITNET_ISA_AVX512_VNNI);
	EXPECT_EQ(0, info->pad);
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_GET_INFO, &in));
}

TEST_F(dev, unknown_ioctl)
{
	char buf[256] = { 0 };

	EXPECT_EQ(-ENOTTY, raw_ioctl(self->dev, _IO(BITNET_IOC_MAGIC, 0x7f), buf));
	/* A known number with the wrong size is a different ioctl. */
	EXPECT_EQ(-ENOTTY, raw_ioctl(self->dev, _IOWR(BITNET_IOC_MAGIC, 0x00, __u64), buf));
	EXPECT_EQ(-ENOTTY, raw_ioctl(self->dev, _IOWR('T', 0x01, struct bitnet_obj_create), buf));
}

TEST_F(dev, object_lifecycle)
{
	struct bitnet_obj_info oi;
	struct kw w;
	uint64_t off;
	uint32_t h;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 70, 256, 1));
	ASSERT_EQ(0, bnd_obj_create(self->dev, w.fmt, w.rows, w.cols, w.bytes, &h));
	ASSERT_EQ(0, bnd_obj_info(self->dev, h, &oi));
	EXPECT_EQ(0, oi.state);
	EXPECT_EQ(w.bytes, oi.bytes);
	/* Chunks in order, with an overlap (rewrites are allowed). */
	for (off = 0; off < w.bytes; off += 1000) {
		uint64_t n = w.bytes - off < 1100 ? w.bytes - off : 1100;

		ASSERT_EQ(0, bnd_obj_fill(self->dev, h, off, (char *)w.packed + off, n));
	}
	ASSERT_EQ(0, bnd_obj_seal(self->dev, h));
	ASSERT_EQ(0, bnd_obj_info(self->dev, h, &oi));
	EXPECT_EQ(BITNET_OBJ_SEALED, oi.state);
	EXPECT_EQ(BNC_FMT_I2_S, oi.format);
	EXPECT_EQ(70, oi.rows);
	EXPECT_EQ(256, oi.cols);
	EXPECT_EQ(w.scale_bits, oi.scale_bits);
	EXPECT_EQ(bnc_exec_size(70, 256), oi.pinned_bytes);
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h));
	EXPECT_EQ(-ENOENT, bnd_obj_destroy(self->dev, h));
	EXPECT_EQ(-ENOENT, bnd_obj_info(self->dev, h, &oi));
	kw_free(&w);
}

/* Each format loads and gives the core's results. */
TEST_F(dev, formats)
{
	static const uint32_t fmts[] = {
		BNC_FMT_I2_S,
		BNC_FMT_TQ2_0,
		BNC_FMT_TQ1_0,
		BNC_FMT_EXEC,
	};
	struct bitnet_job job;
	int32_t *got, *want;
	unsigned int i;
	struct ka a;
	struct kw w;
	uint32_t h;

	ASSERT_EQ(0, ka_make(&a, 3, 512, 2));
	got = calloc(3 * 48, sizeof(*got));
	want = calloc(3 * 48, sizeof(*want));
	ASSERT_TRUE(got && want);
	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		ASSERT_EQ(0, kw_make(&w, fmts[i], 48, 512, 10 + i));
		ASSERT_EQ(0, kw_load(self->dev, &w, &h)) TH_LOG("format %u", fmts[i]);
		ASSERT_EQ(0, kw_ref_i32(&w, &a, want));
		memset(got, 0x5a, 3 * 48 * sizeof(*got));
		bnd_job_matmul(&job, h, 3, a.q, NULL, NULL, got, BITNET_OUT_I32);
		EXPECT_EQ(0, bnd_run(self->dev, &job));
		EXPECT_EQ(-1, ksft_diff_i32(got, want, 3 * 48)) TH_LOG("format %u", fmts[i]);
		EXPECT_EQ(0, bnd_obj_destroy(self->dev, h));
		kw_free(&w);
	}
	free(got);
	free(want);
	ka_free(&a);
}

TEST_F(dev, create_bad)
{
	const struct bitnet_info *info = bnd_info(self->dev);
	size_t ok = bnc_packed_size(BNC_FMT_I2_S, 16, 256);
	struct bitnet_obj_create c;
	uint32_t h;

	memset(&c, 0, sizeof(c));
	c.format = BNC_FMT_I2_S;
	c.rows = 16;
	c.cols = 256;
	c.bytes = ok;
	c.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_CREATE, &c));
	c.flags = 0;
	c.pad = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_CREATE, &c));
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, 0, 16, 256, ok, &h));
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, 5, 16, 256, ok, &h));
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_I2_S, 0, 256, ok, &h));
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_I2_S, 16, 0, ok, &h));
	/* K not a multiple of 128 */
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_I2_S, 16, 200,
					  bnc_packed_size(BNC_FMT_I2_S, 16, 256), &h));
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_I2_S, 16, 256, ok + 1, &h));
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_I2_S, 16, 256, 0, &h));
	/* the device's execution buffers are R16: a T5 one's size is refused */
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_EXEC, 16, 256,
					  bnc_layout_size(BNC_LAYOUT_T5, 16, 256), &h));
	/* TQ2_0 rows must hold whole 256-weight blocks */
	EXPECT_EQ(-EINVAL, bnd_obj_create(self->dev, BNC_FMT_TQ2_0, 16, 384, 16 * 384, &h));
	/* huge */
	EXPECT_EQ(-E2BIG, bnd_obj_create(self->dev, BNC_FMT_I2_S, info->max_rows + 1, 256,
					 (uint64_t)(info->max_rows + 1) * 64 + 32, &h));
	EXPECT_EQ(-E2BIG, bnd_obj_create(self->dev, BNC_FMT_I2_S, info->max_rows, info->max_cols,
					 (uint64_t)info->max_rows * info->max_cols / 4 + 32, &h));
	EXPECT_EQ(-EFAULT, raw_ioctl(self->dev, BITNET_IOC_OBJ_CREATE, (void *)16));
}

TEST_F(dev, fill_bad)
{
	struct bitnet_obj_fill f;
	void *none;
	struct kw w;
	uint32_t h;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 32, 256, 3));
	ASSERT_EQ(0, bnd_obj_create(self->dev, w.fmt, w.rows, w.cols, w.bytes, &h));
	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);

	EXPECT_EQ(-ENOENT, bnd_obj_fill(self->dev, h + 1000, 0, w.packed, 16));
	memset(&f, 0, sizeof(f));
	f.handle = h;
	f.flags = 1;
	f.len = 16;
	f.data = (uintptr_t)w.packed;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_FILL, &f));
	EXPECT_EQ(-EINVAL, bnd_obj_fill(self->dev, h, 0, w.packed, 0));
	/* past the end, and an offset+len that wraps */
	EXPECT_EQ(-EINVAL, bnd_obj_fill(self->dev, h, 0, w.packed, w.bytes + 1));
	EXPECT_EQ(-EINVAL, bnd_obj_fill(self->dev, h, w.bytes, w.packed, 1));
	EXPECT_EQ(-EINVAL, bnd_obj_fill(self->dev, h, ~0ULL - 2, w.packed, 16));
	/* a hole */
	EXPECT_EQ(-EINVAL, bnd_obj_fill(self->dev, h, 64, w.packed, 16));
	/* unmapped user memory */
	EXPECT_EQ(-EFAULT, bnd_obj_fill(self->dev, h, 0, none, 16));
	EXPECT_EQ(-EFAULT, bnd_obj_fill(self->dev, h, 0, (void *)8, 16));
	/* incomplete seal, then complete */
	EXPECT_EQ(0, bnd_obj_fill(self->dev, h, 0, w.packed, w.bytes / 2));
	EXPECT_EQ(-ENODATA, bnd_obj_seal(self->dev, h));
	EXPECT_EQ(0, bnd_obj_fill(self->dev, h, w.bytes / 2, (char *)w.packed + w.bytes / 2,
				  w.bytes - w.bytes / 2));
	EXPECT_EQ(0, bnd_obj_seal(self->dev, h));
	/* sealed: immutable */
	EXPECT_EQ(-EPERM, bnd_obj_fill(self->dev, h, 0, w.packed, 16));
	EXPECT_EQ(-EPERM, bnd_obj_seal(self->dev, h));
	munmap(none, 4096);
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h));
	kw_free(&w);
}

TEST_F(dev, bad_tq2_scales)
{
	struct kw w;
	uint32_t h;

	/* Two blocks with different non-zero scales: not a per-tensor weight. */
	ASSERT_EQ(0, kw_make(&w, BNC_FMT_TQ2_0, 16, 512, 4));
	((uint8_t *)w.packed)[64] ^= 0x01; /* first block's fp16 d, low byte */
	EXPECT_EQ(-EINVAL,
		  bnd_obj_load(self->dev, w.fmt, w.rows, w.cols, w.packed, w.bytes, 0, &h));
	kw_free(&w);
}

TEST_F(dev, destroy_and_info_bad)
{
	struct bitnet_obj_destroy d = { .handle = 1, .flags = 2 };
	struct bitnet_obj_info oi;

	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_DESTROY, &d));
	EXPECT_EQ(-ENOENT, bnd_obj_destroy(self->dev, 0));
	EXPECT_EQ(-ENOENT, bnd_obj_destroy(self->dev, 0xffffffff));
	memset(&oi, 0, sizeof(oi));
	oi.handle = 1;
	oi.pad = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_INFO, &oi));
	EXPECT_EQ(-ENOENT, bnd_obj_info(self->dev, 12345, &oi));
}

TEST_F(dev, export_import_bad)
{
	struct bitnet_obj_export e;
	struct bitnet_obj_import im;
	struct kw w;
	uint32_t h, h2;
	int fd, nullfd;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 16, 128, 5));
	ASSERT_EQ(0, bnd_obj_create(self->dev, w.fmt, w.rows, w.cols, w.bytes, &h));
	EXPECT_EQ(-EBUSY, bnd_obj_export(self->dev, h, 0, &fd));
	ASSERT_EQ(0, bnd_obj_fill(self->dev, h, 0, w.packed, w.bytes));
	ASSERT_EQ(0, bnd_obj_seal(self->dev, h));
	EXPECT_EQ(-EINVAL, bnd_obj_export(self->dev, h, 0x10, &fd));
	memset(&e, 0, sizeof(e));
	e.handle = h;
	e.pad = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_EXPORT, &e));
	EXPECT_EQ(-ENOENT, bnd_obj_export(self->dev, h + 99, 0, &fd));

	EXPECT_EQ(-EBADF, bnd_obj_import(self->dev, -1, &h2));
	EXPECT_EQ(-EBADF, bnd_obj_import(self->dev, 100000, &h2));
	nullfd = open("/dev/null", O_RDONLY);
	ASSERT_GE(nullfd, 0);
	EXPECT_EQ(-EINVAL, bnd_obj_import(self->dev, nullfd, &h2));
	EXPECT_EQ(-EINVAL, bnd_obj_import(self->dev, bnd_fd(self->dev), &h2));
	close(nullfd);
	memset(&im, 0, sizeof(im));
	im.fd = 0;
	im.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_OBJ_IMPORT, &im));

	/* Import into the same file works; the handle is read-only. */
	ASSERT_EQ(0, bnd_obj_export(self->dev, h, BITNET_EXPORT_CLOEXEC, &fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, bnd_obj_import(self->dev, fd, &h2));
	EXPECT_NE(h, h2);
	EXPECT_EQ(-EPERM, bnd_obj_fill(self->dev, h2, 0, w.packed, 16));
	EXPECT_EQ(-EPERM, bnd_obj_seal(self->dev, h2));
	/* double close of the exported fd */
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(-1, close(fd));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h));
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h2));
	kw_free(&w);
}

TEST_F(dev, arena)
{
	const struct bitnet_info *info = bnd_info(self->dev);
	struct bitnet_arena_create c;
	struct bitnet_arena_destroy d;
	struct bnd_arena ar;
	struct bitnet_job job;
	int32_t *want;
	struct ka a;
	struct kw w;
	uint32_t h;
	uint8_t *p;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 100, 384, 6));
	ASSERT_EQ(0, ka_make(&a, 5, 384, 7));
	ASSERT_EQ(0, kw_load(self->dev, &w, &h));
	want = calloc(5 * 100, sizeof(*want));
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, kw_ref_i32(&w, &a, want));

	ASSERT_EQ(0, bnd_arena_create(self->dev, 10000, &ar));
	p = ar.ptr;
	memcpy(p + 64, a.q, 5 * 384);
	memcpy(p + 4096, a.sum, 5 * 4);
	memset(&job, 0, sizeof(job));
	job.op = BITNET_OP_MATMUL;
	job.flags = BITNET_JOB_ARENA;
	job.arena = ar.id;
	job.n_tokens = 5;
	job.handle = h;
	job.act = 64;
	job.act_sum = 4096;
	job.out = 4096 + 64;
	EXPECT_EQ(0, bnd_run(self->dev, &job));
	EXPECT_EQ(-1, ksft_diff_i32((int32_t *)(p + 4096 + 64), want, 5 * 100));

	/* out of the arena, misaligned, no such arena */
	job.out = ar.size - 100;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	job.out = 4096 + 66;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	job.out = 4096 + 64;
	job.act = ~0ULL - 10;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	job.act = 64;
	job.arena = ar.id + 1;
	EXPECT_EQ(-ENOENT, bnd_run(self->dev, &job));
	job.flags = 0;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));

	memset(&c, 0, sizeof(c));
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_ARENA_CREATE, &c));
	c.size = 4096;
	c.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_ARENA_CREATE, &c));
	c.flags = 0;
	c.size = (uint64_t)info->max_arena_bytes + 4096;
	EXPECT_EQ(-E2BIG, raw_ioctl(self->dev, BITNET_IOC_ARENA_CREATE, &c));
	c.size = ~0ULL;
	EXPECT_EQ(-E2BIG, raw_ioctl(self->dev, BITNET_IOC_ARENA_CREATE, &c));
	/* a mapping at an offset no arena has */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, bnd_fd(self->dev),
				   (off_t)(BITNET_OFF_ARENA_BASE + (77ULL << 32))));
	/* private mappings would not see the kernel's writes */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, bnd_fd(self->dev),
				   (off_t)(BITNET_OFF_ARENA_BASE + ((uint64_t)ar.id << 32))));

	/* MULTI with the weight list, scales and f32 outputs in the arena too */
	{
		struct bitnet_job_weight *ws = (void *)(p + 2048);
		float *wantf = calloc(5 * 100, sizeof(float));

		ASSERT_NE(NULL, wantf);
		ASSERT_EQ(0, kw_ref_f32(&w, &a, wantf));
		memcpy(p + 2112, a.sigma, 5 * sizeof(float));
		memset(ws, 0, 2 * sizeof(*ws));
		ws[0].handle = h;
		ws[0].out = 4096 + 64;
		ws[1].handle = h;
		ws[1].out = 4096 + 64 + 5 * 100 * 4;
		memset(&job, 0, sizeof(job));
		job.op = BITNET_OP_MATMUL_MULTI;
		job.out_type = BITNET_OUT_F32;
		job.flags = BITNET_JOB_ARENA;
		job.arena = ar.id;
		job.n_tokens = 5;
		job.n_weights = 2;
		job.weights = 2048;
		job.act = 64;
		job.act_scale = 2112;
		EXPECT_EQ(0, bnd_run(self->dev, &job));
		EXPECT_EQ(-1, ksft_diff_f32((float *)(p + 4096 + 64), wantf, 5 * 100));
		EXPECT_EQ(-1, ksft_diff_f32((float *)(p + 4096 + 64 + 2000), wantf, 5 * 100));
		job.weights = ar.size - 8; /* list runs off the arena */
		EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
		free(wantf);
	}

	EXPECT_EQ(0, bnd_arena_destroy(self->dev, &ar));
	memset(&d, 0, sizeof(d));
	d.id = ar.id;
	EXPECT_EQ(-ENOENT, raw_ioctl(self->dev, BITNET_IOC_ARENA_DESTROY, &d));
	d.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_ARENA_DESTROY, &d));
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h));
	free(want);
	ka_free(&a);
	kw_free(&w);
}

TEST_F(dev, job_bad)
{
	const struct bitnet_info *info = bnd_info(self->dev);
	struct bitnet_job_weight ws[2];
	struct bitnet_job job, good;
	struct kw w, w2;
	void *ro, *none;
	int32_t *out;
	struct ka a;
	uint32_t h, h2, hu;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 32, 256, 8));
	ASSERT_EQ(0, kw_make(&w2, BNC_FMT_I2_S, 32, 384, 9));
	ASSERT_EQ(0, ka_make(&a, 2, 256, 10));
	ASSERT_EQ(0, kw_load(self->dev, &w, &h));
	ASSERT_EQ(0, kw_load(self->dev, &w2, &h2));
	ASSERT_EQ(0, bnd_obj_create(self->dev, w.fmt, w.rows, w.cols, w.bytes, &hu));
	out = calloc(2 * 32, sizeof(*out));
	ASSERT_NE(NULL, out);
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, none);

	bnd_job_matmul(&good, h, 2, a.q, a.sigma, NULL, out, BITNET_OUT_I32);
	EXPECT_EQ(0, bnd_run(self->dev, &good));

#define BAD(err, field, val)                                             \
	do {                                                             \
		job = good;                                              \
		job.field = (val);                                       \
		EXPECT_EQ(err, bnd_run(self->dev, &job)) TH_LOG(#field); \
	} while (0)
	BAD(-EINVAL, flags, 0x8000);
	BAD(-EINVAL, pad, 1);
	BAD(-EINVAL, reserved, 1);
	BAD(-EINVAL, op, 9);
	BAD(-EINVAL, out_type, 7);
	BAD(-EINVAL, n_tokens, 0);
	BAD(-E2BIG, n_tokens, info->max_tokens + 1);
	BAD(-ENOENT, handle, h + 1000);
	BAD(-EBUSY, handle, hu);    /* unsealed */
	BAD(-EINVAL, arena, 3);	    /* without the flag */
	BAD(-EINVAL, n_weights, 1); /* MATMUL with weights */
	BAD(-EFAULT, act, (uintptr_t)none);
	BAD(-EFAULT, act, 0x1000);
	BAD(-EINVAL, act, 0);
	BAD(-EFAULT, act_sum, (uintptr_t)none);
	BAD(-EFAULT, out, (uintptr_t)ro); /* read-only output */
	BAD(-EFAULT, out, (uintptr_t)none);
	BAD(-EINVAL, out, (uintptr_t)out + 2); /* misaligned */
	BAD(-EINVAL, out, 0);
	job = good;
	job.out_type = BITNET_OUT_F32;
	job.act_scale = 0;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	job.act_scale = (uintptr_t)none;
	EXPECT_EQ(-EFAULT, bnd_run(self->dev, &job));

	/* MULTI: shapes must share K, counts bounded */
	memset(ws, 0, sizeof(ws));
	ws[0].handle = h;
	ws[0].out = (uintptr_t)out;
	ws[1].handle = h2;
	ws[1].out = (uintptr_t)out;
	bnd_job_multi(&job, ws, 2, 2, a.q, NULL, NULL, BITNET_OUT_I32);
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	ws[1].handle = h;
	ws[1].pad = 1;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	ws[1].pad = 0;
	EXPECT_EQ(0, bnd_run(self->dev, &job));
	job.n_weights = 0;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));
	job.n_weights = info->max_multi + 1;
	EXPECT_EQ(-E2BIG, bnd_run(self->dev, &job));
	job.n_weights = 2;
	job.weights = (uintptr_t)none;
	EXPECT_EQ(-EFAULT, bnd_run(self->dev, &job));
	job.weights = (uintptr_t)ws;
	job.handle = h;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));

	/* NOP */
	memset(&job, 0, sizeof(job));
	EXPECT_EQ(0, bnd_run(self->dev, &job));
	job.flags = 2;
	EXPECT_EQ(-EINVAL, bnd_run(self->dev, &job));

	munmap(ro, 4096);
	munmap(none, 4096);
	free(out);
	ka_free(&a);
	kw_free(&w);
	kw_free(&w2);
}

TEST_F(dev, ring_setup_and_enter_bad)
{
	const struct bitnet_info *info = bnd_info(self->dev);
	struct bitnet_ring_setup s;
	struct bitnet_enter e;

	memset(&e, 0, sizeof(e));
	EXPECT_EQ(-ENXIO, raw_ioctl(self->dev, BITNET_IOC_ENTER, &e));
	memset(&s, 0, sizeof(s));
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	s.sq_entries = 8;
	s.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	s.flags = 0;
	s.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	s.reserved[1] = 0;
	s.cq_entries = 4;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	s.cq_entries = 0;
	s.sq_entries = info->max_sq_entries + 1;
	EXPECT_EQ(-E2BIG, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	s.sq_entries = 0x80000000u;
	EXPECT_EQ(-E2BIG, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));

	s.sq_entries = 5;
	ASSERT_EQ(0, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	EXPECT_EQ(8, s.sq_entries);
	EXPECT_EQ(16, s.cq_entries);
	EXPECT_EQ(-EBUSY, raw_ioctl(self->dev, BITNET_IOC_RING_SETUP, &s));
	e.flags = 4;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->dev, BITNET_IOC_ENTER, &e));
	/* Nothing queued, nothing in flight: GETEVENTS returns at once. */
	e.flags = BITNET_ENTER_GETEVENTS;
	e.min_complete = 4;
	EXPECT_EQ(0, raw_ioctl(self->dev, BITNET_IOC_ENTER, &e));
	EXPECT_EQ(0, e.submitted);
	/* unknown mmap offsets */
	EXPECT_EQ(MAP_FAILED,
		  mmap(NULL, 4096, PROT_READ, MAP_SHARED, bnd_fd(self->dev), 0x20000000));
}

/* Per-file memory limit (module parameter): ENOMEM beyond it. */
TEST_F(dev, file_limit)
{
	char old[64];
	struct kw w;
	uint32_t h1, h2;
	int ret;

	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 256, 1024, 11));
	ret = ksft_param_set("max_file_bytes", "150000", old, sizeof(old));
	if (ret)
		SKIP(goto out, "cannot set max_file_bytes: %s", strerror(-ret));
	/*
	 * Unsealed, an object holds stage + layout (~131 KB); sealed, the
	 * layout (~66 KB). One fits, a second being created does not.
	 */
	EXPECT_EQ(0, kw_load(self->dev, &w, &h1));
	EXPECT_EQ(-ENOMEM, bnd_obj_create(self->dev, w.fmt, w.rows, w.cols, w.bytes, &h2));
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h1));
	EXPECT_EQ(0, kw_load(self->dev, &w, &h1));
	EXPECT_EQ(0, bnd_obj_destroy(self->dev, h1));
	EXPECT_EQ(0, ksft_param_set("max_file_bytes", old, NULL, 0));
out:
	kw_free(&w);
}

/* Closing a file frees what it created; counters go back. */
TEST(close_frees)
{
	long long objs0, pinned0;
	struct bnd_dev *dev;
	const char *why;
	struct kw w;
	uint32_t h;
	int i, fd;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	objs0 = ksft_stat("live_objects");
	pinned0 = ksft_stat("pinned_bytes");
	ASSERT_GE(objs0, 0);
	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 64, 256, 12));
	ASSERT_EQ(0, bnd_open(NULL, &dev));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, kw_load(dev, &w, &h));
	ASSERT_EQ(0, bnd_obj_create(dev, w.fmt, w.rows, w.cols, w.bytes, &h));
	EXPECT_EQ(objs0 + 6, ksft_stat("live_objects"));
	EXPECT_LT(pinned0, ksft_stat("pinned_bytes"));
	fd = bnd_fd(dev);
	bnd_close(dev);
	EXPECT_EQ(objs0, ksft_stat_wait("live_objects", objs0));
	EXPECT_EQ(pinned0, ksft_stat_wait("pinned_bytes", pinned0));
	/* double close of the device fd */
	EXPECT_EQ(-1, close(fd));
	EXPECT_EQ(EBADF, errno);
	kw_free(&w);
}

TEST_HARNESS_MAIN
