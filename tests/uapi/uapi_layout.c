// SPDX-License-Identifier: GPL-2.0
/*
 * The layout of every struct in uapi/linux/bitnet.h, written down by hand
 * and asserted at compile time: a change that moves a field or changes a
 * size breaks the ABI and fails this build. It is built for x86-64 and for
 * i386 (-m32), where __u64 is only 4-byte aligned, so 32-bit callers see
 * the same layout. At run time it prints the layout and the ioctl numbers,
 * so the two builds' outputs can be compared line by line.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/bitnet.h>

#define FIELD(s, f, off) _Static_assert(offsetof(struct s, f) == (off), #s "." #f " at " #off)
#define SIZE(s, size) _Static_assert(sizeof(struct s) == (size), "sizeof " #s " is " #size)

SIZE(bitnet_info, 120);
FIELD(bitnet_info, abi_version, 0);
FIELD(bitnet_info, flags, 4);
FIELD(bitnet_info, features, 8);
FIELD(bitnet_info, max_object_bytes, 16);
FIELD(bitnet_info, max_file_bytes, 24);
FIELD(bitnet_info, max_global_bytes, 32);
FIELD(bitnet_info, pinned_bytes, 40);
FIELD(bitnet_info, max_rows, 48);
FIELD(bitnet_info, max_cols, 52);
FIELD(bitnet_info, max_tokens, 56);
FIELD(bitnet_info, max_multi, 60);
FIELD(bitnet_info, max_sq_entries, 64);
FIELD(bitnet_info, max_cq_entries, 68);
FIELD(bitnet_info, max_arena_bytes, 72);
FIELD(bitnet_info, nr_workers, 76);
FIELD(bitnet_info, isa, 80);
FIELD(bitnet_info, pad, 84);
FIELD(bitnet_info, reserved, 88);

SIZE(bitnet_obj_create, 32);
FIELD(bitnet_obj_create, format, 0);
FIELD(bitnet_obj_create, flags, 4);
FIELD(bitnet_obj_create, rows, 8);
FIELD(bitnet_obj_create, cols, 12);
FIELD(bitnet_obj_create, bytes, 16);
FIELD(bitnet_obj_create, handle, 24);
FIELD(bitnet_obj_create, pad, 28);

SIZE(bitnet_obj_fill, 32);
FIELD(bitnet_obj_fill, handle, 0);
FIELD(bitnet_obj_fill, flags, 4);
FIELD(bitnet_obj_fill, offset, 8);
FIELD(bitnet_obj_fill, len, 16);
FIELD(bitnet_obj_fill, data, 24);

SIZE(bitnet_obj_seal, 8);
FIELD(bitnet_obj_seal, handle, 0);
FIELD(bitnet_obj_seal, flags, 4);

SIZE(bitnet_obj_destroy, 8);
FIELD(bitnet_obj_destroy, handle, 0);
FIELD(bitnet_obj_destroy, flags, 4);

SIZE(bitnet_obj_info, 48);
FIELD(bitnet_obj_info, handle, 0);
FIELD(bitnet_obj_info, flags, 4);
FIELD(bitnet_obj_info, format, 8);
FIELD(bitnet_obj_info, state, 12);
FIELD(bitnet_obj_info, rows, 16);
FIELD(bitnet_obj_info, cols, 20);
FIELD(bitnet_obj_info, bytes, 24);
FIELD(bitnet_obj_info, pinned_bytes, 32);
FIELD(bitnet_obj_info, scale_bits, 40);
FIELD(bitnet_obj_info, pad, 44);

SIZE(bitnet_obj_export, 16);
FIELD(bitnet_obj_export, handle, 0);
FIELD(bitnet_obj_export, flags, 4);
FIELD(bitnet_obj_export, fd, 8);
FIELD(bitnet_obj_export, pad, 12);

SIZE(bitnet_obj_import, 16);
FIELD(bitnet_obj_import, fd, 0);
FIELD(bitnet_obj_import, flags, 4);
FIELD(bitnet_obj_import, handle, 8);
FIELD(bitnet_obj_import, pad, 12);

SIZE(bitnet_arena_create, 24);
FIELD(bitnet_arena_create, size, 0);
FIELD(bitnet_arena_create, flags, 8);
FIELD(bitnet_arena_create, id, 12);
FIELD(bitnet_arena_create, mmap_offset, 16);

SIZE(bitnet_arena_destroy, 8);
FIELD(bitnet_arena_destroy, id, 0);
FIELD(bitnet_arena_destroy, flags, 4);

SIZE(bitnet_job_weight, 16);
FIELD(bitnet_job_weight, handle, 0);
FIELD(bitnet_job_weight, pad, 4);
FIELD(bitnet_job_weight, out, 8);

SIZE(bitnet_job, 72);
FIELD(bitnet_job, op, 0);
FIELD(bitnet_job, out_type, 1);
FIELD(bitnet_job, flags, 2);
FIELD(bitnet_job, n_tokens, 4);
FIELD(bitnet_job, handle, 8);
FIELD(bitnet_job, n_weights, 12);
FIELD(bitnet_job, weights, 16);
FIELD(bitnet_job, act, 24);
FIELD(bitnet_job, act_scale, 32);
FIELD(bitnet_job, act_sum, 40);
FIELD(bitnet_job, out, 48);
FIELD(bitnet_job, arena, 56);
FIELD(bitnet_job, pad, 60);
FIELD(bitnet_job, reserved, 64);
/* It travels in the 80-byte command area of a 128-byte io_uring SQE. */
_Static_assert(sizeof(struct bitnet_job) <= 80, "bitnet_job fits an SQE128 cmd");

