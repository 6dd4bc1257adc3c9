/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmem internals shared by the files of drivers/pci/p2pmem/.
 * Nothing here is part of the consumer API in <linux/p2pmem.h>.
 */
#ifndef _DRIVERS_PCI_P2PMEM_H
#define _DRIVERS_PCI_P2PMEM_H

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/genalloc.h>
#include <linux/jump_label.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/p2pmem.h>
#include <linux/pci.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define P2PMEM_REASON_LEN	200

/* Is the kernel running under a hypervisor? Known on x86 only. */
#ifdef CONFIG_X86
#include <linux/cpufeature.h>
static inline bool p2pmem_in_vm(void)
{
	return boot_cpu_has(X86_FEATURE_HYPERVISOR);
}
#else
static inline bool p2pmem_in_vm(void)
{
	return false;
}
#endif

/* Distance added when traffic must cross the host bridge. */
#define P2PMEM_HOST_BRIDGE_PENALTY	256

/* Flags of a host bridge known to route peer-to-peer traffic. */
#define P2PMEM_HB_SAME_BRIDGE_ONLY	BIT(0)	/* not across host bridges */
#define P2PMEM_HB_WRITES_ONLY		BIT(1)	/* posted writes only */

/* Flags of a verdict. */
#define P2PMEM_VF_WRITES_ONLY		BIT(0)
#define P2PMEM_VF_OVERRIDE		BIT(1)

/**
 * struct p2pmem_verdict - how a client reaches a provider, and why
 * @type: route to use
 * @distance: number of links traversed, plus a penalty for the host bridge
 * @flags: P2PMEM_VF_* flags
 * @reason: human readable explanation
 */
struct p2pmem_verdict {
	enum p2pmem_map_type type;
	int distance;
	unsigned int flags;
	char reason[P2PMEM_REASON_LEN];
};

/**
 * struct p2pmem_hb_id - a host bridge known to route peer-to-peer
 * @vendor: PCI vendor ID of the function that identifies the host bridge
 *	(00.0 on its root bus, or the root port or root complex integrated
 *	endpoint on the way)
 * @device: its PCI device ID, or %PCI_ANY_ID for every device of @vendor
 * @flags: P2PMEM_HB_* flags
 * @name: the platform, as verdicts name it
 */
struct p2pmem_hb_id {
	u16 vendor;
	u32 device;
	unsigned int flags;
	const char *name;
};

/* CPU vendors the table of known host bridges tells apart. */
enum p2pmem_cpu_vendor {
	P2PMEM_CPU_OTHER,
	P2PMEM_CPU_AMD,
};

/**
 * struct p2pmem_hb_desc - what identifies a host bridge to the known list
 * @fn0_vendor: vendor ID of function 00.0 of the root bus, 0 if it has none
 * @fn0_device: its device ID
 * @top_vendor: vendor ID of the device on the root bus on the way (a root
 *	port, or the device itself when it is integrated), 0 if none
 * @top_device: its device ID
 * @cpu_vendor: the boot CPU's vendor
 * @cpu_family: the boot CPU's family (x86: CPUID family, extended included)
 *
 * p2pmem_hb_match() looks only at this, so KUnit can ask about host
 * bridges that the test machine does not have.
 */
struct p2pmem_hb_desc {
	u16 fn0_vendor;
	u16 fn0_device;
	u16 top_vendor;
	u16 top_device;
	enum p2pmem_cpu_vendor cpu_vendor;
	unsigned int cpu_family;
};

/* The boot CPU, for struct p2pmem_hb_desc. Known on x86 only. */
#ifdef CONFIG_X86
#include <asm/processor.h>
static inline void p2pmem_hb_desc_cpu(struct p2pmem_hb_desc *d)
{
	d->cpu_vendor = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ?
			P2PMEM_CPU_AMD : P2PMEM_CPU_OTHER;
	d->cpu_family = boot_cpu_data.x86;
}
#else
static inline void p2pmem_hb_desc_cpu(struct p2pmem_hb_desc *d)
{
	d->cpu_vendor = P2PMEM_CPU_OTHER;
	d->cpu_family = 0;
}
#endif

/**
 * struct p2pmem_range - one registered part of a BAR
 * @prov: owning provider
 * @pgmap: the ZONE_DEVICE mapping
 * @virt: kernel virtual address of the start
 * @phys: CPU physical address of the start
 * @bus: PCI bus address of the start
 * @size: length in bytes
 * @bar: BAR index
 * @node: entry in the provider's list of ranges
 */
