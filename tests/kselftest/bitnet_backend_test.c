// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest: the engine's "kmod" backend against its "cpu" backend
 * on the same weights and activations (several weights per call, more
 * than one MULTI job's worth so a group is several SQEs in flight, every
 * packed format), on both submission paths and from concurrent threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "kselftest_harness.h"
#include "ksft_common.h"
#include "daemon/engine/backend/backend.h"

enum {
	NW = 19, /* three MULTI jobs at max_multi 8 */
	NTOK = 3,
	K = 512,
	NTHREADS = 4,
	ROUNDS = 25
};

struct pair {
	struct bn_backend *cpu, *kmod;
	bn_weight_id idc[NW], idk[NW];
	float *oc[NW];
	struct kw w[NW];
	struct ka a;
};

/* Both backends on the same weights; cpu's output is the reference. */
static int pair_make(struct pair *p, const char *submit, char *err, size_t errlen)
{
	static const uint32_t fmts[] = { BNC_FMT_I2_S, BNC_FMT_TQ2_0, BNC_FMT_TQ1_0 };
	int i, rc;

	memset(p, 0, sizeof(*p));
	setenv("BITNET_KMOD_SUBMIT", submit, 1);
	rc = bn_backend_kmod_new(NULL, &p->kmod, err, errlen);
	unsetenv("BITNET_KMOD_SUBMIT");
	if (rc)
		return rc;
	rc = bn_backend_cpu_new(1, &p->cpu);
	if (!rc)
		rc = ka_make(&p->a, NTOK, K, 1000);
	for (i = 0; !rc && i < NW; i++) {
		uint32_t rows = 16 + 37 * i;

		rc = kw_make(&p->w[i], fmts[i % 3], rows, K, 1100 + i);
		if (!rc)
			rc = p->cpu->ops->add_weight(p->cpu, p->w[i].fmt, rows, K, p->w[i].packed,
						     p->w[i].bytes, &p->idc[i]);
		if (!rc)
			rc = p->kmod->ops->add_weight(p->kmod, p->w[i].fmt, rows, K, p->w[i].packed,
						      p->w[i].bytes, &p->idk[i]);
		p->oc[i] = calloc((size_t)NTOK * rows, sizeof(float));
		if (!rc && !p->oc[i])
			rc = -ENOMEM;
	}
	if (!rc)
		rc = p->cpu->ops->finish_load(p->cpu);
	if (!rc)
		rc = p->kmod->ops->finish_load(p->kmod);
	if (!rc)
		rc = p->cpu->ops->matmul(p->cpu, p->idc, NW, p->a.q, p->a.sigma, p->a.sum, NTOK,
					 p->oc);
	return rc;
}

static void pair_free(struct pair *p)
{
	int i;

	for (i = 0; i < NW; i++) {
		free(p->oc[i]);
		kw_free(&p->w[i]);
	}
	if (p->kmod)
		p->kmod->ops->destroy(p->kmod);
	if (p->cpu)
		p->cpu->ops->destroy(p->cpu);
	ka_free(&p->a);
}

/* One kmod group matmul of @n_w weights from @first; index of a differing weight or -1. */
static long pair_check(struct pair *p, int first, int n_w, int *rc)
{
	float *ok_[NW];
	long bad = -1;
	int i;

	for (i = 0; i < n_w; i++)
		ok_[i] = calloc((size_t)NTOK * p->w[first + i].rows, sizeof(float));
	*rc = p->kmod->ops->matmul(p->kmod, p->idk + first, n_w, p->a.q, p->a.sigma, p->a.sum, NTOK,
				   ok_);
	for (i = 0; i < n_w; i++) {
		if (bad < 0 && (!ok_[i] || ksft_diff_f32(p->oc[first + i], ok_[i],
							 (size_t)NTOK * p->w[first + i].rows) >= 0))
			bad = first + i;
		free(ok_[i]);
	}
	return bad;
}

