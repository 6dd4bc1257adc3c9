// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for p2pmem: /sys/kernel/debug/fail_p2pmem.
 *
 * Two places of p2pmem take memory that neither failslab nor
 * fail_page_alloc can fail: the allocation from a provider's gen_pool
 * and the memremap_pages() of a BAR range. Each asks
 * p2pmem_should_fail() first and behaves as if that step had failed when
 * it answers true. The attribute takes the usual fault-injection controls
 * (probability, interval, times, task-filter, ...; see
 * Documentation/fault-injection/fault-injection.rst) and counts for a
 * task's /proc/<pid>/fail-nth like every other attribute.
 */
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/init.h>

#include "p2pmem.h"

static DECLARE_FAULT_ATTR(p2pmem_fail_attr);

/**
 * p2pmem_should_fail() - whether to fail this gen_pool or memremap step
 * @size: how many bytes the step is about to take
 *
 * Return: true when the caller is to behave as if its step had failed.
 */
bool p2pmem_should_fail(size_t size)
{
	return should_fail(&p2pmem_fail_attr, size);
}

static int __init p2pmem_fail_debugfs(void)
{
	struct dentry *dir;

	dir = fault_create_debugfs_attr("fail_p2pmem", NULL, &p2pmem_fail_attr);
	return PTR_ERR_OR_ZERO(dir);
}
late_initcall(p2pmem_fail_debugfs);
