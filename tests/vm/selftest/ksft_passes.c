// SPDX-License-Identifier: GPL-2.0
/*
 * A kselftest-style TAP program that passes when the guest's init mounted
 * /proc and /sys: the harness's positive control.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int proc_ok = access("/proc/self/stat", R_OK) == 0;
	int sys_ok = access("/sys/kernel", R_OK) == 0;

	printf("TAP version 13\n1..2\n");
	printf("%s 1 proc_mounted\n", proc_ok ? "ok" : "not ok");
	printf("%s 2 sysfs_mounted\n", sys_ok ? "ok" : "not ok");
	return proc_ok && sys_ok ? 0 : 1;
}
