/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel io_uring_cmd API differs between kernel releases (and
 * distribution backports). Kbuild probes the target's headers and passes
 * what it found as BITNET_* defines; this header maps them onto three
 * helpers. Without a usable API the module still builds, without
 * BITNET_FEAT_URING_CMD.
 */
#ifndef BITNET_URING_COMPAT_H
#define BITNET_URING_COMPAT_H

#if defined(BITNET_HAVE_URING_CMD) && defined(CONFIG_IO_URING) && \
	(defined(BITNET_URING_TW_FLAGS) || defined(BITNET_URING_TW_NOFLAGS))
#define BITNET_URING 1

#ifdef BITNET_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif

/* The command area of the SQE: 16 bytes, 80 with IORING_SETUP_SQE128. */
static inline const void *bitnet_uring_payload(struct io_uring_cmd *cmd)
{
#ifdef BITNET_URING_CMD_SQE
	return cmd->sqe->cmd;
#else
	return cmd->cmd;
#endif
}

static inline void bitnet_uring_done(struct io_uring_cmd *cmd, int res,
				     unsigned int issue_flags)
{
#ifdef BITNET_URING_DONE_FLAGS
	io_uring_cmd_done(cmd, res, 0, issue_flags);
#else
	io_uring_cmd_done(cmd, res, 0);
#endif
}

/* Declares a task-work callback; the body sees @cmd and @issue_flags. */
#ifdef BITNET_URING_TW_FLAGS
#define BITNET_URING_TW_FN(name)					\
	static void name(struct io_uring_cmd *cmd, unsigned int issue_flags)
#else
#define BITNET_URING_TW_FN(name)					\
	static void name##_flags(struct io_uring_cmd *cmd,		\
				 unsigned int issue_flags);		\
	static void name(struct io_uring_cmd *cmd)			\
	{								\
		name##_flags(cmd, 0);					\
	}								\
	static void name##_flags(struct io_uring_cmd *cmd, unsigned int issue_flags)
#endif

#endif /* usable io_uring_cmd */

#endif /* BITNET_URING_COMPAT_H */
