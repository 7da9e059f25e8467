// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: a second process runs on a loaded kmod backend's
 * objects instead of its own copy. The owner loads and seals, then
 * bn_backend_kmod_export() over a unix socket; the child
 * bn_backend_kmod_attach()es, "loads" the same tensors without their data
 * and must match the cpu backend bit for bit. A peer of another uid is
 * refused; a child that loads another shape is told the model is stale.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "ksft_common.h"
#include "daemon/engine/backend/backend.h"

enum {
	NW = 10,
	NTOK = 2,
	K = 256
};

static const uint32_t fmts[] = { BNC_FMT_I2_S, BNC_FMT_TQ2_0, BNC_FMT_TQ1_0 };

static int make_weights(struct kw *w)
{
	int i, rc = 0;

	for (i = 0; !rc && i < NW; i++)
		rc = kw_make(&w[i], fmts[i % 3], 32 + 16 * i, K, 500 + i);
	return rc;
}

/* Child: attach, check against the cpu backend; exit code is the verdict. */
static int attach_child(int sock, int wrong_shape)
{
	struct bn_backend *cpu, *kmod;
	bn_weight_id idc[NW], idk[NW];
	float *oc[NW], *ok_[NW];
	struct kw w[NW];
	struct ka a;
	char err[256];
	int i, rc;

	if (make_weights(w) || ka_make(&a, NTOK, K, 600) || bn_backend_cpu_new(1, &cpu))
		return 10;
	if (bn_backend_kmod_attach(NULL, sock, &kmod, err, sizeof(err)))
		return 11;
	for (i = 0; i < NW; i++) {
		uint32_t rows = w[i].rows + (wrong_shape && i == NW - 1);

		if (cpu->ops->add_weight(cpu, w[i].fmt, w[i].rows, K, w[i].packed, w[i].bytes,
					 &idc[i]))
			return 12;
		/* No data: an attached backend must not read it. */
		rc = kmod->ops->add_weight(kmod, w[i].fmt, rows, K, NULL, w[i].bytes, &idk[i]);
		if (wrong_shape && i == NW - 1)
			return rc == -ESTALE ? 0 : 13;
		if (rc)
			return 14;
		oc[i] = calloc((size_t)NTOK * w[i].rows, sizeof(float));
		ok_[i] = calloc((size_t)NTOK * w[i].rows, sizeof(float));
	}
	if (cpu->ops->finish_load(cpu) || kmod->ops->finish_load(kmod))
		return 15;
	if (cpu->ops->matmul(cpu, idc, NW, a.q, a.sigma, a.sum, NTOK, oc) ||
	    kmod->ops->matmul(kmod, idk, NW, a.q, a.sigma, a.sum, NTOK, ok_))
		return 16;
	for (i = 0; i < NW; i++)
		if (!oc[i] || !ok_[i] ||
		    ksft_diff_f32(oc[i], ok_[i], (size_t)NTOK * w[i].rows) >= 0)
			return 17;
	kmod->ops->destroy(kmod);
	cpu->ops->destroy(cpu);
	return 0;
}

/* The owner's backend, loaded and sealed. */
static int owner_load(struct bn_backend **kmod, char *err, size_t errlen)
{
	struct kw w[NW];
	bn_weight_id id;
	int i, rc;

	rc = make_weights(w);
	if (!rc)
		rc = bn_backend_kmod_new(NULL, kmod, err, errlen);
	for (i = 0; !rc && i < NW; i++)
		rc = (*kmod)->ops->add_weight(*kmod, w[i].fmt, w[i].rows, K, w[i].packed,
					      w[i].bytes, &id);
	for (i = 0; i < NW; i++)
		kw_free(&w[i]);
	return rc ? rc : (*kmod)->ops->finish_load(*kmod);
}

static int run_attach(struct __test_metadata *_metadata, int wrong_shape)
{
	struct bn_backend *kmod;
	char err[256] = "";
	int sv[2], status;
	pid_t pid;

	if (owner_load(&kmod, err, sizeof(err)))
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(attach_child(sv[1], wrong_shape));
	}
	close(sv[1]);
	EXPECT_EQ(0, bn_backend_kmod_export(kmod, sv[0]));
	/* The owner's objects stay pinned; dropping them now must not hurt the child. */
	kmod->ops->destroy(kmod);
	waitpid(pid, &status, 0);
	close(sv[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(attach_bit_identical)
{
	const char *why;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	EXPECT_EQ(0, run_attach(_metadata, 0));
}

TEST(attach_other_model_is_stale)
{
	const char *why;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	EXPECT_EQ(0, run_attach(_metadata, 1));
}

/* A client of another uid on a named socket (SO_PEERCRED is the connecter's). */
TEST(export_refuses_other_uid)
{
	static const char name[] = "\0bitnet-attach-test";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + sizeof(name) - 1;
	struct bn_backend *kmod;
	char err[256] = "";
	int l, c, status;
	const char *why;
	pid_t pid;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	if (geteuid() != 0)
		SKIP(return, "needs root to make a peer of another uid");
	ASSERT_EQ(0, owner_load(&kmod, err, sizeof(err))) TH_LOG("%s", err);
	memcpy(addr.sun_path, name, sizeof(name) - 1);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&addr, len));
	ASSERT_EQ(0, listen(l, 1));
	pid = fork();
	if (pid == 0) {
		int s;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(1);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(s, (struct sockaddr *)&addr, len) ? 2 : 0);
	}
	c = accept(l, NULL, NULL);
	ASSERT_LE(0, c);
	EXPECT_EQ(-EPERM, bn_backend_kmod_export(kmod, c));
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(c);
	close(l);
	kmod->ops->destroy(kmod);
}

TEST_HARNESS_MAIN
