// SPDX-License-Identifier: GPL-2.0
/*
 * A kselftest-style TAP program that always fails one case: the VM
 * harness must turn it into a "not ok".
 */
#include <stdio.h>

int main(void)
{
	printf("TAP version 13\n1..2\n");
	printf("ok 1 selftest_pass\n");
	printf("not ok 2 selftest_fail # this case fails on purpose\n");
	printf("# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0\n");
	return 1;
}
