// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the bitnet kselftests (see ksft_common.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ksft_common.h"

#define KSFT_STATS_DIR "/sys/class/misc/bitnet/"
#define KSFT_PARAM_DIR "/sys/module/bitnet/parameters/"

uint32_t ksft_rand(uint32_t *state)
{
	/* xorshift32: reproducible per seed, no libc state shared by tests */
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

int kw_make(struct kw *w, uint32_t fmt, uint32_t rows, uint32_t cols, uint32_t seed)
{
	uint32_t st = seed * 2654435761u + 1;
	float scale = 0.5f + (ksft_rand(&st) % 1000) / 1000.0f;
	size_t i, n = (size_t)rows * cols, exec;
	int ret;

	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
	w->rows = rows;
	w->cols = cols;
	memcpy(&w->scale_bits, &scale, sizeof(scale));
	w->bytes = bnc_packed_size(fmt, rows, cols);
	exec = bnc_exec_size(rows, cols);
	if (!w->bytes || !exec)
		return -EINVAL;
	w->t = malloc(n);
	w->packed = calloc(1, w->bytes);
	w->mat.data = aligned_alloc(BNC_BUF_ALIGN,
				    (exec + BNC_BUF_ALIGN - 1) / BNC_BUF_ALIGN * BNC_BUF_ALIGN);
	if (!w->t || !w->packed || !w->mat.data) {
		kw_free(w);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		w->t[i] = (int8_t)(ksft_rand(&st) % 3) - 1;
	if (fmt == BNC_FMT_EXEC) {
		/* The execution layout is what the core's own repack writes. */
		void *i2 = malloc(bnc_packed_size(BNC_FMT_I2_S, rows, cols));

		ret = i2 ? 0 : -ENOMEM;
		if (!ret)
			ret = bnc_pack(BNC_FMT_I2_S, w->t, rows, cols, w->scale_bits, i2,
				       bnc_packed_size(BNC_FMT_I2_S, rows, cols));
		w->mat.rows = rows;
		w->mat.cols = cols;
		if (!ret)
			ret = bnc_repack(&w->mat, BNC_FMT_I2_S, i2,
					 bnc_packed_size(BNC_FMT_I2_S, rows, cols));
		free(i2);
		if (!ret)
			memcpy(w->packed, w->mat.data, w->bytes);
	} else {
		ret = bnc_pack(fmt, w->t, rows, cols, w->scale_bits, w->packed, w->bytes);
		w->mat.rows = rows;
		w->mat.cols = cols;
		if (!ret)
			ret = bnc_repack(&w->mat, fmt, w->packed, w->bytes);
	}
	if (ret)
		kw_free(w);
	return ret;
}

void kw_free(struct kw *w)
{
	free(w->t);
	free(w->packed);
	free(w->mat.data);
	memset(w, 0, sizeof(*w));
}

int ka_make(struct ka *a, uint32_t n, uint32_t k, uint32_t seed)
{
	uint32_t st = seed * 40503u + 7, i, j;

	a->n = n;
	a->k = k;
	a->q = malloc((size_t)n * k);
	a->sigma = malloc(n * sizeof(float));
	a->sum = malloc(n * sizeof(int32_t));
	if (!a->q || !a->sigma || !a->sum) {
		ka_free(a);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		int32_t s = 0;

		for (j = 0; j < k; j++) {
			int8_t v = (int8_t)(ksft_rand(&st) % 255 - 127);

			a->q[(size_t)i * k + j] = v;
			s += v;
		}
		a->sum[i] = s;
		a->sigma[i] = 1.0f + (ksft_rand(&st) % 5000) / 100.0f;
	}
	return 0;
}

void ka_free(struct ka *a)
{
	free(a->q);
	free(a->sigma);
	free(a->sum);
	memset(a, 0, sizeof(*a));
}

struct bnc_act ka_act(const struct ka *a)
{
	struct bnc_act x = {
		.n = a->n,
		.k = a->k,
		.q = a->q,
		.sum = a->sum,
		.sigma = a->sigma,
	};

	return x;
}

int kw_ref_i32(const struct kw *w, const struct ka *a, int32_t *out)
{
	struct bnc_act x = ka_act(a);

	return bnc_matmul_i32(bnc_isa_best(), &w->mat, &x, 0, w->rows, 0, a->n, out, w->rows);
}

int kw_ref_f32(const struct kw *w, const struct ka *a, float *out)
{
	struct bnc_act x = ka_act(a);

	return bnc_matmul_f32(bnc_isa_best(), &w->mat, &x, 0, w->rows, 0, a->n, out, w->rows);
}

int kw_load(struct bnd_dev *dev, const struct kw *w, uint32_t *handle)
{
	/* Odd-sized chunks exercise the fill bookkeeping. */
	uint64_t chunk = w->bytes > 3 ? w->bytes / 3 + 1 : 1;

	return bnd_obj_load(dev, w->fmt, w->rows, w->cols, w->packed, w->bytes, chunk, handle);
}

long ksft_check_job(const struct kw *w, uint32_t handle, const struct ka *a, uint8_t out_type,
		    int with_sum, ksft_run_fn run, void *runner)
{
	size_t len = (size_t)a->n * w->rows;
	void *got = calloc(len, 4), *want = calloc(len, 4);
	struct bitnet_job job;
	long diff = -2;

	if (!got || !want)
		goto out;
	bnd_job_matmul(&job, handle, a->n, a->q, a->sigma, with_sum ? a->sum : NULL, got, out_type);
	if (run(runner, &job))
		goto out;
	if (out_type == BITNET_OUT_F32)
		diff = kw_ref_f32(w, a, want) ? -2 : ksft_diff_f32(got, want, len);
	else
		diff = kw_ref_i32(w, a, want) ? -2 : ksft_diff_i32(got, want, len);
out:
	free(got);
	free(want);
	return diff;
}

long ksft_check_shape(struct bnd_dev *dev, uint32_t fmt, uint32_t m, uint32_t k, uint32_t n,
		      uint8_t out_type, int with_sum, uint32_t seed, ksft_run_fn run, void *runner)
{
	long diff = -3;
	struct ka a;
	struct kw w;
	uint32_t h;

	if (kw_make(&w, fmt, m, k, seed))
		return -3;
	if (!ka_make(&a, n, k, seed + 100)) {
		if (!kw_load(dev, &w, &h)) {
			diff = ksft_check_job(&w, h, &a, out_type, with_sum, run, runner);
			if (bnd_obj_destroy(dev, h))
				diff = -3;
		}
		ka_free(&a);
	}
	kw_free(&w);
	return diff;
}

int ksft_check_jobs(const struct kw *w, uint32_t handle, uint32_t n, int n_jobs, uint32_t seed,
		    ksft_run_fn run, void *runner)
{
	int i, failed = 0;
	struct ka a;

	for (i = 0; i < n_jobs && !failed; i++) {
		if (ka_make(&a, n, w->cols, seed + i))
			return 1;
		failed = ksft_check_job(w, handle, &a, BITNET_OUT_I32, 0, run, runner) != -1;
		ka_free(&a);
	}
	return failed;
}

int ksft_batch_make(struct ksft_batch *b, struct bnd_dev *dev, int n_jobs, uint32_t rows,
		    uint32_t cols, uint32_t n, uint32_t w_seed, uint32_t a_seed)
{
	int i;

	memset(b, 0, sizeof(*b));
	b->a = calloc(n_jobs, sizeof(*b->a));
	b->got = calloc(n_jobs, sizeof(*b->got));
	b->jobs = calloc(n_jobs, sizeof(*b->jobs));
	if (!b->a || !b->got || !b->jobs || kw_make(&b->w, BNC_FMT_I2_S, rows, cols, w_seed))
		return -1;
	if (kw_load(dev, &b->w, &b->handle))
		return -1;
	for (i = 0; i < n_jobs; i++, b->n_jobs++) {
		if (ka_make(&b->a[i], n, cols, a_seed + i))
			return -1;
		b->got[i] = calloc((size_t)n * rows, sizeof(int32_t));
		if (!b->got[i])
			return -1;
		bnd_job_matmul(&b->jobs[i], b->handle, n, b->a[i].q, NULL, NULL, b->got[i],
			       BITNET_OUT_I32);
	}
	return 0;
}

int ksft_batch_check(const struct ksft_batch *b)
{
	size_t len = (size_t)b->a[0].n * b->w.rows;
	int32_t *want = calloc(len, sizeof(*want));
	int i, bad = -1;

	for (i = 0; i < b->n_jobs && bad < 0; i++)
		if (!want || kw_ref_i32(&b->w, &b->a[i], want) ||
		    ksft_diff_i32(b->got[i], want, len) >= 0)
			bad = i;
	free(want);
	return bad;
}

void ksft_batch_free(struct ksft_batch *b)
{
	int i;

	for (i = 0; i < b->n_jobs; i++) {
		free(b->got[i]);
		ka_free(&b->a[i]);
	}
	free(b->a);
	free(b->got);
	free(b->jobs);
	kw_free(&b->w);
}

int ksft_threads_start(struct ksft_thread *t, int n, void *(*fn)(void *),
		       const struct ksft_thread *proto)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		t[i] = *proto;
		t[i].seed = i + 1;
		t[i].failures = 0;
		ret = pthread_create(&t[i].tid, NULL, fn, &t[i]);
		if (ret) {
			ksft_threads_join(t, i);
			return ret;
		}
	}
	return 0;
}

