// SPDX-License-Identifier: GPL-2.0
/*
 * libbitnet-dev: handing exported weight objects to another process over
 * a unix socket (SCM_RIGHTS). The stream is a __u32 count, then the fds in
 * messages of at most BND_SHARE_CHUNK, each carrying a 1-byte payload. The
 * receiver imports them read-only (BITNET_IOC_OBJ_IMPORT).
 * Who may receive is the sender's policy: bnd_share_peer_allowed() checks
 * SO_PEERCRED against the sender's uid (and root).
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "dev_priv.h"

#define BND_SHARE_CHUNK 64

static int share_send_fds(int sock, const int *fds, uint32_t n)
{
	char cbuf[CMSG_SPACE(BND_SHARE_CHUNK * sizeof(int))] = { 0 };
	char byte = 'w';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf };
	struct cmsghdr *cm;

	msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int bnd_share_send(int sock, const int *fds, uint32_t n)
{
	uint32_t i, c;
	int ret;

	if (send(sock, &n, sizeof(n), MSG_NOSIGNAL) != sizeof(n))
		return -errno;
	for (i = 0; i < n; i += c) {
		c = n - i < BND_SHARE_CHUNK ? n - i : BND_SHARE_CHUNK;
		ret = share_send_fds(sock, fds + i, c);
		if (ret)
			return ret;
	}
	return 0;
}

/* Receive exactly @want fds of one message into @fds. */
static int share_recv_fds(int sock, int *fds, uint32_t want)
{
	char cbuf[CMSG_SPACE(BND_SHARE_CHUNK * sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	uint32_t got;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EPROTO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	memcpy(fds, CMSG_DATA(cm), got * sizeof(int));
	if (got != want || (msg.msg_flags & MSG_CTRUNC)) {
		while (got)
			close(fds[--got]);
		return -EPROTO;
	}
	return 0;
}

int bnd_share_recv(int sock, uint32_t max, int *fds, uint32_t *n)
{
	uint32_t total, i, c;
	int ret = 0;

	*n = 0;
	if (recv(sock, &total, sizeof(total), MSG_WAITALL) != sizeof(total))
		return -EPROTO;
	if (total > max)
		return -E2BIG;
	for (i = 0; i < total; i += c) {
		c = total - i < BND_SHARE_CHUNK ? total - i : BND_SHARE_CHUNK;
		ret = share_recv_fds(sock, fds + i, c);
		if (ret)
			break;
	}
	if (ret) {
		while (i)
			close(fds[--i]);
		return ret;
	}
	*n = total;
	return 0;
}

int bnd_share_peer_allowed(int sock)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -errno;
	return cr.uid == 0 || cr.uid == geteuid() ? 0 : -EPERM;
}
