// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet kselftest, run last (the harness runs programs in name order):
 * after every other test has closed its files, the module holds no
 * objects and no memory, and its counters saw the work.
 */
#include <stdio.h>
#include "kselftest_harness.h"
#include "ksft_common.h"

TEST(nothing_left)
{
	const char *why;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	EXPECT_EQ(0, ksft_stat_wait("live_objects", 0));
	EXPECT_EQ(0, ksft_stat_wait("pinned_bytes", 0));
	/* every context freed: rings, overflow lists and jobs with them */
	EXPECT_EQ(0, ksft_stat_wait("live_contexts", 0));
}

TEST(counters_saw_work)
{
	const char *why;
	char line[128];
	FILE *f;
	int cpus = 0;

	if (!ksft_have_device(&why))
		SKIP(return, "%s", why);
	EXPECT_LT(0, ksft_stat("jobs"));
	EXPECT_LT(0, ksft_stat("ops"));
	EXPECT_LT(0, ksft_stat("bytes_read"));
	EXPECT_LT(0, ksft_stat("bad_input"));
	EXPECT_LT(0, ksft_stat("busy_ns"));
	f = fopen("/sys/kernel/debug/bitnet/busy_ns", "r");
	if (!f)
		SKIP(return, "debugfs not mounted");
	while (fgets(line, sizeof(line), f))
		cpus += line[0] == 'c';
	fclose(f);
	EXPECT_LT(0, cpus);
}

TEST_HARNESS_MAIN
