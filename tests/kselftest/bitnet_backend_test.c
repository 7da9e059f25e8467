// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: the engine's "kmod" backend against its "cpu" backend
 * on the same weights and activations (several weights per call, more
 * than one MULTI job's worth, every packed format).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kselftest_harness.h"
#include "ksft_common.h"
#include "daemon/engine/backend.h"

enum {
	NW = 11,
	NTOK = 3,
	K = 512
};

TEST(kmod_vs_cpu)
{
	static const uint32_t fmts[] = { BNC_FMT_I2_S, BNC_FMT_TQ2_0, BNC_FMT_TQ1_0 };
	struct bn_backend *cpu, *kmod;
	bn_weight_id idc[NW], idk[NW];
	float *oc[NW], *ok_[NW];
	struct kw w[NW];
	const char *why;
	char err[256];
	struct ka a;
	int i, rc;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	rc = bn_backend_kmod_new(NULL, &kmod, err, sizeof(err));
	ASSERT_EQ(0, rc) TH_LOG("%s", err);
	ASSERT_EQ(0, bn_backend_cpu_new(1, &cpu));
	EXPECT_STREQ("kmod", kmod->ops->name);
	ASSERT_EQ(0, ka_make(&a, NTOK, K, 1000));
	for (i = 0; i < NW; i++) {
		uint32_t rows = 16 + 37 * i;

		ASSERT_EQ(0, kw_make(&w[i], fmts[i % 3], rows, K, 1100 + i));
		ASSERT_EQ(0, cpu->ops->add_weight(cpu, w[i].fmt, rows, K, w[i].packed, w[i].bytes,
						  &idc[i]));
		ASSERT_EQ(0, kmod->ops->add_weight(kmod, w[i].fmt, rows, K, w[i].packed, w[i].bytes,
						   &idk[i]));
		oc[i] = calloc((size_t)NTOK * rows, sizeof(float));
		ok_[i] = calloc((size_t)NTOK * rows, sizeof(float));
		ASSERT_TRUE(oc[i] && ok_[i]);
	}
	ASSERT_EQ(0, cpu->ops->finish_load(cpu));
	ASSERT_EQ(0, kmod->ops->finish_load(kmod));
	EXPECT_LT(0, kmod->ops->weight_bytes(kmod));
	ASSERT_EQ(0, cpu->ops->matmul(cpu, idc, NW, a.q, a.sigma, a.sum, NTOK, oc));
	ASSERT_EQ(0, kmod->ops->matmul(kmod, idk, NW, a.q, a.sigma, a.sum, NTOK, ok_));
	for (i = 0; i < NW; i++) {
		EXPECT_EQ(-1, ksft_diff_f32(oc[i], ok_[i], (size_t)NTOK * w[i].rows))
		TH_LOG("weight %d", i);
		free(oc[i]);
		free(ok_[i]);
		kw_free(&w[i]);
	}
	kmod->ops->destroy(kmod);
	cpu->ops->destroy(cpu);
	ka_free(&a);
}

TEST(kmod_missing_device)
{
	struct bn_backend *kmod;
	char err[256] = "";

	EXPECT_EQ(-ENODEV, bn_backend_kmod_new("/nonexistent/bitnet", &kmod, err, sizeof(err)));
	EXPECT_NE(0, err[0]);
}

TEST_HARNESS_MAIN
