// SPDX-License-Identifier: GPL-2.0
/* A kselftest-style program that never ends: the guest's timeout must kill it. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("1..1\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