int ksft_threads_join(struct ksft_thread *t, int n)
{
	int i, failed = -1;

	for (i = 0; i < n; i++) {
		pthread_join(t[i].tid, NULL);
		if (t[i].failures && failed < 0)
			failed = i;
	}
	return failed;
}

long ksft_diff_i32(const int32_t *a, const int32_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

long ksft_diff_f32(const float *a, const float *b, size_t n)
{
	return memcmp(a, b, n * sizeof(float)) ?
		       ksft_diff_i32((const int32_t *)a, (const int32_t *)b, n) :
		       -1;
}

long long ksft_stat(const char *name)
{
	char path[256], buf[64];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), KSFT_STATS_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

long long ksft_stat_wait(const char *name, long long want)
{
	long long v = ksft_stat(name);
	int i;

	/* Jobs of closed files finish asynchronously; give them time. */
	for (i = 0; i < 600 && v != want; i++) {
		usleep(50000);
		v = ksft_stat(name);
	}
	return v;
}

int ksft_param_set(const char *name, const char *val, char *old, size_t oldlen)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSFT_PARAM_DIR "%s", name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	if (old) {
		n = read(fd, old, oldlen - 1);
		old[n > 0 ? n : 0] = 0;
		old[strcspn(old, "\n")] = 0;
		lseek(fd, 0, SEEK_SET);
	}
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

struct ksft_live ksft_live_now(void)
{
	return (struct ksft_live){ ksft_stat("live_objects"), ksft_stat("pinned_bytes") };
}

bool ksft_live_back(const struct ksft_live *then)
{
	long long objects = ksft_stat_wait("live_objects", then->objects);
	long long pinned = ksft_stat_wait("pinned_bytes", then->pinned);

	if (objects != then->objects)
		printf("# live_objects %lld, was %lld\n", objects, then->objects);
	if (pinned != then->pinned)
		printf("# pinned_bytes %lld, was %lld\n", pinned, then->pinned);
	return objects == then->objects && pinned == then->pinned;
}

int ksft_busy_job(struct bnd_dev *dev, uint32_t seed, struct bitnet_job *job)
{
	static struct kw w;
	static struct ka a;
	int32_t *out;
	uint32_t h;

	if (kw_make(&w, BNC_FMT_I2_S, 2048, 2048, seed) || ka_make(&a, 4, 2048, seed + 1) ||
	    kw_load(dev, &w, &h))
		return -1;
	out = calloc(4 * 2048, sizeof(*out));
	if (!out)
		return -1;
	bnd_job_matmul(job, h, 4, a.q, a.sigma, NULL, out, BITNET_OUT_I32);
	return 0;
}

int ksft_have_device(const char **why)
{
	int fd = open(BND_DEFAULT_PATH, O_RDWR);

	if (fd < 0) {
		*why = errno == ENOENT ? "/dev/bitnet missing (module not loaded)" :
					 "/dev/bitnet cannot be opened";
		return 0;
	}
	close(fd);
	return 1;
}
