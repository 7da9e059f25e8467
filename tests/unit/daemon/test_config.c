// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of bitnetd's configuration parser (TAP).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/bitnetd/config.h"
#include "tests/tap.h"

static int parse(struct bnetd_config *c, const char *text, char *err)
{
	bnetd_config_defaults(c);
	err[0] = '\0';
	return bnetd_config_parse(c, text, err, 256);
}

int main(void)
{
	struct bnetd_config c;
	char err[256];
	int r;

	printf("1..16\n");
	r = parse(&c,
		  "# comment\n\n[Service]\nThreads = 2\nBackend=cpu\nHead=q4\nPack=t5\n"
		  "[Limits]\nMaxQueue=5\nMemoryBudget=2G\nMaxTokensPerUser=100K\n"
		  "[Model]\nName=tiny\nPath=/m/tiny.gguf\n[Model]\nName=b\nPath=/m/b.gguf\n",
		  err);
	tap_ok(r == 0, "a full file parses");
	tap_ok(c.threads == 2 && c.backend && !strcmp(c.backend, "cpu") && c.head &&
		       !strcmp(c.head, "q4") && c.pack && !strcmp(c.pack, "t5"),
	       "[Service] keys");
	tap_ok(c.limits.max_queue == 5 && c.limits.memory_budget == (2ULL << 30) &&
		       c.limits.max_tokens_per_user == 100 * 1024,
	       "[Limits] with size suffixes");
	tap_ok(c.limits.prefill_chunk == 64, "unset limits keep their defaults");
	tap_ok(c.n_models == 2 && !strcmp(c.models[1].name, "b") &&
		       !strcmp(c.models[0].path, "/m/tiny.gguf"),
	       "two [Model] sections");
	bnetd_config_free(&c);

	r = parse(&c, "[Limits]\nMaxQueue=5\nBogus=1\n", err);
	tap_ok(r == -EINVAL && strstr(err, "line 3") && strstr(err, "Bogus"),
	       "unknown key named with its line");
	bnetd_config_free(&c);
	r = parse(&c, "[Limits]\nMaxQueue=-1\n", err);
	tap_ok(r == -EINVAL && strstr(err, "line 2"), "negative number refused");
	bnetd_config_free(&c);
	r = parse(&c, "[Limits]\nMaxQueue=0\n", err);
	tap_ok(r == -EINVAL, "MaxQueue=0 out of range");
	bnetd_config_free(&c);
	r = parse(&c, "[Limits]\nMaxQueue=99999999999\n", err);
	tap_ok(r == -EINVAL, "32-bit limit overflow refused");
	bnetd_config_free(&c);
	r = parse(&c, "[Model]\nName=x\n", err);
	tap_ok(r == -EINVAL && strstr(err, "Path"), "model without Path refused");
	bnetd_config_free(&c);
	r = parse(&c, "[Model]\nName=x\nPath=/a\n[Model]\nName=x\nPath=/b\n", err);
	tap_ok(r == -EINVAL && strstr(err, "twice"), "duplicate model name refused");
	bnetd_config_free(&c);
	r = parse(&c, "Threads=1\n", err);
	tap_ok(r == -EINVAL && strstr(err, "outside"), "key outside a section refused");
	bnetd_config_free(&c);
	r = parse(&c, "[Nope]\n", err);
	tap_ok(r == -EINVAL && strstr(err, "Nope"), "unknown section refused");
	bnetd_config_free(&c);
	r = parse(&c, "[Service]\nBackend=gpu\n", err);
	tap_ok(r == -EINVAL, "unknown backend refused");
	r = parse(&c, "[Service]\nHead=q5\n", err);
	tap_ok(r == -EINVAL, "unknown head format refused");
	bnetd_config_free(&c);
	r = parse(&c, "[Service]\nPack=t4\n", err);
	tap_ok(r == -EINVAL && strstr(err, "Pack"), "unknown weight layout refused");
	bnetd_config_free(&c);
	return tap_exit();
}
