// SPDX-License-Identifier: GPL-2.0
/* A kselftest-style program that skips (exit 4): the harness must say SKIP. */
#include <stdio.h>

int main(void)
{
	printf("1..0 # SKIP nothing to test here\n");
	return 4;
}
