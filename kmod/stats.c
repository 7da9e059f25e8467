// SPDX-License-Identifier: GPL-2.0
/*
 * Counters. Totals are read-only sysfs attributes of the misc device
 * (/sys/class/misc/bitnet/<name>), one value each; the per-CPU busy time is a
 * debugfs file (/sys/kernel/debug/bitnet/busy_ns), one "cpuN ns" line per
 * possible CPU.
 */
#include <linux/device.h>
#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include "bitnet_priv.h"

struct bitnet_stats bitnet_stats;

static DEFINE_PER_CPU(u64, bitnet_busy_ns);
static struct dentry *bitnet_debugfs;

void bitnet_stats_busy(u64 ns)
{
	this_cpu_add(bitnet_busy_ns, ns);
}

#define BITNET_STAT_ATTR(name)						\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  (long long)atomic64_read(&bitnet_stats.name)); \
}									\
static DEVICE_ATTR_RO(name)

BITNET_STAT_ATTR(jobs);
BITNET_STAT_ATTR(job_errors);
BITNET_STAT_ATTR(ops);
BITNET_STAT_ATTR(bytes_read);
BITNET_STAT_ATTR(live_objects);
BITNET_STAT_ATTR(live_contexts);
BITNET_STAT_ATTR(pinned_bytes);
BITNET_STAT_ATTR(bad_input);

static ssize_t busy_ns_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(bitnet_busy_ns, cpu);
	return sysfs_emit(buf, "%llu\n", sum);
}
static DEVICE_ATTR_RO(busy_ns);

static struct attribute *bitnet_attrs[] = {
	&dev_attr_jobs.attr,
	&dev_attr_job_errors.attr,
	&dev_attr_ops.attr,
	&dev_attr_bytes_read.attr,
	&dev_attr_live_objects.attr,
	&dev_attr_live_contexts.attr,
	&dev_attr_pinned_bytes.attr,
	&dev_attr_bad_input.attr,
	&dev_attr_busy_ns.attr,
	NULL,
};

static const struct attribute_group bitnet_attr_group = {
	.attrs = bitnet_attrs,
};

const struct attribute_group *bitnet_attr_groups[] = {
	&bitnet_attr_group,
	NULL,
};

static int bitnet_busy_show(struct seq_file *m, void *v)
{
	int cpu;

	for_each_possible_cpu(cpu)
		seq_printf(m, "cpu%d %llu\n", cpu, per_cpu(bitnet_busy_ns, cpu));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bitnet_busy);

int bitnet_stats_init(void)
{
	/* debugfs is optional: failures only lose the per-CPU view. */
	bitnet_debugfs = debugfs_create_dir("bitnet", NULL);
	debugfs_create_file("busy_ns", 0444, bitnet_debugfs, NULL, &bitnet_busy_fops);
	return 0;
}

void bitnet_stats_exit(void)
{
	debugfs_remove_recursive(bitnet_debugfs);
}
