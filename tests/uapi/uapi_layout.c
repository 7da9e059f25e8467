// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI of uapi/linux/bitnet.h in one list: every struct's size and field
 * offsets, written down by hand, and every ioctl number and mmap offset.
 * The list is expanded three ways:
 *  - static assertions, so a change that moves a field or changes a size
 *    fails this build, for x86-64 and for i386 (-m32, where __u64 is only
 *    4-byte aligned);
 *  - the values the compiler computed, as initialised data in the section
 *    .bitnet_layout, and their names in .bitnet_layout_names. The test reads
 *    both back with objcopy, so the i386 object is compared with the x86-64
 *    one without being executed: many hosts cannot run i386 binaries;
 *  - main() prints the same table, so the native build checks that reading
 *    the object back gives what the program itself sees.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/bitnet.h>

#define BITNET_UAPI_LAYOUT(SIZE, FIELD, NUMBER)         \
	SIZE(bitnet_info, 120)                          \
	FIELD(bitnet_info, abi_version, 0)              \
	FIELD(bitnet_info, flags, 4)                    \
	FIELD(bitnet_info, features, 8)                 \
	FIELD(bitnet_info, max_object_bytes, 16)        \
	FIELD(bitnet_info, max_file_bytes, 24)          \
	FIELD(bitnet_info, max_global_bytes, 32)        \
	FIELD(bitnet_info, pinned_bytes, 40)            \
	FIELD(bitnet_info, max_rows, 48)                \
	FIELD(bitnet_info, max_cols, 52)                \
	FIELD(bitnet_info, max_tokens, 56)              \
	FIELD(bitnet_info, max_multi, 60)               \
	FIELD(bitnet_info, max_sq_entries, 64)          \
	FIELD(bitnet_info, max_cq_entries, 68)          \
	FIELD(bitnet_info, max_arena_bytes, 72)         \
	FIELD(bitnet_info, nr_workers, 76)              \
	FIELD(bitnet_info, isa, 80)                     \
	FIELD(bitnet_info, pad, 84)                     \
	FIELD(bitnet_info, reserved, 88)                \
	SIZE(bitnet_obj_create, 32)                     \
	FIELD(bitnet_obj_create, format, 0)             \
	FIELD(bitnet_obj_create, flags, 4)              \
	FIELD(bitnet_obj_create, rows, 8)               \
	FIELD(bitnet_obj_create, cols, 12)              \
	FIELD(bitnet_obj_create, bytes, 16)             \
	FIELD(bitnet_obj_create, handle, 24)            \
	FIELD(bitnet_obj_create, pad, 28)               \
	SIZE(bitnet_obj_fill, 32)                       \
	FIELD(bitnet_obj_fill, handle, 0)               \
	FIELD(bitnet_obj_fill, flags, 4)                \
	FIELD(bitnet_obj_fill, offset, 8)               \
	FIELD(bitnet_obj_fill, len, 16)                 \
	FIELD(bitnet_obj_fill, data, 24)                \
	SIZE(bitnet_obj_seal, 8)                        \
	FIELD(bitnet_obj_seal, handle, 0)               \
	FIELD(bitnet_obj_seal, flags, 4)                \
	SIZE(bitnet_obj_destroy, 8)                     \
	FIELD(bitnet_obj_destroy, handle, 0)            \
	FIELD(bitnet_obj_destroy, flags, 4)             \
	SIZE(bitnet_obj_info, 48)                       \
	FIELD(bitnet_obj_info, handle, 0)               \
	FIELD(bitnet_obj_info, flags, 4)                \
	FIELD(bitnet_obj_info, format, 8)               \
	FIELD(bitnet_obj_info, state, 12)               \
	FIELD(bitnet_obj_info, rows, 16)                \
	FIELD(bitnet_obj_info, cols, 20)                \
	FIELD(bitnet_obj_info, bytes, 24)               \
	FIELD(bitnet_obj_info, pinned_bytes, 32)        \
	FIELD(bitnet_obj_info, scale_bits, 40)          \
	FIELD(bitnet_obj_info, pad, 44)                 \
	SIZE(bitnet_obj_export, 16)                     \
	FIELD(bitnet_obj_export, handle, 0)             \
	FIELD(bitnet_obj_export, flags, 4)              \
	FIELD(bitnet_obj_export, fd, 8)                 \
	FIELD(bitnet_obj_export, pad, 12)               \
	SIZE(bitnet_obj_import, 16)                     \
	FIELD(bitnet_obj_import, fd, 0)                 \
	FIELD(bitnet_obj_import, flags, 4)              \
	FIELD(bitnet_obj_import, handle, 8)             \
	FIELD(bitnet_obj_import, pad, 12)               \
	SIZE(bitnet_arena_create, 24)                   \
	FIELD(bitnet_arena_create, size, 0)             \
	FIELD(bitnet_arena_create, flags, 8)            \
	FIELD(bitnet_arena_create, id, 12)              \
	FIELD(bitnet_arena_create, mmap_offset, 16)     \
	SIZE(bitnet_arena_destroy, 8)                   \
	FIELD(bitnet_arena_destroy, id, 0)              \
	FIELD(bitnet_arena_destroy, flags, 4)           \
	SIZE(bitnet_job_weight, 16)                     \
	FIELD(bitnet_job_weight, handle, 0)             \
	FIELD(bitnet_job_weight, pad, 4)                \
	FIELD(bitnet_job_weight, out, 8)                \
	SIZE(bitnet_job, 72)                            \
	FIELD(bitnet_job, op, 0)                        \
	FIELD(bitnet_job, out_type, 1)                  \
	FIELD(bitnet_job, flags, 2)                     \
	FIELD(bitnet_job, n_tokens, 4)                  \
	FIELD(bitnet_job, handle, 8)                    \
	FIELD(bitnet_job, n_weights, 12)                \
	FIELD(bitnet_job, weights, 16)                  \
	FIELD(bitnet_job, act, 24)                      \
	FIELD(bitnet_job, act_scale, 32)                \
	FIELD(bitnet_job, act_sum, 40)                  \
	FIELD(bitnet_job, out, 48)                      \
	FIELD(bitnet_job, arena, 56)                    \
	FIELD(bitnet_job, pad, 60)                      \
	FIELD(bitnet_job, reserved, 64)                 \
	SIZE(bitnet_sqe, 88)                            \
	FIELD(bitnet_sqe, user_data, 0)                 \
	FIELD(bitnet_sqe, flags, 8)                     \
	FIELD(bitnet_sqe, pad, 12)                      \
	FIELD(bitnet_sqe, job, 16)                      \
	SIZE(bitnet_cqe, 16)                            \
	FIELD(bitnet_cqe, user_data, 0)                 \
	FIELD(bitnet_cqe, res, 8)                       \
	FIELD(bitnet_cqe, flags, 12)                    \
	SIZE(bitnet_sq_ring_offsets, 32)                \
	FIELD(bitnet_sq_ring_offsets, head, 0)          \
	FIELD(bitnet_sq_ring_offsets, tail, 4)          \
	FIELD(bitnet_sq_ring_offsets, ring_mask, 8)     \
	FIELD(bitnet_sq_ring_offsets, ring_entries, 12) \
	FIELD(bitnet_sq_ring_offsets, flags, 16)        \
	FIELD(bitnet_sq_ring_offsets, dropped, 20)      \
	FIELD(bitnet_sq_ring_offsets, resv, 24)         \
	SIZE(bitnet_cq_ring_offsets, 32)                \
	FIELD(bitnet_cq_ring_offsets, head, 0)          \
	FIELD(bitnet_cq_ring_offsets, tail, 4)          \
	FIELD(bitnet_cq_ring_offsets, ring_mask, 8)     \
	FIELD(bitnet_cq_ring_offsets, ring_entries, 12) \
	FIELD(bitnet_cq_ring_offsets, overflow, 16)     \
	FIELD(bitnet_cq_ring_offsets, cqes, 20)         \
	FIELD(bitnet_cq_ring_offsets, resv, 24)         \
	SIZE(bitnet_ring_setup, 112)                    \
	FIELD(bitnet_ring_setup, sq_entries, 0)         \
	FIELD(bitnet_ring_setup, cq_entries, 4)         \
	FIELD(bitnet_ring_setup, flags, 8)              \
	FIELD(bitnet_ring_setup, pad, 12)               \
	FIELD(bitnet_ring_setup, rings_size, 16)        \
	FIELD(bitnet_ring_setup, sqes_size, 24)         \
	FIELD(bitnet_ring_setup, sq_off, 32)            \
	FIELD(bitnet_ring_setup, cq_off, 64)            \
	FIELD(bitnet_ring_setup, reserved, 96)          \
	SIZE(bitnet_enter, 16)                          \
	FIELD(bitnet_enter, to_submit, 0)               \
	FIELD(bitnet_enter, min_complete, 4)            \
	FIELD(bitnet_enter, flags, 8)                   \
	FIELD(bitnet_enter, submitted, 12)              \
	NUMBER(BITNET_IOC_GET_INFO)                     \
	NUMBER(BITNET_IOC_OBJ_CREATE)                   \
	NUMBER(BITNET_IOC_OBJ_FILL)                     \
	NUMBER(BITNET_IOC_OBJ_SEAL)                     \
	NUMBER(BITNET_IOC_OBJ_DESTROY)                  \
	NUMBER(BITNET_IOC_OBJ_INFO)                     \
	NUMBER(BITNET_IOC_OBJ_EXPORT)                   \
	NUMBER(BITNET_IOC_OBJ_IMPORT)                   \
	NUMBER(BITNET_IOC_ARENA_CREATE)                 \
	NUMBER(BITNET_IOC_ARENA_DESTROY)                \
	NUMBER(BITNET_IOC_RING_SETUP)                   \
	NUMBER(BITNET_IOC_ENTER)                        \
	NUMBER(BITNET_URING_CMD_JOB)                    \
	NUMBER(BITNET_OFF_RINGS)                        \
	NUMBER(BITNET_OFF_SQES)                         \
	NUMBER(BITNET_OFF_ARENA_BASE)

