// SPDX-License-Identifier: GPL-2.0
/*
 * bitnet_vmcheck: the VM harness's own test module. With warn=1 (the
 * default) it hits WARN_ON at load, and with bug=1 a BUG() (an oops that
 * kills insmod), which the harness must report as failures; with warn=0 it
 * loads and unloads cleanly, a positive control.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/bug.h>

static bool warn = true;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN_ON(1) at load (default: true)");

static bool bug;
module_param(bug, bool, 0444);
MODULE_PARM_DESC(bug, "BUG() at load (default: false)");

static int __init vmcheck_init(void)
{
	WARN_ON(warn);
	BUG_ON(bug);
	pr_info("bitnet_vmcheck: loaded (warn=%d)\n", warn);
	return 0;
}

static void __exit vmcheck_exit(void)
{
	pr_info("bitnet_vmcheck: unloaded\n");
}

module_init(vmcheck_init);
module_exit(vmcheck_exit);
MODULE_DESCRIPTION("bitnet VM test harness self-test module");
MODULE_LICENSE("GPL");
