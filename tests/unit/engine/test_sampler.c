// SPDX-License-Identifier: GPL-2.0
/* Samplers: greedy, seeded draws, the filters, penalties, bias, checks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "daemon/engine/engine.h"
#include "tests/tap.h"

static struct bn_sampler_params greedy(void)
{
	struct bn_sampler_params p;

	bn_sampler_params_default(&p);
	p.temperature = 0;
	return p;
}

static int32_t sample_once(const struct bn_sampler_params *p, const float *logits, uint32_t n)
{
	struct bn_sampler *s = bn_sampler_new(p);
	float buf[64];
	int32_t t;

	memcpy(buf, logits, n * sizeof(float));
	t = bn_sampler_sample(s, buf, n);
	bn_sampler_free(s);
	return t;
}

/* Count how often token 0 is drawn in @n draws of one sampler. */
static int draws_of_zero(const struct bn_sampler_params *p, const float *logits, uint32_t nv, int n)
{
	struct bn_sampler *s = bn_sampler_new(p);
	float buf[64];
	int i, c = 0;

	for (i = 0; i < n; i++) {
		memcpy(buf, logits, nv * sizeof(float));
		c += bn_sampler_sample(s, buf, nv) == 0;
	}
	bn_sampler_free(s);
	return c;
}

static uint32_t argmax_scan(const float *x, uint32_t n)
{
	uint32_t i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/*
 * Greedy (a vector argmax) against the scalar scan: lengths around the
 * vector width and a 2B-4T vocabulary, many ties, NaNs (also first), both
 * zeros, -inf.
 */
static bool greedy_is_the_scan(void)
{
	static float v[128256], buf[128256];
	static const uint32_t lens[] = { 1, 2, 15, 16, 17, 31, 33, 40, 128256 };
	struct bn_sampler_params p = greedy();
	struct bn_sampler *s = bn_sampler_new(&p);
	uint32_t r = 1, i, k, n, round;
	bool ok = s != NULL;

	for (k = 0; ok && k < sizeof(lens) / sizeof(lens[0]); k++) {
		for (round = 0; round < 40; round++) {
			n = lens[k];
			for (i = 0; i < n; i++) {
				r = r * 1103515245u + 12345u;
				switch ((r >> 8) % 16) {
				case 0:
					v[i] = NAN;
					break;
				case 1:
					v[i] = -0.0f;
					break;
				case 2:
					v[i] = 0.0f;
					break;
				case 3:
					v[i] = -INFINITY;
					break;
				default:
					v[i] = (float)((r >> 12) % 64) - 60.0f;
				}
			}
			if (round % 5 == 0)
				v[0] = NAN;
			memcpy(buf, v, n * sizeof(float));
			ok &= bn_sampler_sample(s, buf, n) == (int32_t)argmax_scan(v, n);
		}
	}
	bn_sampler_free(s);
	return ok;
}

static bool rejected(struct bn_sampler_params p, const char *field)
{
	char err[256] = "";

	return bn_sampler_params_check(&p, err, sizeof(err)) < 0 && strstr(err, field) &&
	       !bn_sampler_new(&p);
}

int main(void)
{
	float l[8] = { 0.1f, 2.0f, -1.0f, 1.9f, 0.0f, 0.5f, -3.0f, 1.0f };
	float two[2] = { logf(0.7f), logf(0.3f) };
	struct bn_sampler_params p = greedy();
	struct bn_logit_bias ban = { 1, -INFINITY };
	struct bn_sampler *s;
	int32_t seq_a[32], seq_b[32], seq_c[32];
	int i, c;

	printf("1..18\n");
	tap_ok(sample_once(&p, l, 8) == 1, "greedy picks the argmax");
	tap_ok(greedy_is_the_scan(), "greedy is the first largest logit (a '>' scan) with "
				     "ties, NaNs, zeros, -inf, 1..128256 logits");

	p.logit_bias = &ban;
	p.n_logit_bias = 1;
	tap_ok(sample_once(&p, l, 8) == 3, "logit bias -inf bans a token");

	p = greedy();
	p.repeat_penalty = 1.5f;
	s = bn_sampler_new(&p);
	bn_sampler_accept(s, 1);
	{
		float buf[8];

		memcpy(buf, l, sizeof(buf));
		tap_ok(bn_sampler_sample(s, buf, 8) == 3, "repetition penalty moves greedy off a "
							  "repeated token");
	}
	bn_sampler_free(s);

	p = greedy();
	p.presence_penalty = 0.2f;
	p.repeat_last_n = 1;
	s = bn_sampler_new(&p);
	bn_sampler_accept(s, 1);
	bn_sampler_accept(s, 5); /* pushes 1 out of a window of 1 */
	{
		float buf[8];

		memcpy(buf, l, sizeof(buf));
		tap_ok(bn_sampler_sample(s, buf, 8) == 1, "penalties only see the last n tokens");
	}
	bn_sampler_free(s);

	p = greedy();
	p.frequency_penalty = 0.06f;
	s = bn_sampler_new(&p);
	bn_sampler_accept(s, 1);
	bn_sampler_accept(s, 1);
	{
		float buf[8];

		memcpy(buf, l, sizeof(buf));
		tap_ok(bn_sampler_sample(s, buf, 8) == 3 && fabsf(buf[1] - 1.88f) < 1e-5f,
		       "frequency penalty scales with the count");
	}
	bn_sampler_free(s);

	bn_sampler_params_default(&p);
	p.temperature = 1.0f;
	p.top_k = 0;
	p.top_p = 1;
	p.min_p = 0;
	p.seed = 42;
	for (int run = 0; run < 3; run++) {
		int32_t *out = run == 0 ? seq_a : run == 1 ? seq_b : seq_c;

		p.seed = run == 2 ? 43 : 42;
		s = bn_sampler_new(&p);
		for (i = 0; i < 32; i++) {
			float buf[8];

			memcpy(buf, l, sizeof(buf));
			out[i] = bn_sampler_sample(s, buf, 8);
		}
		bn_sampler_free(s);
	}
	tap_ok(!memcmp(seq_a, seq_b, sizeof(seq_a)), "same seed, same tokens");
	tap_ok(memcmp(seq_a, seq_c, sizeof(seq_a)) != 0, "another seed, other tokens");

	p.seed = 7;
	c = draws_of_zero(&p, two, 2, 20000);
	printf("# token 0 drawn %d of 20000 (p = 0.7)\n", c);
	tap_ok(c > 13600 && c < 14400, "temperature 1 draws by the softmax probabilities");

	p.temperature = 0.5f;
	c = draws_of_zero(&p, two, 2, 20000);
	/* p0 = 0.7^2 / (0.7^2 + 0.3^2) = 0.845 */
	printf("# at temperature 0.5: %d of 20000 (p = 0.845)\n", c);
	tap_ok(c > 16500 && c < 17300, "temperature sharpens the distribution");

	p.temperature = 1.0f;
	p.top_k = 1;
	tap_ok(draws_of_zero(&p, two, 2, 500) == 500, "top-k 1 is greedy");
	p.top_k = 0;
	p.top_p = 0.6f;
	tap_ok(draws_of_zero(&p, two, 2, 500) == 500, "top-p 0.6 keeps only the 0.7 token");
	p.top_p = 1;
	p.min_p = 0.5f;
	tap_ok(draws_of_zero(&p, two, 2, 500) == 500, "min-p 0.5 drops a token below 0.35");
	p.min_p = 0;
	p.typical_p = 0.5f;
	c = draws_of_zero(&p, two, 2, 500);
	tap_ok(c == 0 || c == 500, "typical-p 0.5 keeps a single token");

	p = greedy();
	p.temperature = -1;
	tap_ok(rejected(p, "temperature"), "negative temperature refused by name");
	p = greedy();
	p.top_p = NAN;
	tap_ok(rejected(p, "top_p"), "NaN top_p refused");
	p = greedy();
	p.repeat_last_n = -2;
	tap_ok(rejected(p, "repeat_last_n"), "repeat_last_n -2 refused");
	p = greedy();
	p.n_logit_bias = 100000000;
	p.logit_bias = &ban;
	tap_ok(rejected(p, "logit"), "absurd number of logit biases refused");
	return tap_exit();
}
