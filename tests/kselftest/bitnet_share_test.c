// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: one sealed object shared by two processes. The owner
 * exports it, passes the fd over a unix socket (SCM_RIGHTS) and drops its
 * own references; the importer still runs jobs on it, read-only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "ksft_common.h"

/* A one-byte message with room for one passed fd. */
struct fd_msg {
	char byte;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr msg;
};

static struct msghdr *fd_msg_init(struct fd_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->byte = 'x';
	m->iov.iov_base = &m->byte;
	m->iov.iov_len = 1;
	m->msg.msg_iov = &m->iov;
	m->msg.msg_iovlen = 1;
	m->msg.msg_control = m->cbuf;
	m->msg.msg_controllen = sizeof(m->cbuf);
	return &m->msg;
}

static int send_fd(int sock, int fd)
{
	struct fd_msg m;
	struct msghdr *msg = fd_msg_init(&m);
	struct cmsghdr *c = CMSG_FIRSTHDR(msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	struct fd_msg m;
	struct msghdr *msg = fd_msg_init(&m);
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The importing process: exit code 0 when everything checked out. */
static int importer(int sock, const struct kw *w)
{
	struct bitnet_obj_info oi;
	struct bitnet_job job;
	struct bnd_dev *dev;
	int32_t *got, *want;
	struct ka a;
	uint32_t h;
	char go;
	int fd;

	fd = recv_fd(sock);
	if (fd < 0 || bnd_open(NULL, &dev))
		return 10;
	if (bnd_obj_import(dev, fd, &h))
		return 11;
	close(fd);
	/* Wait until the owner has dropped every reference it had. */
	if (read(sock, &go, 1) != 1)
		return 12;
	if (bnd_obj_info(dev, h, &oi) || oi.state != (BITNET_OBJ_SEALED | BITNET_OBJ_IMPORTED))
		return 13;
	if (bnd_obj_fill(dev, h, 0, w->packed, 16) != -EPERM || bnd_obj_seal(dev, h) != -EPERM)
		return 14;
	got = calloc(4 * w->rows, sizeof(*got));
	want = calloc(4 * w->rows, sizeof(*want));
	if (!got || !want || ka_make(&a, 4, w->cols, 901))
		return 15;
	bnd_job_matmul(&job, h, 4, a.q, NULL, NULL, got, BITNET_OUT_I32);
	if (bnd_run(dev, &job) || kw_ref_i32(w, &a, want))
		return 16;
	if (ksft_diff_i32(got, want, 4 * w->rows) >= 0)
		return 17;
	bnd_close(dev);
	return 0;
}

TEST(two_processes)
{
	long long objs0;
	struct bnd_dev *dev;
	const char *why;
	int sv[2], fd, status;
	struct kw w;
	uint32_t h;
	pid_t pid;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	objs0 = ksft_stat("live_objects");
	ASSERT_EQ(0, kw_make(&w, BNC_FMT_TQ1_0, 96, 768, 900));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(importer(sv[1], &w));
	}
	close(sv[1]);
	ASSERT_EQ(0, bnd_open(NULL, &dev));
	ASSERT_EQ(0, kw_load(dev, &w, &h));
	ASSERT_EQ(0, bnd_obj_export(dev, h, BITNET_EXPORT_CLOEXEC, &fd));
	ASSERT_EQ(0, send_fd(sv[0], fd));
	close(fd);
	EXPECT_EQ(objs0 + 1, ksft_stat("live_objects"));
	/* The owner goes away entirely; the object lives on in the child. */
	bnd_close(dev);
	EXPECT_EQ(objs0 + 1, ksft_stat("live_objects"));
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(objs0, ksft_stat_wait("live_objects", objs0));
	close(sv[0]);
	kw_free(&w);
}

/* One process cannot name another's handles or arenas. */
TEST(isolation)
{
	struct bnd_dev *a, *b;
	struct bitnet_obj_info oi;
	struct bnd_arena ar;
	const char *why;
	struct kw w;
	uint32_t h;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, kw_make(&w, BNC_FMT_I2_S, 16, 128, 950));
	ASSERT_EQ(0, bnd_open(NULL, &a));
	ASSERT_EQ(0, bnd_open(NULL, &b));
	ASSERT_EQ(0, kw_load(a, &w, &h));
	ASSERT_EQ(0, bnd_arena_create(a, 4096, &ar));
	EXPECT_EQ(-ENOENT, bnd_obj_info(b, h, &oi));
	EXPECT_EQ(-ENOENT, bnd_obj_destroy(b, h));
	EXPECT_EQ(-ENOENT, bnd_arena_destroy(b, &(struct bnd_arena){ .id = ar.id }));
	EXPECT_EQ(0, bnd_obj_info(a, h, &oi));
	EXPECT_EQ(0, bnd_arena_destroy(a, &ar));
	bnd_close(a);
	bnd_close(b);
	kw_free(&w);
}

TEST_HARNESS_MAIN