struct p2pmem_range {
	struct p2pmem_provider *prov;
	struct dev_pagemap pgmap;
	unsigned long virt;
	phys_addr_t phys;
	pci_bus_addr_t bus;
	size_t size;
	int bar;
	struct list_head node;
};

/**
 * struct p2pmem_stats - per provider counters, shown in debugfs
 * @allocs: successful allocations so far
 * @frees: frees so far
 * @failed: allocations that failed
 * @in_use: bytes currently allocated
 * @high_water: largest value @in_use has had
 * @refused: DMA mappings of this provider's memory that were refused
 * @unknown: mappings refused because the verdict table had no verdict for
 *	the client (also counted in @refused)
 * @mapped_bus: bytes of it mapped by the shim at bus addresses
 * @mapped_host_bridge: bytes of it mapped by the shim through the host
 *	bridge
 * @mappings: DMA mappings of its memory the shim made that are not yet
 *	unmapped: one per sgl (one per p2pmem entry of an sgl that holds
 *	memory of several providers) and one per single mapping; each holds
 *	a reference on the provider
 */
struct p2pmem_stats {
	atomic_long_t allocs;
	atomic_long_t frees;
	atomic_long_t failed;
	atomic_long_t in_use;
	atomic_long_t high_water;
	atomic_long_t refused;
	atomic_long_t unknown;
	atomic_long_t mapped_bus;
	atomic_long_t mapped_host_bridge;
	atomic_long_t mappings;
};

/**
 * struct p2pmem_shim - p2pmem's DMA operations stacked on a device's own
 * @ops: what the device's dma_ops points to
 * @orig: the operations stacked on (dma_direct_ops for dma-direct)
 * @routed: @orig has %DMA_F_P2P_ROUTED: the shim routes p2pmem entries,
 *	marks those on the bus address route and hands the whole sgl to
 *	@orig in one call (%DMA_ATTR_P2P_ROUTED); @orig unmaps and syncs it
 *	without the shim
 * @runs: without @routed, @orig maps an sgl one segment per entry, so host
 *	entries of a mixed sgl are mapped in runs rather than one by one
 * @probe: @routed, and the device's last sgl held no p2pmem: hand the next
 *	one to @orig untouched, and have @orig look for P2PDMA pages in it
 *	(%DMA_ATTR_P2P_PROBE), rather than route it first
 * @probe_never: @orig refused to probe an sgl without p2pmem: it cannot
 *	probe this device's lists, so @probe stays off
 *
 * Each device with the shim has its own, in its struct p2pmem_client_stats,
 * so that the DMA path finds the device's record from its dma_ops alone.
 */
struct p2pmem_shim {
	const struct dma_map_ops ops;
	const struct dma_map_ops *orig;
	bool routed;
	bool runs;
	bool probe;
	bool probe_never;
};

/**
 * struct p2pmem_single - one single mapping of p2pmem, or several alike
 * @addr: its first DMA address
 * @size: its length
 * @prov: the provider of the memory; each mapping holds a reference
 * @count: mappings of exactly this DMA address range and route
 * @bus: mapped at its bus address, not by the original operations
 */
struct p2pmem_single {
	dma_addr_t addr;
	size_t size;
	struct p2pmem_provider *prov;
	unsigned int count;
	bool bus;
};

/**
 * struct p2pmem_singles - the single mappings of p2pmem of one device
 * @lock: guards the rest; taken with interrupts off
 * @rec: @cap records, of which the first @n are in use, by address
 * @n: records in use
 * @cap: records there are room for; none once the device is going
 * @grow: makes room for more, in process context: a mapping call
 *	never allocates
 */
struct p2pmem_singles {
	spinlock_t lock;	/* guards @rec, @n and @cap */
	struct p2pmem_single *rec;
	unsigned int n;
	unsigned int cap;
	struct work_struct grow;
};

/**
 * struct p2pmem_client_stats - what one device mapped through the shim
 * @shim: the device's shim: its dma_ops while it has the shim
 * @bus: bytes of p2pmem mapped at bus addresses
 * @host_bridge: bytes of p2pmem mapped through the host bridge
 * @host: bytes of host memory mapped (streaming mappings: the data the
 *	device moves, not its coherent queues)
 * @prev: the device's dma_ops before the shim, %NULL included: what a
 *	restore gives back
 * @live: the device's DMA mappings of p2pmem the shim made that are not
 *	yet unmapped: sgls holding p2pmem entries (%P2PMEM_SG_HELD) and
 *	single mappings
 * @singles: the single mappings of p2pmem (map_page, map_resource), one
 *	struct p2pmem_single per DMA address range, in records made ahead
 * @rcu: for freeing while the DMA path may still read it
 *
 * Kept in p2pmem_clients from the device's first shim injection until the
 * device is deleted: a restore (which leaves the shim in place while @live
 * is not zero) keeps it, so a DMA call still on its way through the shim
 * finds it, and a later injection takes it up again, counters and all.
 */
