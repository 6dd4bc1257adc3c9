// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem debugfs: per provider statistics and the verdict of every
 * provider/client pair.
 *
 *   /sys/kernel/debug/p2pmem/verdicts		every provider, every client
 *   /sys/kernel/debug/p2pmem/clients		bytes each device with the
 *						shim mapped, by kind
 *   /sys/kernel/debug/p2pmem/<pci-name>/stats
 *   /sys/kernel/debug/p2pmem/<pci-name>/verdicts
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "p2pmem.h"

static struct dentry *p2pmem_debugfs_root;

static void p2pmem_show_verdicts(struct seq_file *m,
				 struct p2pmem_provider *prov)
{
	struct p2pmem_verdict v;
	struct pci_dev *client = NULL;

	for_each_pci_dev(client) {
		if (pci_is_bridge(client))
			continue;
		p2pmem_verdict_get(prov, client, &v);
		seq_printf(m, "%s %s %s %d %s\n", pci_name(prov->pdev),
			   pci_name(client), p2pmem_map_type_name(v.type),
			   v.distance, v.reason);
	}
}

static int verdicts_show(struct seq_file *m, void *unused)
{
	struct p2pmem_provider *prov = m->private;
	unsigned long idx;

	/*
	 * A provider's own file is removed before the provider goes, so it
	 * needs no lock (and must not take p2pmem_lock, which is held when
	 * a failed registration removes the file).
	 */
	if (prov) {
		p2pmem_show_verdicts(m, prov);
		return 0;
	}
	mutex_lock(&p2pmem_lock);
	xa_for_each(&p2pmem_providers, idx, prov)
		p2pmem_show_verdicts(m, prov);
	mutex_unlock(&p2pmem_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(verdicts);

static int stats_show(struct seq_file *m, void *unused)
{
	struct p2pmem_provider *prov = m->private;
	struct p2pmem_stats *st = &prov->stats;

	seq_printf(m, "allocations %ld\n", atomic_long_read(&st->allocs));
	seq_printf(m, "frees %ld\n", atomic_long_read(&st->frees));
	seq_printf(m, "failed %ld\n", atomic_long_read(&st->failed));
	seq_printf(m, "bytes_in_use %ld\n", atomic_long_read(&st->in_use));
	seq_printf(m, "high_water %ld\n", atomic_long_read(&st->high_water));
	seq_printf(m, "refused %ld\n", atomic_long_read(&st->refused));
	seq_printf(m, "unknown %ld\n", atomic_long_read(&st->unknown));
	seq_printf(m, "mapped_bus %ld\n", atomic_long_read(&st->mapped_bus));
	seq_printf(m, "mapped_host_bridge %ld\n",
		   atomic_long_read(&st->mapped_host_bridge));
	seq_printf(m, "mappings %ld\n", atomic_long_read(&st->mappings));
	seq_printf(m, "size %zu\n", gen_pool_size(prov->pool));
	seq_printf(m, "available %zu\n", gen_pool_avail(prov->pool));
	seq_printf(m, "published %d\n", READ_ONCE(prov->published));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int clients_show(struct seq_file *m, void *unused)
{
	struct p2pmem_client_stats *cs;
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev) {
		rcu_read_lock();
		cs = xa_load(&p2pmem_clients, p2pmem_dev_key(pdev));
		if (cs)
			seq_printf(m, "%s host %lld bus %lld host_bridge %lld\n",
				   pci_name(pdev), atomic64_read(&cs->host),
				   atomic64_read(&cs->bus),
				   atomic64_read(&cs->host_bridge));
		rcu_read_unlock();
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(clients);

/**
 * p2pmem_debugfs_init() - create /sys/kernel/debug/p2pmem
 */
void p2pmem_debugfs_init(void)
{
	p2pmem_debugfs_root = debugfs_create_dir("p2pmem", NULL);
	debugfs_create_file("verdicts", 0444, p2pmem_debugfs_root, NULL,
			    &verdicts_fops);
	debugfs_create_file("clients", 0444, p2pmem_debugfs_root, NULL,
			    &clients_fops);
}

/**
 * p2pmem_debugfs_add() - create a provider's debugfs directory
 * @prov: the provider
 */
void p2pmem_debugfs_add(struct p2pmem_provider *prov)
{
	prov->debugfs = debugfs_create_dir(pci_name(prov->pdev),
					   p2pmem_debugfs_root);
	debugfs_create_file("stats", 0444, prov->debugfs, prov, &stats_fops);
	debugfs_create_file("verdicts", 0444, prov->debugfs, prov,
			    &verdicts_fops);
}

/**
 * p2pmem_debugfs_remove() - remove a provider's debugfs directory
 * @prov: the provider
 */
void p2pmem_debugfs_remove(struct p2pmem_provider *prov)
{
	debugfs_remove_recursive(prov->debugfs);
	prov->debugfs = NULL;
}
