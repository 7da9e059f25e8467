// SPDX-License-Identifier: GPL-2.0
/*
 * Submission path B: IORING_OP_URING_CMD with cmd_op BITNET_URING_CMD_JOB
 * on a ring created with IORING_SETUP_SQE128; the SQE's command area holds
 * a struct bitnet_job, the same bytes ring A carries. The job completes
 * through task work in the submitter's context with io_uring_cmd_done().
 */
#include <linux/build_bug.h>
#include "bitnet_priv.h"
#include "uring_compat.h"

#ifdef BITNET_URING

/* What survives in the command's pdu once the job itself is freed. */
struct bitnet_uring_pdu {
	int res;
};

static struct bitnet_uring_pdu *bitnet_uring_pdu(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(struct bitnet_uring_pdu) > sizeof(cmd->pdu));
	return (struct bitnet_uring_pdu *)cmd->pdu;
}

BITNET_URING_TW_FN(bitnet_uring_tw)
{
	bitnet_uring_done(cmd, bitnet_uring_pdu(cmd)->res, issue_flags);
}

static void bitnet_uring_complete(struct bitnet_kjob *job)
{
	struct io_uring_cmd *cmd = job->complete_data;

	bitnet_uring_pdu(cmd)->res = job->res;
	bitnet_kjob_free(job);
	io_uring_cmd_complete_in_task(cmd, bitnet_uring_tw);
}

bool bitnet_uring_supported(void)
{
	return true;
}

int bitnet_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct bitnet_ctx *ctx = ioucmd->file->private_data;
	struct bitnet_kjob *kjob;
	struct bitnet_job job;
	int ret;

	if (ioucmd->cmd_op != BITNET_URING_CMD_JOB)
		return -ENOTTY;
	/* A job needs the 80-byte command area of a 128-byte SQE. */
	if (!(issue_flags & IO_URING_F_SQE128)) {
		bitnet_warn_user("uring_cmd without IORING_SETUP_SQE128\n");
		return -EINVAL;
	}
	/* The one copy of the payload; the SQE is shared with userspace. */
	memcpy(&job, bitnet_uring_payload(ioucmd), sizeof(job));
	ret = bitnet_kjob_prepare(ctx, &job, &kjob);
	if (ret)
		return ret;
	kjob->complete = bitnet_uring_complete;
	kjob->complete_data = ioucmd;
	bitnet_exec_start(kjob);
	return -EIOCBQUEUED;
}

#else /* !BITNET_URING */

bool bitnet_uring_supported(void)
{
	return false;
}

int bitnet_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	return -EOPNOTSUPP;
}

#endif