struct p2pmem_client_stats {
	struct p2pmem_shim shim;
	atomic64_t bus;
	atomic64_t host_bridge;
	atomic64_t host;
	const struct dma_map_ops *prev;
	atomic_long_t live;
	struct p2pmem_singles singles;
	struct rcu_head rcu;
};

/*
 * Bits of the first entry's dma_flags, next to SG_DMA_BUS_ADDRESS, that
 * tell the shim's unmap what its map did without a scan of the list:
 *
 * P2PMEM_SG_HELD: the sgl holds p2pmem entries and references on their
 *	providers until it is unmapped: one on the provider with
 *	P2PMEM_SG_ONE_PROV, else one per p2pmem entry.
 * P2PMEM_SG_ONE_PROV: all p2pmem entries are of one provider.
 * P2PMEM_SG_ALL_BUS: every entry is on the bus address route: the original
 *	operations were not called and are not called to unmap it.
 */
#define P2PMEM_SG_HELD		BIT(1)
#define P2PMEM_SG_ONE_PROV	BIT(2)
#define P2PMEM_SG_ALL_BUS	BIT(3)
#define P2PMEM_SG_FLAGS		(P2PMEM_SG_HELD | P2PMEM_SG_ONE_PROV | \
				 P2PMEM_SG_ALL_BUS)

/**
 * struct p2pmem_provider - a PCI device whose memory p2pmem hands out
 * @pdev: the PCI device
 * @dev: the p2pmem class device, /sys/class/p2pmem/p2pmemN
 * @id: N of p2pmemN
 * @pool: allocator over all ranges
 * @ref: one reference per outstanding allocation, plus the base one
 * @ref_done: completed when @ref drops to zero after being killed
 * @allocs: outstanding allocations, indexed by virtual page frame
 * @verdicts: verdict table, indexed by p2pmem_dev_key() of the client
 * @ranges: registered ranges
 * @published: visible to p2pmem_find()
 * @dying: removal started
 * @sysfs_done: attribute group added under the PCI device
 * @stats: counters
 * @debugfs: this provider's debugfs directory
 */
struct p2pmem_provider {
	struct pci_dev *pdev;
	struct device dev;
	int id;
	struct gen_pool *pool;
	struct percpu_ref ref;
	struct completion ref_done;
	struct xarray allocs;
	struct xarray verdicts;
	struct list_head ranges;
	bool published;
	bool dying;
	bool sysfs_done;
	struct p2pmem_stats stats;
	struct dentry *debugfs;
};

/**
 * struct p2pmem_alloc_rec - bookkeeping of one allocation
 * @size: bytes allocated
 * @caller: return address of the allocating function
 */
struct p2pmem_alloc_rec {
	size_t size;
	unsigned long caller;
};

/**
 * struct p2pmem_pfn_window - the page frames that may be p2pmem's
 * @lo: first page frame of the lowest range
 * @span: page frames from @lo to the end of the highest range; 0 for none
 * @rcu: for freeing after a replacement
 *
 * Telling a page out by its frame number does not touch its struct page,
 * which keeps the shim's scan of a host scatterlist cheap.
 */
struct p2pmem_pfn_window {
	unsigned long lo;
	unsigned long span;
	struct rcu_head rcu;
};

extern struct p2pmem_pfn_window __rcu *p2pmem_window;

/* Read the window once, for a whole scatterlist. */
static inline void p2pmem_window_read(unsigned long *lo, unsigned long *span)
{
	struct p2pmem_pfn_window *w;

	rcu_read_lock();
	w = rcu_dereference(p2pmem_window);
	*lo = w ? w->lo : 0;
	*span = w ? w->span : 0;
	rcu_read_unlock();
}

/* The p2pmem range of @page, given the window; NULL for any other page. */
static inline struct p2pmem_range *
p2pmem_page_range_in(struct page *page, unsigned long lo, unsigned long span)
{
	if (likely(page_to_pfn(page) - lo >= span))
		return NULL;
	/* CONFIG_PCI_P2PDMA is excluded: these pages are all p2pmem's. */
	if (!is_zone_device_page(page) ||
	    page->pgmap->type != MEMORY_DEVICE_PCI_P2PDMA)
		return NULL;
	return container_of(page->pgmap, struct p2pmem_range, pgmap);
}