/* The one thing the hand-written list cannot say as a plain size. */
_Static_assert(sizeof(struct bitnet_job) <= 80, "bitnet_job fits the 80-byte cmd of an SQE128");

#define ASSERT_SIZE(s, size) _Static_assert(sizeof(struct s) == (size), "sizeof " #s " is " #size);
#define ASSERT_FIELD(s, f, off) \
	_Static_assert(offsetof(struct s, f) == (off), #s "." #f " at " #off);
#define ASSERT_NONE(n)
BITNET_UAPI_LAYOUT(ASSERT_SIZE, ASSERT_FIELD, ASSERT_NONE)

/*
 * With -DLAYOUT_CANARY the table ends with one value that differs between
 * x86-64 and i386 on purpose (where a __u64 after a __u32 lands), so the
 * test can show that its comparison sees the i386 compiler's layout.
 */
#ifdef LAYOUT_CANARY
struct layout_canary {
	__u32 a;
	__u64 b;
};
#define CANARY(X) X(offsetof(struct layout_canary, b))
#else
#define CANARY(X)
#endif

#define VALUE_SIZE(s, size) sizeof(struct s),
#define VALUE_FIELD(s, f, off) offsetof(struct s, f),
#define VALUE_NUMBER(n) (unsigned long long)(n),
__attribute__((used, section(".bitnet_layout"))) const unsigned long long bitnet_layout[] = {
	BITNET_UAPI_LAYOUT(VALUE_SIZE, VALUE_FIELD, VALUE_NUMBER) CANARY(VALUE_NUMBER)
};

#define NAME_SIZE(s, size) "sizeof " #s "\0"
#define NAME_FIELD(s, f, off) #s "." #f "\0"
#define NAME_NUMBER(n) #n "\0"
__attribute__((used, section(".bitnet_layout_names"))) const char bitnet_layout_names[] =
	BITNET_UAPI_LAYOUT(NAME_SIZE, NAME_FIELD, NAME_NUMBER) CANARY(NAME_NUMBER);

/* Prints "name value" lines, in the format the test makes from the object. */
int main(void)
{
	const char *name = bitnet_layout_names;
	size_t i;

	for (i = 0; i < sizeof(bitnet_layout) / sizeof(bitnet_layout[0]); i++) {
		printf("%s %016llx\n", name, bitnet_layout[i]);
		while (*name)
			name++;
		name++;
	}
	return 0;
}
