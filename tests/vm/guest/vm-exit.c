// SPDX-License-Identifier: GPL-2.0
/*
 * vm-exit CODE: ends the VM through QEMU's isa-debug-exit device at port
 * 0xf4 (qemu then exits with status CODE * 2 + 1). Busybox has no way to
 * write an I/O port, hence this helper. Falls back to a plain power-off
 * when the port cannot be reached, so the guest never keeps running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;

	sync();
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl((unsigned int)code & 0xff, DEBUG_EXIT_PORT);
	else
		perror("vm-exit: ioperm");
	reboot(RB_POWER_OFF);
	perror("vm-exit: reboot");
	return 1;
}