/* The p2pmem range a page belongs to, or NULL for any other page. */
static inline struct p2pmem_range *p2pmem_page_range(struct page *page)
{
	unsigned long lo, span;

	p2pmem_window_read(&lo, &span);
	return p2pmem_page_range_in(page, lo, span);
}

/* core.c */
extern struct mutex p2pmem_lock;
extern struct xarray p2pmem_providers;
extern unsigned int p2pmem_remove_warn_ms;
extern unsigned int p2pmem_singles_max;
DECLARE_STATIC_KEY_FALSE(p2pmem_count_host);
unsigned long p2pmem_dev_key(struct pci_dev *pdev);
struct p2pmem_provider *p2pmem_provider_of(struct pci_dev *pdev);
int p2pmem_window_offset(struct list_head *windows, struct resource *res,
			 resource_size_t *offset);
void p2pmem_remove_provider(struct p2pmem_provider *prov);

/* topology.c */
extern bool p2pmem_assume_bare_metal;
void p2pmem_verdict_compute(struct pci_dev *provider, struct pci_dev *client,
			    struct p2pmem_verdict *v);
void p2pmem_verdict_get(struct p2pmem_provider *prov, struct pci_dev *client,
			struct p2pmem_verdict *v);
enum p2pmem_map_type p2pmem_route(struct p2pmem_provider *prov,
				  struct pci_dev *client);
struct pci_dev *p2pmem_client_pci(struct device *dev);
bool p2pmem_verdict_lookup(struct p2pmem_provider *prov,
			   struct pci_dev *client, struct p2pmem_verdict *v);
void p2pmem_verdicts_provider_added(struct p2pmem_provider *prov);
void p2pmem_verdicts_refresh(struct pci_dev *gone);
int p2pmem_topology_generation(void);
void p2pmem_verdicts_drop(struct p2pmem_provider *prov);
const struct p2pmem_hb_id *p2pmem_hb_lookup(const struct p2pmem_hb_id *table,
					    u16 vendor, u16 device);
const struct p2pmem_hb_id *p2pmem_hb_match(const struct p2pmem_hb_desc *d);
void p2pmem_hb_verdict(const struct p2pmem_hb_desc *d, const char *hb_name,
		       int hops, const char *why, struct p2pmem_verdict *v);
extern const struct p2pmem_hb_id p2pmem_hb_table[];
const char *p2pmem_map_type_name(enum p2pmem_map_type type);
int p2pmem_override_set(const char *val);
int p2pmem_override_show(char *buf, size_t len);
int p2pmem_topology_init(void);
void p2pmem_topology_exit(void);

/* dma.c */
extern struct xarray p2pmem_clients;
struct p2pmem_shim *p2pmem_dma_shim_of(struct device *dev);
const struct dma_map_ops *p2pmem_dma_orig_ops(struct device *dev);
int p2pmem_dma_inject(struct pci_dev *pdev);
int p2pmem_dma_restore(struct pci_dev *pdev);
void p2pmem_dma_provider_added(struct p2pmem_provider *prov);
void p2pmem_dma_provider_removed(struct p2pmem_provider *prov);
void p2pmem_window_update(struct p2pmem_range *extra);
void p2pmem_dma_refused(struct p2pmem_provider *prov, struct device *dev,
			bool has_shim);
int p2pmem_dma_init(void);

/* sysfs.c */
extern struct class p2pmem_class;
int p2pmem_sysfs_add(struct p2pmem_provider *prov);
void p2pmem_sysfs_remove(struct p2pmem_provider *prov);

/* mmap.c */
extern const struct dev_pagemap_ops p2pmem_pgmap_ops;
extern struct bin_attribute p2pmem_bin_attr_allocate;

/* debugfs.c */
void p2pmem_debugfs_init(void);
void p2pmem_debugfs_add(struct p2pmem_provider *prov);
void p2pmem_debugfs_remove(struct p2pmem_provider *prov);

/* fault.c */
#ifdef CONFIG_PCI_P2PMEM_FAULT_INJECTION
bool p2pmem_should_fail(size_t size);
#else
static inline bool p2pmem_should_fail(size_t size)
{
	return false;
}
#endif

#endif /* _DRIVERS_PCI_P2PMEM_H */