static void check_path(struct __test_metadata *_metadata, const char *submit, const char *want)
{
	struct bn_backend_stats st;
	struct pair p;
	char err[256] = "";
	const char *why;
	int rc, first;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pair_make(&p, submit, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("kmod", p.kmod->ops->name);
	EXPECT_STREQ(want, bn_backend_kmod_submit_path(p.kmod));
	EXPECT_EQ(NULL, bn_backend_kmod_submit_path(p.cpu));
	EXPECT_LT(0, p.kmod->ops->weight_bytes(p.kmod));
	/* stats: the device's counters now, so our sealed weights are pinned */
	ASSERT_EQ(0, p.kmod->ops->stats(p.kmod, &st));
	EXPECT_STREQ("kmod", st.name);
	EXPECT_EQ(BN_BACKEND_KMOD, st.kind);
	EXPECT_TRUE(st.has_device);
	EXPECT_EQ(BITNET_ABI_VERSION, st.abi_version);
	EXPECT_EQ(BITNET_FEAT_MULTI, st.features & BITNET_FEAT_MULTI);
	EXPECT_EQ(p.kmod->ops->weight_bytes(p.kmod), st.weight_bytes);
	EXPECT_LE(st.weight_bytes, st.pinned_bytes);
	EXPECT_LT(0, st.nr_workers);
	ASSERT_EQ(0, p.cpu->ops->stats(p.cpu, &st));
	EXPECT_EQ(BN_BACKEND_CPU, st.kind);
	EXPECT_FALSE(st.has_device);
	EXPECT_EQ(-1, pair_check(&p, 0, NW, &rc));
	EXPECT_EQ(0, rc);
	/* Groups of every size from every start: 1 SQE, 2, 3 with a short last. */
	for (first = 0; first < NW; first += 5) {
		EXPECT_EQ(-1, pair_check(&p, first, NW - first, &rc)) TH_LOG("from %d", first);
		EXPECT_EQ(0, rc);
	}
	pair_free(&p);
}

TEST(kmod_vs_cpu_uring_cmd)
{
	check_path(_metadata, "uring", "uring_cmd");
}

TEST(kmod_vs_cpu_ring)
{
	check_path(_metadata, "ring", "ring");
}

TEST(kmod_bad_submit_choice)
{
	struct bn_backend *kmod;
	char err[256] = "";
	const char *why;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	setenv("BITNET_KMOD_SUBMIT", "carrier-pigeon", 1);
	EXPECT_EQ(-ENODEV, bn_backend_kmod_new(NULL, &kmod, err, sizeof(err)));
	unsetenv("BITNET_KMOD_SUBMIT");
	EXPECT_NE(NULL, strstr(err, "carrier-pigeon"));
}

struct worker {
	struct pair *p;
	int id;
	long bad;
	int rc;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int r;

	w->bad = -1;
	for (r = 0; r < ROUNDS && w->bad < 0 && !w->rc; r++)
		w->bad = pair_check(w->p, (w->id + r) % 4, NW - (w->id + r) % 4, &w->rc);
	return NULL;
}

/* Several threads on one backend, each its own context, no shared lock. */
static void check_threads(struct __test_metadata *_metadata, const char *submit)
{
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct pair p;
	char err[256] = "";
	const char *why;
	int i;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pair_make(&p, submit, err, sizeof(err))) TH_LOG("%s", err);
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .p = &p, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].rc) TH_LOG("thread %d", i);
		EXPECT_EQ(-1, w[i].bad) TH_LOG("thread %d", i);
	}
	/* Contexts of exited threads are reused, not leaked or broken. */
	worker_main(&w[0]);
	EXPECT_EQ(0, w[0].rc);
	EXPECT_EQ(-1, w[0].bad);
	pair_free(&p);
}

TEST(kmod_threads_uring_cmd)
{
	check_threads(_metadata, "uring");
}

TEST(kmod_threads_ring)
{
	check_threads(_metadata, "ring");
}

TEST(kmod_missing_device)
{
	struct bn_backend *kmod;
	char err[256] = "";

	EXPECT_EQ(-ENODEV, bn_backend_kmod_new("/nonexistent/bitnet", &kmod, err, sizeof(err)));
	EXPECT_NE(0, err[0]);
}

TEST_HARNESS_MAIN