SIZE(bitnet_sqe, 88);
FIELD(bitnet_sqe, user_data, 0);
FIELD(bitnet_sqe, flags, 8);
FIELD(bitnet_sqe, pad, 12);
FIELD(bitnet_sqe, job, 16);

SIZE(bitnet_cqe, 16);
FIELD(bitnet_cqe, user_data, 0);
FIELD(bitnet_cqe, res, 8);
FIELD(bitnet_cqe, flags, 12);

SIZE(bitnet_sq_ring_offsets, 32);
FIELD(bitnet_sq_ring_offsets, head, 0);
FIELD(bitnet_sq_ring_offsets, tail, 4);
FIELD(bitnet_sq_ring_offsets, ring_mask, 8);
FIELD(bitnet_sq_ring_offsets, ring_entries, 12);
FIELD(bitnet_sq_ring_offsets, flags, 16);
FIELD(bitnet_sq_ring_offsets, dropped, 20);
FIELD(bitnet_sq_ring_offsets, resv, 24);

SIZE(bitnet_cq_ring_offsets, 32);
FIELD(bitnet_cq_ring_offsets, head, 0);
FIELD(bitnet_cq_ring_offsets, tail, 4);
FIELD(bitnet_cq_ring_offsets, ring_mask, 8);
FIELD(bitnet_cq_ring_offsets, ring_entries, 12);
FIELD(bitnet_cq_ring_offsets, overflow, 16);
FIELD(bitnet_cq_ring_offsets, cqes, 20);
FIELD(bitnet_cq_ring_offsets, resv, 24);

SIZE(bitnet_ring_setup, 112);
FIELD(bitnet_ring_setup, sq_entries, 0);
FIELD(bitnet_ring_setup, cq_entries, 4);
FIELD(bitnet_ring_setup, flags, 8);
FIELD(bitnet_ring_setup, pad, 12);
FIELD(bitnet_ring_setup, rings_size, 16);
FIELD(bitnet_ring_setup, sqes_size, 24);
FIELD(bitnet_ring_setup, sq_off, 32);
FIELD(bitnet_ring_setup, cq_off, 64);
FIELD(bitnet_ring_setup, reserved, 96);

SIZE(bitnet_enter, 16);
FIELD(bitnet_enter, to_submit, 0);
FIELD(bitnet_enter, min_complete, 4);
FIELD(bitnet_enter, flags, 8);
FIELD(bitnet_enter, submitted, 12);

#define PRINT_SIZE(s) printf("sizeof %s %zu\n", #s, sizeof(struct s))
#define PRINT_IOC(n) printf("%s 0x%08lx\n", #n, (unsigned long)(n))

int main(void)
{
	PRINT_SIZE(bitnet_info);
	PRINT_SIZE(bitnet_obj_create);
	PRINT_SIZE(bitnet_obj_fill);
	PRINT_SIZE(bitnet_obj_seal);
	PRINT_SIZE(bitnet_obj_destroy);
	PRINT_SIZE(bitnet_obj_info);
	PRINT_SIZE(bitnet_obj_export);
	PRINT_SIZE(bitnet_obj_import);
	PRINT_SIZE(bitnet_arena_create);
	PRINT_SIZE(bitnet_arena_destroy);
	PRINT_SIZE(bitnet_job_weight);
	PRINT_SIZE(bitnet_job);
	PRINT_SIZE(bitnet_sqe);
	PRINT_SIZE(bitnet_cqe);
	PRINT_SIZE(bitnet_sq_ring_offsets);
	PRINT_SIZE(bitnet_cq_ring_offsets);
	PRINT_SIZE(bitnet_ring_setup);
	PRINT_SIZE(bitnet_enter);
	PRINT_IOC(BITNET_IOC_GET_INFO);
	PRINT_IOC(BITNET_IOC_OBJ_CREATE);
	PRINT_IOC(BITNET_IOC_OBJ_FILL);
	PRINT_IOC(BITNET_IOC_OBJ_SEAL);
	PRINT_IOC(BITNET_IOC_OBJ_DESTROY);
	PRINT_IOC(BITNET_IOC_OBJ_INFO);
	PRINT_IOC(BITNET_IOC_OBJ_EXPORT);
	PRINT_IOC(BITNET_IOC_OBJ_IMPORT);
	PRINT_IOC(BITNET_IOC_ARENA_CREATE);
	PRINT_IOC(BITNET_IOC_ARENA_DESTROY);
	PRINT_IOC(BITNET_IOC_RING_SETUP);
	PRINT_IOC(BITNET_IOC_ENTER);
	printf("BITNET_OFF_SQES 0x%llx\n", (unsigned long long)BITNET_OFF_SQES);
	printf("BITNET_OFF_ARENA_BASE 0x%llx\n", (unsigned long long)BITNET_OFF_ARENA_BASE);
	return 0;
}
