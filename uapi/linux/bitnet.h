/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * bitnet: ternary x int8 matrix multiplication offload, /dev/bitnet.
 *
 * The one contract between bitnet.ko and userspace. Rules (after
 * Documentation/process/botching-up-ioctls.rst):
 *  - only __u8..__u64 fields, user pointers carried as __u64;
 *  - every struct has explicit padding, which must be zero (-EINVAL);
 *  - every flags field is checked, unknown bits are -EINVAL;
 *  - an unknown ioctl is -ENOTTY;
 *  - extensions come as feature bits in BITNET_IOC_GET_INFO, never as
 *    versioned structs.
 *
 * Model: an open file of /dev/bitnet is a context. It owns weight objects
 * (by handle), at most one submission ring and activation arenas; all are
 * freed when the file is released, jobs in flight included.
 *
 * A weight object is created for one packed ternary tensor of @rows x @cols
 * (M x K, K a multiple of 128), filled from user memory in chunks, then
 * sealed: repacked into the compute core's execution layout and immutable
 * from then on. A sealed object can be exported as a file descriptor and
 * imported read-only by another process; it lives while any handle or
 * exported file refers to it.
 *
 * A job (struct bitnet_job) is the same bytes whichever way it travels: in
 * a struct bitnet_sqe through the device's own mmapped ring (BITNET_IOC_ENTER)
 * or as the payload of an IORING_OP_URING_CMD in a 128-byte io_uring SQE
 * (cmd_op BITNET_URING_CMD_JOB).
 *
 * Matmul semantics, for weight W (M x K, ternary t with one per-tensor scale
 * w_scale) and N tokens of int8 activations q (N x K, token-major, each
 * token's K bytes contiguous) with per-token scale sigma (q = x * sigma):
 *	BITNET_OUT_I32:	out[n * M + m] = sum_k t[m][k] * q[n][k]	(exact)
 *	BITNET_OUT_F32:	out[n * M + m] = (float)acc * (w_scale / sigma[n])
 */
#ifndef _UAPI_LINUX_BITNET_H
#define _UAPI_LINUX_BITNET_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BITNET_ABI_VERSION	1
#define BITNET_DEVICE_NAME	"bitnet"

/* Packed weight formats (struct bitnet_obj_create.format). */
enum bitnet_format {
	/* bitnet.cpp I2_S: 128 weights per 32-byte block, fp32 scale at n/4 */
	BITNET_FMT_I2_S		= 1,
	/* llama.cpp TQ2_0: 256 weights per 66-byte block (codes + fp16 d) */
	BITNET_FMT_TQ2_0	= 2,
	/* llama.cpp TQ1_0: 256 weights per 54-byte block (base-3 + fp16 d) */
	BITNET_FMT_TQ1_0	= 3,
	/*
	 * The compute core's execution layout, as its userspace build
	 * writes it (bnc_repack()); loaded without a repack.
	 */
	BITNET_FMT_EXEC		= 4,
};

/* Feature bits reported in struct bitnet_info.features. */
#define BITNET_FEAT_RING	(1ULL << 0)	/* BITNET_IOC_RING_SETUP/ENTER */
#define BITNET_FEAT_URING_CMD	(1ULL << 1)	/* IORING_OP_URING_CMD */
#define BITNET_FEAT_ARENA	(1ULL << 2)	/* mmapped activation arenas */
#define BITNET_FEAT_EXPORT	(1ULL << 3)	/* object export/import */
#define BITNET_FEAT_OUT_F32	(1ULL << 4)	/* fused float epilogue */
#define BITNET_FEAT_MULTI	(1ULL << 5)	/* BITNET_OP_MATMUL_MULTI */

/* Instruction set the module's compute core runs (struct bitnet_info.isa). */
enum bitnet_isa {
	BITNET_ISA_SCALAR	= 0,
	BITNET_ISA_AVX2		= 1,
	BITNET_ISA_AVX512_VNNI	= 2,
};

/* BITNET_IOC_GET_INFO: flags in must be 0; everything else is output. */
struct bitnet_info {
	__u32 abi_version;		/* BITNET_ABI_VERSION */
	__u32 flags;			/* in: 0 */
	__u64 features;			/* BITNET_FEAT_* */
	__u64 max_object_bytes;		/* one object's packed size */
	__u64 max_file_bytes;		/* all objects of one open file */
	__u64 max_global_bytes;		/* all objects of the module */
	__u64 pinned_bytes;		/* currently pinned, all files */
	__u32 max_rows;			/* M */
	__u32 max_cols;			/* K; also a multiple of 128 */
	__u32 max_tokens;		/* N per job */
	__u32 max_multi;		/* weights per BITNET_OP_MATMUL_MULTI */
	__u32 max_sq_entries;
	__u32 max_cq_entries;
	__u32 max_arena_bytes;
	__u32 nr_workers;		/* CPUs a job's tiles run on */
	__u32 isa;			/* enum bitnet_isa */
	__u32 pad;			/* 0 */
	__u64 reserved[4];		/* 0 */
};

/* BITNET_IOC_OBJ_CREATE */
struct bitnet_obj_create {
	__u32 format;			/* enum bitnet_format */
	__u32 flags;			/* 0 */
	__u32 rows;			/* M */
	__u32 cols;			/* K, multiple of 128 */
	__u64 bytes;			/* packed size in @format; checked */
	__u32 handle;			/* out */
	__u32 pad;			/* 0 */
};

/* BITNET_IOC_OBJ_FILL: copy @len bytes at user @data to @offset. */
struct bitnet_obj_fill {
	__u32 handle;
	__u32 flags;			/* 0 */
	__u64 offset;
	__u64 len;
	__u64 data;			/* user pointer */
};

/* BITNET_IOC_OBJ_SEAL: all bytes must have been filled. */
struct bitnet_obj_seal {
	__u32 handle;
	__u32 flags;			/* 0 */
};

/* BITNET_IOC_OBJ_DESTROY: drops this file's handle. */
struct bitnet_obj_destroy {
	__u32 handle;
	__u32 flags;			/* 0 */
};

#define BITNET_OBJ_SEALED	(1U << 0)	/* bitnet_obj_info.state */
#define BITNET_OBJ_IMPORTED	(1U << 1)	/* handle is read-only import */

/* BITNET_IOC_OBJ_INFO */
struct bitnet_obj_info {
	__u32 handle;			/* in */
	__u32 flags;			/* in: 0 */
	__u32 format;			/* out: format it was created with */
	__u32 state;			/* out: BITNET_OBJ_* */
	__u32 rows;			/* out */
	__u32 cols;			/* out */
	__u64 bytes;			/* out: packed size */
	__u64 pinned_bytes;		/* out: kernel memory it holds */
	__u32 scale_bits;		/* out: fp32 bits of w_scale, sealed */
	__u32 pad;			/* 0 */
};

/* BITNET_IOC_OBJ_EXPORT: sealed objects only. */
#define BITNET_EXPORT_CLOEXEC	(1U << 0)

struct bitnet_obj_export {
	__u32 handle;			/* in */
	__u32 flags;			/* in: BITNET_EXPORT_CLOEXEC */
	__s32 fd;			/* out */
	__u32 pad;			/* 0 */
};

/* BITNET_IOC_OBJ_IMPORT: @fd from BITNET_IOC_OBJ_EXPORT, maybe another pid */
struct bitnet_obj_import {
	__s32 fd;			/* in */
	__u32 flags;			/* in: 0 */
	__u32 handle;			/* out: read-only handle in this file */
	__u32 pad;			/* 0 */
};

/* BITNET_IOC_ARENA_CREATE: kernel memory for activations and outputs. */
struct bitnet_arena_create {
	__u64 size;			/* in: bytes, rounded up to pages */
	__u32 flags;			/* in: 0 */
	__u32 id;			/* out: arena id for jobs */
	__u64 mmap_offset;		/* out: pass to mmap() */
};

/* BITNET_IOC_ARENA_DESTROY: unmapping is the caller's business. */
struct bitnet_arena_destroy {
	__u32 id;
	__u32 flags;			/* 0 */
};

/* ---- jobs ---- */

enum bitnet_op {
	BITNET_OP_NOP		= 0,	/* completes with res 0 */
	BITNET_OP_MATMUL	= 1,	/* one weight: @handle, @out */
	BITNET_OP_MATMUL_MULTI	= 2,	/* @n_weights entries at @weights */
};

enum bitnet_out_type {
	BITNET_OUT_I32		= 0,
	BITNET_OUT_F32		= 1,	/* needs @act_scale */
};

/* Every address in the job is an offset into arena @arena. */
#define BITNET_JOB_ARENA	(1U << 0)
#define BITNET_JOB_FLAGS_ALL	(BITNET_JOB_ARENA)

/* One weight of a BITNET_OP_MATMUL_MULTI job; all share the job's K. */
struct bitnet_job_weight {
	__u32 handle;
	__u32 pad;			/* 0 */
	__u64 out;			/* N x rows of this weight */
};

/*
 * A job: 72 bytes, fits the 80-byte command area of a 128-byte io_uring
 * SQE. Addresses are user pointers, or arena offsets (BITNET_JOB_ARENA).
 */
struct bitnet_job {
	__u8  op;			/* enum bitnet_op */
	__u8  out_type;			/* enum bitnet_out_type */
	__u16 flags;			/* BITNET_JOB_* */
	__u32 n_tokens;			/* N >= 1 */
	__u32 handle;			/* BITNET_OP_MATMUL */
	__u32 n_weights;		/* BITNET_OP_MATMUL_MULTI; else 0 */
	__u64 weights;			/* struct bitnet_job_weight[n_weights] */
	__u64 act;			/* __s8[N][K] */
	__u64 act_scale;		/* float[N] sigma; BITNET_OUT_F32 only */
	__u64 act_sum;			/* __s32[N] sum of q per token, or 0 */
	__u64 out;			/* BITNET_OP_MATMUL: [N][M] */
	__u32 arena;			/* with BITNET_JOB_ARENA */
	__u32 pad;			/* 0 */
	__u64 reserved;			/* 0 */
};

/* ---- submission path A: the device's own rings ---- */

/* Submission queue entry: the job plus what travels with it. */
struct bitnet_sqe {
	__u64 user_data;		/* echoed in the CQE */
	__u32 flags;			/* 0 */
	__u32 pad;			/* 0 */
	struct bitnet_job job;
};

/* Completion queue entry. */
struct bitnet_cqe {
	__u64 user_data;
	__s32 res;			/* 0 or -errno */
	__u32 flags;			/* 0 for now */
};

/* Offsets (bytes) into the BITNET_OFF_RINGS mapping. */
struct bitnet_sq_ring_offsets {
	__u32 head;			/* __u32, written by the kernel */
	__u32 tail;			/* __u32, written by userspace */
	__u32 ring_mask;
	__u32 ring_entries;
	__u32 flags;			/* BITNET_SQ_* */
	__u32 dropped;			/* invalid SQEs skipped (counted) */
	__u32 resv[2];
};

struct bitnet_cq_ring_offsets {
	__u32 head;			/* written by userspace */
	__u32 tail;			/* written by the kernel */
	__u32 ring_mask;
	__u32 ring_entries;
	__u32 overflow;			/* CQEs that waited for space */
	__u32 cqes;			/* struct bitnet_cqe[ring_entries] */
	__u32 resv[2];
};

/* bitnet_sq_ring_offsets.flags bits */
#define BITNET_SQ_CQ_OVERFLOW	(1U << 0)	/* completions are backlogged */

/* mmap() offsets */
#define BITNET_OFF_RINGS	0ULL		/* heads, tails, CQEs */
#define BITNET_OFF_SQES		0x10000000ULL	/* struct bitnet_sqe[] */
#define BITNET_OFF_ARENA_BASE	0x100000000ULL	/* arenas, from CREATE */

/*
 * BITNET_IOC_RING_SETUP: one ring per open file. Entries are rounded up to
 * a power of two; cq_entries 0 means twice sq_entries.
 */
struct bitnet_ring_setup {
	__u32 sq_entries;		/* in/out */
	__u32 cq_entries;		/* in/out */
	__u32 flags;			/* in: 0 */
	__u32 pad;			/* 0 */
	__u64 rings_size;		/* out: bytes to mmap at OFF_RINGS */
	__u64 sqes_size;		/* out: bytes to mmap at OFF_SQES */
	struct bitnet_sq_ring_offsets sq_off;	/* out */
	struct bitnet_cq_ring_offsets cq_off;	/* out */
	__u64 reserved[2];		/* 0 */
};

/* BITNET_IOC_ENTER */
#define BITNET_ENTER_GETEVENTS	(1U << 0)	/* wait for min_complete */

struct bitnet_enter {
	__u32 to_submit;		/* in: SQEs to consume */
	__u32 min_complete;		/* in: with GETEVENTS */
	__u32 flags;			/* in: BITNET_ENTER_* */
	__u32 submitted;		/* out: SQEs consumed */
};

/* ---- ioctls ---- */

#define BITNET_IOC_MAGIC	0xBE

#define BITNET_IOC_GET_INFO	_IOWR(BITNET_IOC_MAGIC, 0x00, struct bitnet_info)
#define BITNET_IOC_OBJ_CREATE	_IOWR(BITNET_IOC_MAGIC, 0x01, struct bitnet_obj_create)
#define BITNET_IOC_OBJ_FILL	_IOW(BITNET_IOC_MAGIC, 0x02, struct bitnet_obj_fill)
#define BITNET_IOC_OBJ_SEAL	_IOW(BITNET_IOC_MAGIC, 0x03, struct bitnet_obj_seal)
#define BITNET_IOC_OBJ_DESTROY	_IOW(BITNET_IOC_MAGIC, 0x04, struct bitnet_obj_destroy)
#define BITNET_IOC_OBJ_INFO	_IOWR(BITNET_IOC_MAGIC, 0x05, struct bitnet_obj_info)
#define BITNET_IOC_OBJ_EXPORT	_IOWR(BITNET_IOC_MAGIC, 0x06, struct bitnet_obj_export)
#define BITNET_IOC_OBJ_IMPORT	_IOWR(BITNET_IOC_MAGIC, 0x07, struct bitnet_obj_import)
#define BITNET_IOC_ARENA_CREATE	_IOWR(BITNET_IOC_MAGIC, 0x08, struct bitnet_arena_create)
#define BITNET_IOC_ARENA_DESTROY _IOW(BITNET_IOC_MAGIC, 0x09, struct bitnet_arena_destroy)
#define BITNET_IOC_RING_SETUP	_IOWR(BITNET_IOC_MAGIC, 0x0a, struct bitnet_ring_setup)
#define BITNET_IOC_ENTER	_IOWR(BITNET_IOC_MAGIC, 0x0b, struct bitnet_enter)

/* ---- submission path B: io_uring ---- */

/*
 * cmd_op of an IORING_OP_URING_CMD; sqe->cmd holds a struct bitnet_job.
 * Encoded like an ioctl number (type, number, direction, payload size), as
 * include/uapi/linux/ublk_cmd.h asks of new uring_cmd opcodes; its numbers
 * start at 0x80, apart from the ioctls'.
 */
#define BITNET_URING_CMD_JOB	_IOWR(BITNET_IOC_MAGIC, 0x80, struct bitnet_job)

#endif /* _UAPI_LINUX_BITNET_H */
