// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem's DMA shim and the guard of the DMA API.
 *
 * The host bridge, not each DMA backend, knows how peers reach each other.
 * When a host bridge gets its first provider, every PCI device below it has
 * its DMA operations replaced by a shim stacked on the operations it had
 * (an IOMMU's, or dma-direct's through dma_direct_ops). The shim looks at
 * each page it is asked to map: p2pmem pages are routed by the provider's
 * verdict for the device, everything else goes to the original operations.
 *
 * The set of devices that get the shim is decided per host bridge; each
 * such device has its own copy of the shim's operations table, inside its
 * client record, so that every DMA call finds the device's record (its
 * counters, single mappings and original operations) from dev->dma_ops
 * with no lookup. The record lives from the device's first injection until
 * the device is deleted, so a call still on its way through the shim when
 * the shim comes off never meets a freed record.
 */
#include <linux/dma-map-ops.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/rculist.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "p2pmem.h"

DEFINE_STATIC_KEY_FALSE(p2pmem_dma_guard_key);

struct p2pmem_pfn_window __rcu *p2pmem_window;

/* struct p2pmem_client_stats of every device with the shim, by dev key. */
DEFINE_XARRAY(p2pmem_clients);

/* Single mappings of p2pmem outstanding, of all devices. */
static atomic_long_t p2pmem_singles_live = ATOMIC_LONG_INIT(0);

static bool p2pmem_ops_is_shim(const struct dma_map_ops *ops);

/*
 * The record of @dev; caller holds the RCU read lock. A device with the
 * shim finds it from its dma_ops, without a lookup.
 */
static struct p2pmem_client_stats *p2pmem_client_of(struct device *dev)
{
	const struct dma_map_ops *ops = READ_ONCE(dev->dma_ops);

	if (likely(p2pmem_ops_is_shim(ops)))
		return container_of(ops, struct p2pmem_client_stats, shim.ops);
	return xa_load(&p2pmem_clients, p2pmem_dev_key(to_pci_dev(dev)));
}

/*
 * A reference on @prov for a mapping about to be made; caller holds the
 * RCU read lock, under which it found @prov through one of its ranges.
 * It fails (counted as refused, logged rate limited) once the provider's
 * removal has begun and nothing holds its memory any more: whoever maps
 * it then does not own what it maps, and the provider may be freed at any
 * moment.
 */
static bool p2pmem_map_get(struct device *dev, struct p2pmem_provider *prov)
{
	if (likely(percpu_ref_tryget(&prov->ref)))
		return true;
	atomic_long_inc(&prov->stats.refused);
	dev_warn_ratelimited(dev, "p2pmem: refused to map p2pmem of %s: the provider is being removed and none of its memory is allocated\n",
			     pci_name(prov->pdev));
	return false;
}

/* @n mappings of @prov's memory were unmapped. */
static void p2pmem_release(struct p2pmem_provider *prov, unsigned long n)
{
	atomic_long_sub(n, &prov->stats.mappings);
	percpu_ref_put_many(&prov->ref, n);
}

/* One more (@d 1) or one less (@d -1) p2pmem mapping of @dev. */
static void p2pmem_client_live(struct device *dev, long d)
{
	struct p2pmem_client_stats *cs;

	rcu_read_lock();
	cs = p2pmem_client_of(dev);
	if (cs)
		atomic_long_add(d, &cs->live);
	rcu_read_unlock();
}

/*
 * Records of single mappings a device starts with, and the most it may
 * have (p2pmem.single_mappings_max). Once more than three quarters of its
 * records are in use, a worker makes room for twice as many; a mapping
 * call never allocates, and a mapping that finds no free record is
 * refused.
 */
#define P2PMEM_SINGLES_MIN	128
unsigned int p2pmem_singles_max = 65536;
module_param_named(single_mappings_max, p2pmem_singles_max, uint, 0644);
MODULE_PARM_DESC(single_mappings_max,
		 "Most single DMA mappings of p2pmem (dma_map_page(), dma_map_resource()) a device may have at once");

/*
 * p2pmem.count_host: count the bytes of host memory each client maps
 * through the shim (debugfs "clients"). Off by default, like schedstats:
 * counting them takes a pass of the shim's own over every scatterlist,
 * where a list of host memory otherwise goes to the original operations
 * untouched.
 */
DEFINE_STATIC_KEY_FALSE(p2pmem_count_host);

static int p2pmem_count_host_set(const char *val,
				 const struct kernel_param *kp)
{
	bool on;
	int ret;

	ret = kstrtobool(val ?: "1", &on);
	if (ret)
		return ret;
	if (on)
		static_branch_enable(&p2pmem_count_host);
	else
		static_branch_disable(&p2pmem_count_host);
	return 0;
}

static int p2pmem_count_host_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n",
			  static_key_enabled(&p2pmem_count_host) ? 'Y' : 'N');
}

static const struct kernel_param_ops p2pmem_count_host_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = p2pmem_count_host_set,
	.get = p2pmem_count_host_get,
};
module_param_cb(count_host, &p2pmem_count_host_ops, NULL, 0644);
MODULE_PARM_DESC(count_host,
		 "Count the bytes of host memory each client maps (debugfs clients); costs a pass over every scatterlist");

/* The number of records of @ss whose address is at most @addr. */
static unsigned int p2pmem_singles_upto(const struct p2pmem_singles *ss,
					dma_addr_t addr)
{
	unsigned int lo = 0, hi = ss->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ss->rec[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The record of @ss whose range holds @addr, or %NULL. */
static struct p2pmem_single *p2pmem_singles_find(struct p2pmem_singles *ss,
						 dma_addr_t addr)
{
	unsigned int i = p2pmem_singles_upto(ss, addr);
	struct p2pmem_single *r = i ? &ss->rec[i - 1] : NULL;

	return r && addr - r->addr < r->size ? r : NULL;
}

/*
 * Insert a record for [@addr, @addr + @size) at its place, or count one
 * more mapping in an equal record. Caller holds @ss->lock. Return: 0,
 * -EEXIST when the range partly overlaps another record, or -ENOSPC when
 * no record is free.
 */
static int p2pmem_singles_insert(struct p2pmem_singles *ss,
				 struct p2pmem_provider *prov,
				 dma_addr_t addr, size_t size, bool bus)
{
	unsigned int i = p2pmem_singles_upto(ss, addr);
	struct p2pmem_single *prev = i ? &ss->rec[i - 1] : NULL;
	struct p2pmem_single *next = i < ss->n ? &ss->rec[i] : NULL;

	if (prev && prev->addr == addr && prev->size == size &&
	    prev->prov == prov && prev->bus == bus) {
		prev->count++;
		return 0;
	}
	if ((prev && addr - prev->addr < prev->size) ||
	    (next && next->addr - addr < size))
		return -EEXIST;
	if (ss->n == ss->cap)
		return -ENOSPC;
	memmove(&ss->rec[i + 1], &ss->rec[i], (ss->n - i) * sizeof(*ss->rec));
	ss->rec[i] = (struct p2pmem_single){
		.addr = addr, .size = size, .prov = prov, .count = 1, .bus = bus,
	};
	ss->n++;
	return 0;
}

/* Make room in @ss for twice as many records, up to the maximum. */
static void p2pmem_singles_grow(struct work_struct *work)
{
	struct p2pmem_singles *ss = container_of(work, struct p2pmem_singles,
						 grow);
	struct p2pmem_single *rec, *old = NULL;
	unsigned int cap, max = READ_ONCE(p2pmem_singles_max);
	unsigned long flags;

	cap = min(READ_ONCE(ss->cap) * 2, max);
	if (cap <= READ_ONCE(ss->cap))
		return;
	rec = kvcalloc(cap, sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return;
	spin_lock_irqsave(&ss->lock, flags);
	/* Not for a device whose records were dropped (it is going). */
	if (ss->rec && cap > ss->cap) {
		memcpy(rec, ss->rec, ss->n * sizeof(*rec));
		old = ss->rec;
		ss->rec = rec;
		ss->cap = cap;
		rec = NULL;
	}
	spin_unlock_irqrestore(&ss->lock, flags);
	kvfree(old);
	kvfree(rec);
}

/* Set up @ss with its first records. Return: 0 or -ENOMEM. */
static int p2pmem_singles_init(struct p2pmem_singles *ss)
{
	spin_lock_init(&ss->lock);
	INIT_WORK(&ss->grow, p2pmem_singles_grow);
	ss->rec = kvcalloc(P2PMEM_SINGLES_MIN, sizeof(*ss->rec), GFP_KERNEL);
	if (!ss->rec)
		return -ENOMEM;
	ss->cap = P2PMEM_SINGLES_MIN;
	return 0;
}

/*
 * Record a single mapping of @prov's memory at DMA addresses [@addr,
 * @addr + @size) of @dev, at its bus address (@bus) or by the original
 * operations. The reference on @prov the caller took with
 * p2pmem_map_get() becomes the mapping's, until p2pmem_single_del().
 * Mappings of exactly the same range and route share a record; a range
 * that partly overlaps another could not be told apart at unmap time and
 * is refused, as is a mapping that finds no free record. Nothing is
 * allocated here: drivers map in atomic context. Returns false when the
 * mapping cannot be recorded.
 */
static bool p2pmem_single_add(struct device *dev, struct p2pmem_provider *prov,
			      dma_addr_t addr, size_t size, bool bus)
{
	struct p2pmem_client_stats *cs;
	struct p2pmem_singles *ss;
	unsigned int n = 0, cap = 0;
	unsigned long flags;
	int ret = -ENODEV;

	rcu_read_lock();
	cs = p2pmem_client_of(dev);
	if (cs) {
		ss = &cs->singles;
		spin_lock_irqsave(&ss->lock, flags);
		ret = p2pmem_singles_insert(ss, prov, addr, size, bus);
		n = ss->n;
		cap = ss->cap;
		if (ss->rec && n * 4 > cap * 3 &&
		    cap < READ_ONCE(p2pmem_singles_max))
			queue_work(system_unbound_wq, &ss->grow);
		spin_unlock_irqrestore(&ss->lock, flags);
		if (!ret) {
			atomic_long_inc(&cs->live);
			atomic_long_inc(&p2pmem_singles_live);
			atomic_long_inc(&prov->stats.mappings);
		}
	}
	rcu_read_unlock();
	if (ret == -EEXIST)
		dev_warn_ratelimited(dev, "p2pmem: refused to map p2pmem of %s at DMA address %pad: it partly overlaps another single mapping of the device\n",
				     pci_name(prov->pdev), &addr);
	if (ret == -ENOSPC) {
		atomic_long_inc(&prov->stats.refused);
		dev_warn_ratelimited(dev, "p2pmem: refused to map p2pmem of %s: all %u records of single mappings are in use (p2pmem.single_mappings_max=%u)\n",
				     pci_name(prov->pdev), cap,
				     READ_ONCE(p2pmem_singles_max));
	}
	return !ret;
}

/*
 * The single mapping of @dev at @addr is unmapped: drop its record. Returns
 * its provider (whose reference the caller drops with p2pmem_release()
 * once the memory is unmapped) and route, or %NULL when @addr is no single
 * mapping of p2pmem.
 */
static struct p2pmem_provider *p2pmem_single_del(struct device *dev,
						 dma_addr_t addr, bool *bus)
{
	struct p2pmem_provider *prov = NULL;
	struct p2pmem_client_stats *cs;
	struct p2pmem_singles *ss;
	struct p2pmem_single *r;
	unsigned long flags;
	unsigned int i;

	if (likely(!atomic_long_read(&p2pmem_singles_live)))
		return NULL;
	rcu_read_lock();
	cs = p2pmem_client_of(dev);
	if (cs && READ_ONCE(cs->singles.n)) {
		ss = &cs->singles;
		spin_lock_irqsave(&ss->lock, flags);
		i = p2pmem_singles_upto(ss, addr);
		r = i ? &ss->rec[i - 1] : NULL;
		if (r && r->addr == addr) {
			prov = r->prov;
			*bus = r->bus;
			if (!--r->count) {
				memmove(r, r + 1, (ss->n - i) * sizeof(*r));
				ss->n--;
			}
		}
		spin_unlock_irqrestore(&ss->lock, flags);
		if (prov) {
			atomic_long_dec(&cs->live);
			atomic_long_dec(&p2pmem_singles_live);
		}
	}
	rcu_read_unlock();
	return prov;
}

/* Is @addr, or the mapping it lies in, a single bus address mapping? */
static bool p2pmem_single_is_bus(struct device *dev, dma_addr_t addr)
{
	struct p2pmem_client_stats *cs;
	struct p2pmem_single *r;
	unsigned long flags;
	bool bus = false;

	if (likely(!atomic_long_read(&p2pmem_singles_live)))
		return false;
	rcu_read_lock();
	cs = p2pmem_client_of(dev);
	if (cs && READ_ONCE(cs->singles.n)) {
		spin_lock_irqsave(&cs->singles.lock, flags);
		r = p2pmem_singles_find(&cs->singles, addr);
		bus = r && r->bus;
		spin_unlock_irqrestore(&cs->singles.lock, flags);
	}
	rcu_read_unlock();
	return bus;
}

/*
 * Drop what single mappings @cs still records: the operations that
 * replaced the shim unmap them, or the device is going. The lock is taken
 * with interrupts off everywhere: drivers unmap in interrupt context.
 */
static void p2pmem_singles_drop(struct p2pmem_client_stats *cs)
{
	struct p2pmem_singles *ss = &cs->singles;
	struct p2pmem_single *r;
	unsigned long flags;

	spin_lock_irqsave(&ss->lock, flags);
	for (r = ss->rec; r && r < ss->rec + ss->n; r++) {
		atomic_long_sub(r->count, &p2pmem_singles_live);
		atomic_long_sub(r->count, &cs->live);
		p2pmem_release(r->prov, r->count);
	}
	ss->n = 0;
	spin_unlock_irqrestore(&ss->lock, flags);
}

/* Free the records of @ss (its device is going, with none in use). */
static void p2pmem_singles_free(struct p2pmem_singles *ss)
{
	struct p2pmem_single *rec;
	unsigned long flags;

	spin_lock_irqsave(&ss->lock, flags);
	rec = ss->rec;
	ss->rec = NULL;
	ss->cap = 0;
	spin_unlock_irqrestore(&ss->lock, flags);
	/* No mapping queues it again: there are no records to grow. */
	cancel_work_sync(&ss->grow);
	kvfree(rec);
}

/*
 * Count a successful mapping for @dev: @host bytes of host memory, and
 * @len bytes of @prov's memory on route @type (none when @prov is NULL).
 */
static void p2pmem_account(struct device *dev, size_t host,
			   struct p2pmem_provider *prov,
			   enum p2pmem_map_type type, size_t len)
{
	struct p2pmem_client_stats *cs;
	bool bus = type == P2PMEM_MAP_BUS_ADDR;

	rcu_read_lock();
	cs = p2pmem_client_of(dev);
	if (cs && host && static_branch_unlikely(&p2pmem_count_host))
		atomic64_add(host, &cs->host);
	if (prov && len) {
		atomic_long_add(len, bus ? &prov->stats.mapped_bus :
					   &prov->stats.mapped_host_bridge);
		if (cs)
			atomic64_add(len, bus ? &cs->bus : &cs->host_bridge);
	}
	rcu_read_unlock();
}

/**
 * p2pmem_window_update() - recompute the page frames p2pmem may own
 * @extra: a range about to be handed out, not yet on any list, or %NULL
 *
 * Called under p2pmem_lock whenever ranges come or go: before a new range
 * can be allocated from (with it as @extra), and after a provider has gone.
 * If memory is short the window becomes "everything", which is only slower.
 */
void p2pmem_window_update(struct p2pmem_range *extra)
{
	static struct p2pmem_pfn_window all = { .lo = 0, .span = ULONG_MAX };
	unsigned long lo = ULONG_MAX, hi = 0, idx;
	struct p2pmem_pfn_window *w, *old;
	struct p2pmem_provider *prov;
	struct p2pmem_range *range;

	lockdep_assert_held(&p2pmem_lock);
	xa_for_each(&p2pmem_providers, idx, prov) {
		list_for_each_entry(range, &prov->ranges, node) {
			lo = min(lo, PHYS_PFN(range->phys));
			hi = max(hi, PHYS_PFN(range->phys + range->size));
		}
	}
	if (extra) {
		lo = min(lo, PHYS_PFN(extra->phys));
		hi = max(hi, PHYS_PFN(extra->phys + extra->size));
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (w && hi > lo) {
		w->lo = lo;
		w->span = hi - lo;
	} else if (!w) {
		w = &all;
	}
	old = rcu_replace_pointer(p2pmem_window, w,
				  lockdep_is_held(&p2pmem_lock));
	if (old && old != &all)
		kfree_rcu(old, rcu);
}

static int p2pmem_shim_map_sg(struct device *dev, struct scatterlist *sgl,
			      int nents, enum dma_data_direction dir,
			      unsigned long attrs);

static bool p2pmem_ops_is_shim(const struct dma_map_ops *ops)
{
	return ops && ops->map_sg == p2pmem_shim_map_sg;
}

/**
 * p2pmem_dma_shim_of() - the shim a device's DMA goes through
 * @dev: the device
 *
 * Return: the shim, or %NULL when @dev does not have it.
 */
struct p2pmem_shim *p2pmem_dma_shim_of(struct device *dev)
{
	const struct dma_map_ops *ops = READ_ONCE(dev->dma_ops);

	if (!p2pmem_ops_is_shim(ops))
		return NULL;
	return container_of(ops, struct p2pmem_shim, ops);
}

/**
 * p2pmem_dma_orig_ops() - the operations the shim of a device stacks on
 * @dev: the device
 *
 * Return: the original operations of @dev (dma_direct_ops for dma-direct).
 * For a device without the shim, its current operations.
 */
const struct dma_map_ops *p2pmem_dma_orig_ops(struct device *dev)
{
	const struct dma_map_ops *ops = READ_ONCE(dev->dma_ops);

	if (p2pmem_ops_is_shim(ops))
		return container_of(ops, struct p2pmem_shim, ops)->orig;
	/* Restored while a call was on its way to the shim. */
	return ops ? ops : &dma_direct_ops;
}

/* The bus address of a p2pmem page. */
static dma_addr_t p2pmem_page_bus(struct p2pmem_range *range,
				  struct page *page)
{
	return range->bus + (page_to_phys(page) - range->phys);
}

/*
 * The range whose CPU addresses hold [@phys, @phys + @size), if any;
 * caller holds the RCU read lock.
 */
static struct p2pmem_range *p2pmem_phys_range(phys_addr_t phys, size_t size)
{
	struct p2pmem_provider *prov;
	struct p2pmem_range *range;
	unsigned long idx;

	xa_for_each(&p2pmem_providers, idx, prov) {
		list_for_each_entry_rcu(range, &prov->ranges, node) {
			if (phys >= range->phys &&
			    phys - range->phys + size <= range->size)
				return range;
		}
	}
	return NULL;
}

/**
 * p2pmem_dma_refused() - count a refused mapping of a provider's memory
 * @prov: the provider
 * @dev: the device the mapping was for
 * @has_shim: whether @dev has the shim
 *
 * The first refusal of a provider is logged with both devices and the
 * reason.
 */
void p2pmem_dma_refused(struct p2pmem_provider *prov, struct device *dev,
			bool has_shim)
{
	struct p2pmem_verdict v;
	struct pci_dev *client;

	if (atomic_long_inc_return(&prov->stats.refused) != 1)
		return;
	client = p2pmem_client_pci(dev);
	if (!client) {
		pci_warn(prov->pdev, "p2pmem: refused to map p2pmem for %s: not a PCI device\n",
			 dev_name(dev));
		return;
	}
	/* Only the table: nothing is computed in the DMA path. */
	if (!p2pmem_verdict_lookup(prov, client, &v)) {
		pci_warn(prov->pdev, "p2pmem: refused to map p2pmem for %s: no verdict for it yet\n",
			 dev_name(dev));
		return;
	}
	if (v.type == P2PMEM_MAP_NOT_SUPPORTED || has_shim)
		pci_warn(prov->pdev, "p2pmem: refused to map p2pmem for %s: %s\n",
			 dev_name(dev), v.reason);
	else
		pci_warn(prov->pdev, "p2pmem: refused to map p2pmem for %s: the device has no p2pmem DMA shim (its DMA ops were replaced, or its host bridge has no provider)\n",
			 dev_name(dev));
}

/*
 * Can @dev address [@bus, @bus + @len)? A bus address is handed over as it
 * is: beyond the device's DMA mask or its bus's DMA limit it would be
 * truncated, so it is refused instead (counted and logged).
 */
static bool p2pmem_bus_reachable(struct p2pmem_provider *prov,
				 struct device *dev, dma_addr_t bus,
				 size_t len)
{
	u64 limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);

	if (likely(bus + len - 1 <= limit))
		return true;
	atomic_long_inc(&prov->stats.refused);
	dev_warn_ratelimited(dev, "p2pmem: refused to map p2pmem of %s at bus address %pad: beyond the device's DMA limit %#llx\n",
			     pci_name(prov->pdev), &bus, limit);
	return false;
}

/*
 * Route a single mapping of p2pmem in @range, whose bus address is @bus:
 * returns true with *@addr set when the shim answers itself (the bus
 * address, or an error for a refused route), false when the original
 * operations must map it.
 */
static bool p2pmem_single_route(struct device *dev, struct p2pmem_range *range,
				dma_addr_t bus, size_t size, dma_addr_t *addr)
{
	switch (p2pmem_route(range->prov, to_pci_dev(dev))) {
	case P2PMEM_MAP_BUS_ADDR:
		*addr = p2pmem_bus_reachable(range->prov, dev, bus, size) ?
			bus : DMA_MAPPING_ERROR;
		return true;
	case P2PMEM_MAP_THRU_HOST_BRIDGE:
		return false;
	default:
		p2pmem_dma_refused(range->prov, dev, true);
		*addr = DMA_MAPPING_ERROR;
		return true;
	}
}

/*
 * A single mapping of p2pmem in @range, at bus address @bus, for which the
 * caller took a reference on the provider with p2pmem_map_get(): on the
 * bus address route the mapping is recorded and keeps the reference, or
 * the reference is dropped when it fails. Return: true with *@addr set
 * when the shim answers itself (the bus address, or DMA_MAPPING_ERROR),
 * false when the original operations must map the memory.
 */
static bool p2pmem_single_bus(struct device *dev, struct p2pmem_range *range,
			      dma_addr_t bus, size_t size, dma_addr_t *addr)
{
	struct p2pmem_provider *prov = range->prov;

	if (!p2pmem_single_route(dev, range, bus, size, addr))
		return false;
	if (*addr == DMA_MAPPING_ERROR ||
	    !p2pmem_single_add(dev, prov, *addr, size, true)) {
		percpu_ref_put(&prov->ref);
		*addr = DMA_MAPPING_ERROR;
	}
	return true;
}

/*
 * The range of @page and a reference on its provider, for a mapping
 * (%NULL for a host page), or an ERR_PTR() when the mapping is refused.
 */
static struct p2pmem_range *p2pmem_single_page_get(struct device *dev,
						   struct page *page)
{
	struct p2pmem_range *range;

	rcu_read_lock();
	range = p2pmem_page_range(page);
	if (range && !p2pmem_map_get(dev, range->prov))
		range = ERR_PTR(-ENODEV);
	rcu_read_unlock();
	return range;
}

static dma_addr_t p2pmem_shim_map_page(struct device *dev, struct page *page,
				       unsigned long offset, size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);
	struct p2pmem_range *range = p2pmem_single_page_get(dev, page);
	struct p2pmem_provider *prov;
	dma_addr_t addr;

	if (IS_ERR(range))
		return DMA_MAPPING_ERROR;
	if (!range) {
		addr = orig->map_page(dev, page, offset, size, dir, attrs);
		if (static_branch_unlikely(&p2pmem_count_host) &&
		    addr != DMA_MAPPING_ERROR)
			p2pmem_account(dev, size, NULL,
				       P2PMEM_MAP_THRU_HOST_BRIDGE, 0);
		return addr;
	}
	prov = range->prov;
	if (p2pmem_single_bus(dev, range, p2pmem_page_bus(range, page) + offset,
			      size, &addr)) {
		if (addr != DMA_MAPPING_ERROR)
			p2pmem_account(dev, 0, prov, P2PMEM_MAP_BUS_ADDR, size);
		return addr;
	}
	addr = orig->map_page(dev, page, offset, size, dir, attrs);
	if (addr == DMA_MAPPING_ERROR)
		goto put;
	if (!p2pmem_single_add(dev, prov, addr, size, false)) {
		if (orig->unmap_page)
			orig->unmap_page(dev, addr, size, dir,
					 attrs | DMA_ATTR_SKIP_CPU_SYNC);
		goto put;
	}
	p2pmem_account(dev, 0, prov, P2PMEM_MAP_THRU_HOST_BRIDGE, size);
	return addr;

put:
	percpu_ref_put(&prov->ref);
	return DMA_MAPPING_ERROR;
}

/*
 * A single mapping of p2pmem is recognised by its record, never by the
 * value of the address: a host page's DMA address may equal a bus address.
 */
static void p2pmem_shim_unmap_page(struct device *dev, dma_addr_t addr,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);
	struct p2pmem_provider *prov;
	bool bus = false;

	prov = p2pmem_single_del(dev, addr, &bus);
	/* Bus addresses were never given to the original operations. */
	if (!bus && orig->unmap_page)
		orig->unmap_page(dev, addr, size, dir, attrs);
	if (prov)
		p2pmem_release(prov, 1);
}

static dma_addr_t p2pmem_shim_map_resource(struct device *dev,
					   phys_addr_t phys, size_t size,
					   enum dma_data_direction dir,
					   unsigned long attrs)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);
	struct p2pmem_provider *prov;
	struct p2pmem_range *range;
	dma_addr_t addr;

	rcu_read_lock();
	range = p2pmem_phys_range(phys, size);
	if (range && !p2pmem_map_get(dev, range->prov)) {
		rcu_read_unlock();
		return DMA_MAPPING_ERROR;
	}
	rcu_read_unlock();
	if (!range)
		return orig->map_resource ?
		       orig->map_resource(dev, phys, size, dir, attrs) :
		       DMA_MAPPING_ERROR;
	prov = range->prov;
	if (p2pmem_single_bus(dev, range, range->bus + (phys - range->phys),
			      size, &addr))
		return addr;
	if (!orig->map_resource)
		goto put;
	addr = orig->map_resource(dev, phys, size, dir, attrs);
	if (addr == DMA_MAPPING_ERROR)
		goto put;
	if (p2pmem_single_add(dev, prov, addr, size, false))
		return addr;
	if (orig->unmap_resource)
		orig->unmap_resource(dev, addr, size, dir,
				     attrs | DMA_ATTR_SKIP_CPU_SYNC);
put:
	percpu_ref_put(&prov->ref);
	return DMA_MAPPING_ERROR;
}

static void p2pmem_shim_unmap_resource(struct device *dev, dma_addr_t addr,
				       size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);
	struct p2pmem_provider *prov;
	bool bus = false;

	prov = p2pmem_single_del(dev, addr, &bus);
	if (!bus && orig->unmap_resource)
		orig->unmap_resource(dev, addr, size, dir, attrs);
	if (prov)
		p2pmem_release(prov, 1);
}

static void p2pmem_shim_sync_single_for_cpu(struct device *dev,
					    dma_addr_t addr, size_t size,
					    enum dma_data_direction dir)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);

	if (orig->sync_single_for_cpu && !p2pmem_single_is_bus(dev, addr))
		orig->sync_single_for_cpu(dev, addr, size, dir);
}

static void p2pmem_shim_sync_single_for_device(struct device *dev,
					       dma_addr_t addr, size_t size,
					       enum dma_data_direction dir)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);

	if (orig->sync_single_for_device && !p2pmem_single_is_bus(dev, addr))
		orig->sync_single_for_device(dev, addr, size, dir);
}

/* Clear the bus address marks of the first @nents entries. */
static void p2pmem_sg_unmark(struct scatterlist *sgl, int nents)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		sg_dma_unmark_bus_address(sg);
}

/* Does any of the first @nents entries carry a bus address? */
static bool p2pmem_sg_has_bus(struct scatterlist *sgl, int nents)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		if (sg_is_dma_bus_address(sg))
			return true;
	return false;
}

/*
 * An sgl with bus address entries was mapped in place, one DMA segment per
 * entry: bus entries are marked, the others were mapped by the original
 * operations, per run of unmarked entries when the shim maps runs, else
 * one by one. Visit the first @nents entries the same way: @run is called
 * for each run (shim->runs) or for each unmarked entry; marked entries are
 * unmarked when @unmark is set.
 */
static void p2pmem_sg_walk(struct p2pmem_shim *shim, struct scatterlist *sgl,
			   int nents, bool unmark,
			   void (*run)(struct device *dev,
				       struct p2pmem_shim *shim,
				       struct scatterlist *sg, int n,
				       enum dma_data_direction dir,
				       unsigned long attrs),
			   struct device *dev, enum dma_data_direction dir,
			   unsigned long attrs)
{
	struct scatterlist *sg, *start = NULL;
	int i, n = 0;

	for_each_sg(sgl, sg, nents, i) {
		if (!sg_is_dma_bus_address(sg)) {
			if (!shim->runs) {
				run(dev, shim, sg, 1, dir, attrs);
				continue;
			}
			if (!n++)
				start = sg;
			continue;
		}
		if (unmark)
			sg_dma_unmark_bus_address(sg);
		if (n)
			run(dev, shim, start, n, dir, attrs);
		n = 0;
	}
	if (n)
		run(dev, shim, start, n, dir, attrs);
}

static void p2pmem_run_unmap(struct device *dev, struct p2pmem_shim *shim,
			     struct scatterlist *sg, int n,
			     enum dma_data_direction dir, unsigned long attrs)
{
	const struct dma_map_ops *orig = shim->orig;

	if (shim->runs)
		orig->unmap_sg(dev, sg, n, dir, attrs);
	else if (orig->unmap_page)
		orig->unmap_page(dev, sg_dma_address(sg), sg_dma_len(sg), dir,
				 attrs);
}

static void p2pmem_run_sync_cpu(struct device *dev, struct p2pmem_shim *shim,
				struct scatterlist *sg, int n,
				enum dma_data_direction dir,
				unsigned long attrs)
{
	const struct dma_map_ops *orig = shim->orig;

	if (shim->runs)
		orig->sync_sg_for_cpu(dev, sg, n, dir);
	else if (orig->sync_single_for_cpu)
		orig->sync_single_for_cpu(dev, sg_dma_address(sg),
					  sg_dma_len(sg), dir);
}

static void p2pmem_run_sync_device(struct device *dev,
				   struct p2pmem_shim *shim,
				   struct scatterlist *sg, int n,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	const struct dma_map_ops *orig = shim->orig;

	if (shim->runs)
		orig->sync_sg_for_device(dev, sg, n, dir);
	else if (orig->sync_single_for_device)
		orig->sync_single_for_device(dev, sg_dma_address(sg),
					     sg_dma_len(sg), dir);
}

/*
 * Map an sgl that has at least one entry on the bus address route, already
 * marked by p2pmem_shim_map_sg_routed(): each entry becomes one DMA segment in
 * place, so data order is kept whatever the original operations would
 * have merged.
 */
static int p2pmem_map_mixed(struct device *dev, struct p2pmem_shim *shim,
			    struct scatterlist *sgl, int nents,
			    enum dma_data_direction dir, unsigned long attrs)
{
	const struct dma_map_ops *orig = shim->orig;
	struct scatterlist *sg, *start = NULL;
	int i, n = 0, done = 0, ret;
	dma_addr_t addr;

	for_each_sg(sgl, sg, nents, i) {
		if (sg_is_dma_bus_address(sg)) {
			if (n) {
				ret = orig->map_sg(dev, start, n, dir, attrs);
				if (ret < 0)
					goto unwind;
				if (WARN_ON_ONCE(ret != n)) {
					orig->unmap_sg(dev, start, n, dir, attrs);
					ret = -EIO;
					goto unwind;
				}
				done += n;
				n = 0;
			}
			/* Given its bus address in the first pass. */
			done++;
			continue;
		}
		/* A host page, or p2pmem reached through the host bridge. */
		if (shim->runs) {
			if (!n++)
				start = sg;
			continue;
		}
		addr = orig->map_page(dev, sg_page(sg), sg->offset, sg->length,
				      dir, attrs);
		/* No errno: say what an IOMMU's map_page fails for. */
		if (addr == DMA_MAPPING_ERROR) {
			ret = -ENOMEM;
			goto unwind;
		}
		sg->dma_address = addr;
		sg_dma_len(sg) = sg->length;
		done++;
	}
	if (n) {
		ret = orig->map_sg(dev, start, n, dir, attrs);
		if (ret < 0)
			goto unwind;
		if (WARN_ON_ONCE(ret != n)) {
			orig->unmap_sg(dev, start, n, dir, attrs);
			ret = -EIO;
			goto unwind;
		}
	}
	return nents;

unwind:
	p2pmem_sg_walk(shim, sgl, done, true, p2pmem_run_unmap, dev, dir,
		       attrs | DMA_ATTR_SKIP_CPU_SYNC);
	/* Entries not reached keep the marks of the first pass. */
	p2pmem_sg_unmark(sgl, nents);
	return ret;
}

/* What the first pass of p2pmem_shim_map_sg_routed() found in an sgl. */
struct p2pmem_sg_scan {
	size_t host;		/* bytes of host memory */
	size_t bus;		/* bytes of p2pmem on the bus address route */
	size_t thru_hb;		/* bytes of p2pmem through the host bridge */
	unsigned int p2p;	/* p2pmem entries */
	struct p2pmem_provider *prov;	/* of all p2pmem entries, unless */
	bool several;		/* ... they come from more than one provider */
};

/*
 * Count a mapped sgl in @cs (if the device has a record) and its
 * providers. With one provider the first pass's figures are used as they
 * are; with several, each entry's provider and route are looked up again
 * (the marks may have moved: an IOMMU compacts the list).
 */
static void p2pmem_account_sg(struct device *dev,
			      struct p2pmem_client_stats *cs,
			      struct scatterlist *sgl, int nents,
			      unsigned long lo, unsigned long span,
			      const struct p2pmem_sg_scan *scan)
{
	struct p2pmem_range *range;
	enum p2pmem_map_type type;
	struct scatterlist *sg;
	int i;

	if (cs && scan->host && static_branch_unlikely(&p2pmem_count_host))
		atomic64_add(scan->host, &cs->host);
	if (!scan->p2p)
		return;
	if (!scan->several) {
		if (scan->bus) {
			atomic_long_add(scan->bus, &scan->prov->stats.mapped_bus);
			if (cs)
				atomic64_add(scan->bus, &cs->bus);
		}
		if (scan->thru_hb) {
			atomic_long_add(scan->thru_hb,
					&scan->prov->stats.mapped_host_bridge);
			if (cs)
				atomic64_add(scan->thru_hb, &cs->host_bridge);
		}
		return;
	}
	for_each_sg(sgl, sg, nents, i) {
		range = p2pmem_page_range_in(sg_page(sg), lo, span);
		if (!range)
			continue;
		type = p2pmem_route(range->prov, to_pci_dev(dev));
		atomic_long_add(sg->length, type == P2PMEM_MAP_BUS_ADDR ?
				&range->prov->stats.mapped_bus :
				&range->prov->stats.mapped_host_bridge);
		if (cs)
			atomic64_add(sg->length, type == P2PMEM_MAP_BUS_ADDR ?
				     &cs->bus : &cs->host_bridge);
	}
}

/*
 * Drop the references, and the mappings they count, that p2pmem_sg_get()
 * took for the first @nents entries of @sgl.
 */
static void p2pmem_sg_put(struct scatterlist *sgl, int nents,
			  unsigned long lo, unsigned long span,
			  const struct p2pmem_sg_scan *scan)
{
	struct p2pmem_range *range;
	struct scatterlist *sg;
	int i;

	if (!scan->several) {
		p2pmem_release(scan->prov, 1);
		return;
	}
	for_each_sg(sgl, sg, nents, i) {
		range = p2pmem_page_range_in(sg_page(sg), lo, span);
		if (range)
			p2pmem_release(range->prov, 1);
	}
}

/* A reference on @prov for one more mapping, counted in its mappings. */
static bool p2pmem_map_get_counted(struct device *dev,
				   struct p2pmem_provider *prov)
{
	if (!p2pmem_map_get(dev, prov))
		return false;
	atomic_long_inc(&prov->stats.mappings);
	return true;
}

/*
 * Before an sgl with p2pmem entries is mapped, take the references the
 * mapping will hold on their providers, each counted as a mapping: with
 * one provider (the common case) one, else one per p2pmem entry. Caller
 * holds the RCU read lock, under which the first pass found the ranges.
 * Return: false, with no reference taken, when a provider is being
 * removed with none of its memory allocated.
 */
static bool p2pmem_sg_get(struct device *dev, struct scatterlist *sgl,
			  int nents, unsigned long lo, unsigned long span,
			  const struct p2pmem_sg_scan *scan)
{
	struct p2pmem_range *range;
	struct scatterlist *sg;
	int i;

	if (!scan->several)
		return p2pmem_map_get_counted(dev, scan->prov);
	for_each_sg(sgl, sg, nents, i) {
		range = p2pmem_page_range_in(sg_page(sg), lo, span);
		if (range && !p2pmem_map_get_counted(dev, range->prov)) {
			p2pmem_sg_put(sgl, i, lo, span, scan);
			return false;
		}
	}
	return true;
}

/*
 * A mapped sgl with p2pmem entries holds the references p2pmem_sg_get()
 * took, and says so on its first entry, so that unmap knows without a
 * scan what it has to drop.
 */
static void p2pmem_sg_hold(struct p2pmem_client_stats *cs,
			   struct scatterlist *sgl,
			   const struct p2pmem_sg_scan *scan)
{
	sgl->dma_flags |= P2PMEM_SG_HELD;
	if (!scan->several)
		sgl->dma_flags |= P2PMEM_SG_ONE_PROV;
	if (cs)
		atomic_long_inc(&cs->live);
}

/* The sgl is unmapped: drop what p2pmem_sg_hold() took. */
static void p2pmem_sg_release(struct device *dev, struct scatterlist *sgl,
			      int nents, unsigned int flags)
{
	struct p2pmem_provider *prov = NULL;
	struct p2pmem_range *range;
	unsigned long lo, span, n = 0;
	struct scatterlist *sg;
	int i;

	sgl->dma_flags &= ~P2PMEM_SG_FLAGS;
	p2pmem_window_read(&lo, &span);
	for_each_sg(sgl, sg, nents, i) {
		range = p2pmem_page_range_in(sg_page(sg), lo, span);
		if (!range)
			continue;
		/* One reference for the list: its first p2pmem entry says. */
		if (flags & P2PMEM_SG_ONE_PROV) {
			prov = range->prov;
			n = 1;
			break;
		}
		if (range->prov != prov) {
			if (n)
				p2pmem_release(prov, n);
			prov = range->prov;
			n = 0;
		}
		n++;
	}
	if (n)
		p2pmem_release(prov, n);
	p2pmem_client_live(dev, -1);
}

/*
 * The original operations take routed lists: one call maps the host
 * entries (and p2pmem through the host bridge) of the whole sgl and leaves
 * the marked entries alone. With nothing but bus addresses there is
 * nothing to call.
 */
static int p2pmem_map_routed(struct device *dev, struct p2pmem_shim *shim,
			     struct scatterlist *sgl, int nents,
			     enum dma_data_direction dir, unsigned long attrs,
			     const struct p2pmem_sg_scan *scan)
{
	int ret;

	if (!scan->host && !scan->thru_hb)
		return nents;
	ret = shim->orig->map_sg(dev, sgl, nents, dir,
				 attrs | DMA_ATTR_P2P_ROUTED);
	if (ret <= 0)
		p2pmem_sg_unmark(sgl, nents);
	return ret;
}

/*
 * The next entry, as sg_next() finds it, but inline: the first pass takes
 * one step per entry, and a call per step is a good part of its cost.
 */
static __always_inline struct scatterlist *p2pmem_sg_step(struct scatterlist *sg)
{
	if (sg_is_last(sg))
		return NULL;
	sg++;
	if (unlikely(sg_is_chain(sg)))
		sg = sg_chain_ptr(sg);
	return sg;
}

/* The p2pmem range the first pass last met, and what it decided for it. */
struct p2pmem_sg_range {
	unsigned long pfn;	/* first page frame */
	unsigned long npages;
	u64 offset;		/* bus address less CPU physical address */
	u64 limit;		/* the device's DMA limit */
	enum p2pmem_map_type type;
};

/*
 * A p2pmem page outside the remembered range: look its range up and
 * remember it. Return: false if the page is not p2pmem after all (inside
 * the window of all ranges, but in none).
 */
static noinline bool p2pmem_sg_range_of(struct device *dev, struct page *page,
					unsigned long lo, unsigned long span,
					struct p2pmem_sg_scan *scan,
					struct p2pmem_sg_range *cur)
{
	struct p2pmem_range *range = p2pmem_page_range_in(page, lo, span);

	if (!range)
		return false;
	if (range->prov != scan->prov) {
		if (scan->prov)
			scan->several = true;
		scan->prov = range->prov;
		cur->type = p2pmem_route(scan->prov, to_pci_dev(dev));
	}
	cur->pfn = PHYS_PFN(range->phys);
	cur->npages = range->size >> PAGE_SHIFT;
	cur->offset = range->bus - range->phys;
	cur->limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
	return true;
}

/*
 * The first pass over an sgl: decide each p2pmem entry's route, give bus
 * address entries their address and mark, and sum up the rest. A host
 * page is told apart by its page frame alone, outside the window of all
 * p2pmem ranges, in a loop that does nothing else; the range of the last
 * p2pmem entry is remembered, so that a run of p2pmem pages costs a
 * subtraction and a comparison per entry, and so is the device's DMA
 * limit.
 *
 * Return: 0, or -EREMOTEIO with the marks of the entries before the one
 * refused cleared.
 */
static noinline int p2pmem_sg_scan(struct device *dev,
				   struct scatterlist *sgl, int nents,
				   unsigned long lo, unsigned long span,
				   struct p2pmem_sg_scan *scan)
{
	struct p2pmem_sg_range cur = { .type = P2PMEM_MAP_NOT_SUPPORTED };
	struct scatterlist *sg = sgl;
	unsigned long pfn;
	size_t host = 0;
	int i;

	for (i = 0; i < nents; i++, sg = p2pmem_sg_step(sg)) {
		if (unlikely(sg_is_dma_bus_address(sg)))
			sg_dma_unmark_bus_address(sg);
		pfn = page_to_pfn(sg_page(sg));
		if (likely(pfn - lo >= span)) {
			host += sg->length;
			continue;
		}
		if (pfn - cur.pfn >= cur.npages &&
		    !p2pmem_sg_range_of(dev, sg_page(sg), lo, span, scan,
					&cur)) {
			host += sg->length;
			continue;
		}
		scan->p2p++;
		if (cur.type == P2PMEM_MAP_THRU_HOST_BRIDGE) {
			scan->thru_hb += sg->length;
			continue;
		}
		if (unlikely(cur.type != P2PMEM_MAP_BUS_ADDR)) {
			p2pmem_dma_refused(scan->prov, dev, true);
			goto refuse;
		}
		sg->dma_address = PFN_PHYS(pfn) + cur.offset + sg->offset;
		sg_dma_len(sg) = sg->length;
		if (unlikely(sg->dma_address + sg->length - 1 > cur.limit) &&
		    !p2pmem_bus_reachable(scan->prov, dev, sg->dma_address,
					  sg->length))
			goto refuse;
		sg_dma_mark_bus_address(sg);
		scan->bus += sg->length;
	}
	scan->host += host;
	return 0;

refuse:
	p2pmem_sg_unmark(sgl, i);
	return -EREMOTEIO;
}

/*
 * Map an sgl the shim looks at first: route its p2pmem entries, take the
 * references their mapping holds, then have the original operations map
 * the rest.
 */
static noinline int p2pmem_shim_map_sg_routed(struct device *dev,
					      struct p2pmem_shim *shim,
					      struct scatterlist *sgl,
					      int nents,
					      enum dma_data_direction dir,
					      unsigned long attrs, bool probed)
{
	struct p2pmem_client_stats *cs;
	struct p2pmem_sg_scan scan = {};
	unsigned long lo, span;
	int ret;

	/*
	 * Each p2pmem entry's route is decided here, once: bus address
	 * entries get their address and the mark now, and the mark is what
	 * the mapping, unmap and sync go by, even if the verdict changes
	 * meanwhile. The ranges found are used under RCU until the mapping
	 * holds references on their providers.
	 */
	rcu_read_lock();
	p2pmem_window_read(&lo, &span);
	ret = p2pmem_sg_scan(dev, sgl, nents, lo, span, &scan);
	if (!ret && scan.p2p && !p2pmem_sg_get(dev, sgl, nents, lo, span,
					       &scan)) {
		p2pmem_sg_unmark(sgl, nents);
		ret = -EREMOTEIO;
	}
	rcu_read_unlock();
	if (ret)
		return ret;
	/*
	 * No p2pmem: probe the next list again, unless the original
	 * operations refused this one anyway. They cannot probe this
	 * device's lists (dma-iommu's bounce buffers for an untrusted device,
	 * a non-coherent device): stop asking them.
	 */
	if (!scan.p2p && shim->routed) {
		if (probed)
			WRITE_ONCE(shim->probe_never, true);
		else if (!READ_ONCE(shim->probe) &&
			 !READ_ONCE(shim->probe_never))
			WRITE_ONCE(shim->probe, true);
	}
	if (!scan.p2p)		/* host memory only: the original ops */
		ret = shim->orig->map_sg(dev, sgl, nents, dir, attrs);
	else if (shim->routed)
		ret = p2pmem_map_routed(dev, shim, sgl, nents, dir, attrs,
					&scan);
	else if (!scan.bus)
		ret = shim->orig->map_sg(dev, sgl, nents, dir, attrs);
	else
		ret = p2pmem_map_mixed(dev, shim, sgl, nents, dir, attrs);
	if (ret <= 0) {
		if (scan.p2p)
			p2pmem_sg_put(sgl, nents, lo, span, &scan);
		return ret;
	}
	rcu_read_lock();
	cs = p2pmem_client_of(dev);
	p2pmem_account_sg(dev, cs, sgl, nents, lo, span, &scan);
	if (scan.p2p) {
		p2pmem_sg_hold(cs, sgl, &scan);
		if (!scan.host && !scan.thru_hb)
			sgl->dma_flags |= P2PMEM_SG_ALL_BUS;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * The original operations refused to map an sgl they were asked to probe
 * (it has a P2PDMA page, or they cannot probe this device's lists) and
 * mapped none of it: route this one and the device's next ones first.
 * The shim is
 * looked up again rather than kept across the call, which keeps the
 * common case, a list of host memory, a few instructions shorter.
 */
static noinline int p2pmem_shim_map_sg_probed(struct device *dev,
					      struct scatterlist *sgl,
					      int nents,
					      enum dma_data_direction dir,
					      unsigned long attrs)
{
	struct p2pmem_shim *shim = p2pmem_dma_shim_of(dev);

	if (unlikely(!shim))	/* restored meanwhile */
		return p2pmem_dma_orig_ops(dev)->map_sg(dev, sgl, nents, dir,
							 attrs);
	WRITE_ONCE(shim->probe, false);
	return p2pmem_shim_map_sg_routed(dev, shim, sgl, nents, dir, attrs,
					 true);
}

static int p2pmem_shim_map_sg(struct device *dev, struct scatterlist *sgl,
			      int nents, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct p2pmem_shim *shim = p2pmem_dma_shim_of(dev);
	int ret;

	if (unlikely(!shim))	/* restored while on the way here */
		return p2pmem_dma_orig_ops(dev)->map_sg(dev, sgl, nents, dir,
							 attrs);

	sgl->dma_flags &= ~P2PMEM_SG_FLAGS;
	/*
	 * Most lists hold host memory only, and the original operations test
	 * every entry for a P2PDMA page as they map: let them, and a list
	 * of host memory costs no pass here. One with p2pmem comes back with
	 * nothing mapped (-EREMOTEIO) and is routed; after it, the device's
	 * lists are routed first until one holds no p2pmem, so that a run of
	 * lists with p2pmem is not probed each time.
	 */
	if (likely(READ_ONCE(shim->probe)) &&
	    !static_branch_unlikely(&p2pmem_count_host)) {
		ret = shim->orig->map_sg(dev, sgl, nents, dir,
					 attrs | DMA_ATTR_P2P_PROBE);
		if (likely(ret != -EREMOTEIO))
			return ret;
		return p2pmem_shim_map_sg_probed(dev, sgl, nents, dir, attrs);
	}
	return p2pmem_shim_map_sg_routed(dev, shim, sgl, nents, dir, attrs,
					 false);
}

/* Unmap an sgl that holds references on providers of its p2pmem. */
static noinline void p2pmem_shim_unmap_sg_held(struct device *dev,
					       const struct dma_map_ops *orig,
					       struct scatterlist *sgl,
					       int nents,
					       enum dma_data_direction dir,
					       unsigned long attrs)
{
	unsigned int flags = sgl->dma_flags;
	struct p2pmem_shim *shim;

	shim = p2pmem_dma_shim_of(dev);
	if (flags & P2PMEM_SG_ALL_BUS) {
		/* The original operations never saw it. */
		p2pmem_sg_unmark(sgl, nents);
	} else if (!shim || shim->routed || !p2pmem_sg_has_bus(sgl, nents)) {
		/* Original operations that take routed lists unmap them. */
		if (orig->unmap_sg)
			orig->unmap_sg(dev, sgl, nents, dir, attrs);
	} else {
		p2pmem_sg_walk(shim, sgl, nents, true, p2pmem_run_unmap, dev,
			       dir, attrs);
	}
	p2pmem_sg_release(dev, sgl, nents, flags);
}

static void p2pmem_shim_unmap_sg(struct device *dev, struct scatterlist *sgl,
				 int nents, enum dma_data_direction dir,
				 unsigned long attrs)
{
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);

	if (unlikely(sgl->dma_flags & P2PMEM_SG_HELD))
		p2pmem_shim_unmap_sg_held(dev, orig, sgl, nents, dir, attrs);
	else if (orig->unmap_sg)
		orig->unmap_sg(dev, sgl, nents, dir, attrs);
}

static void p2pmem_shim_sync_sg_for_cpu(struct device *dev,
					struct scatterlist *sgl, int nents,
					enum dma_data_direction dir)
{
	struct p2pmem_shim *shim = p2pmem_dma_shim_of(dev);
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);

	if (sgl->dma_flags & P2PMEM_SG_ALL_BUS)
		return;
	if (!(sgl->dma_flags & P2PMEM_SG_HELD) || unlikely(!shim) ||
	    !p2pmem_sg_has_bus(sgl, nents)) {
		if (orig->sync_sg_for_cpu)
			orig->sync_sg_for_cpu(dev, sgl, nents, dir);
		return;
	}
	p2pmem_sg_walk(shim, sgl, nents, false, p2pmem_run_sync_cpu, dev, dir,
		       0);
}

static void p2pmem_shim_sync_sg_for_device(struct device *dev,
					   struct scatterlist *sgl, int nents,
					   enum dma_data_direction dir)
{
	struct p2pmem_shim *shim = p2pmem_dma_shim_of(dev);
	const struct dma_map_ops *orig = p2pmem_dma_orig_ops(dev);

	if (sgl->dma_flags & P2PMEM_SG_ALL_BUS)
		return;
	if (!(sgl->dma_flags & P2PMEM_SG_HELD) || unlikely(!shim) ||
	    !p2pmem_sg_has_bus(sgl, nents)) {
		if (orig->sync_sg_for_device)
			orig->sync_sg_for_device(dev, sgl, nents, dir);
		return;
	}
	p2pmem_sg_walk(shim, sgl, nents, false, p2pmem_run_sync_device, dev,
		       dir, 0);
}

/*
 * dma_need_sync() for the shim: what the DMA API answers for the original
 * operations, which is a constant when they have no need_sync of their own.
 * A sync of p2pmem on the bus address route is skipped by the shim anyway.
 */
static bool p2pmem_need_sync_yes(struct device *dev, dma_addr_t addr)
{
	return true;
}

static bool p2pmem_need_sync_no(struct device *dev, dma_addr_t addr)
{
	return false;
}

/*
 * Make @shim the shim stacked on @orig. Caller holds p2pmem_lock, and no
 * device has @shim as its operations.
 */
static void p2pmem_shim_init(struct p2pmem_shim *shim,
			     const struct dma_map_ops *orig)
{
	bool routed = orig->flags & DMA_F_P2P_ROUTED;
	/*
	 * What the shim does not route is the original's own; original
	 * operations that take routed lists sync them themselves, and unmap
	 * them whole once the shim has seen what the sgl holds.
	 */
	const struct dma_map_ops ops = {
		/* The shim routes P2PDMA pages itself, whatever @orig does. */
		.flags			= (orig->flags & ~DMA_F_P2P_ROUTED) |
					  DMA_F_PCI_P2PDMA_SUPPORTED |
					  DMA_F_P2PMEM_SHIM,
		.alloc			= orig->alloc,
		.free			= orig->free,
		.alloc_pages		= orig->alloc_pages,
		.free_pages		= orig->free_pages,
		.alloc_noncontiguous	= orig->alloc_noncontiguous,
		.free_noncontiguous	= orig->free_noncontiguous,
		.mmap			= orig->mmap,
		.get_sgtable		= orig->get_sgtable,
		.map_page		= p2pmem_shim_map_page,
		.unmap_page		= p2pmem_shim_unmap_page,
		.map_sg			= p2pmem_shim_map_sg,
		.unmap_sg		= p2pmem_shim_unmap_sg,
		.map_resource		= p2pmem_shim_map_resource,
		.unmap_resource		= p2pmem_shim_unmap_resource,
		.sync_single_for_cpu	= p2pmem_shim_sync_single_for_cpu,
		.sync_single_for_device	= p2pmem_shim_sync_single_for_device,
		.sync_sg_for_cpu	= routed ? orig->sync_sg_for_cpu :
					  p2pmem_shim_sync_sg_for_cpu,
		.sync_sg_for_device	= routed ? orig->sync_sg_for_device :
					  p2pmem_shim_sync_sg_for_device,
		.need_sync		= orig->need_sync ? orig->need_sync :
					  orig->sync_single_for_cpu ||
					  orig->sync_single_for_device ?
					  p2pmem_need_sync_yes :
					  p2pmem_need_sync_no,
		.cache_sync		= orig->cache_sync,
		.dma_supported		= orig->dma_supported,
		.get_required_mask	= orig->get_required_mask,
		.max_mapping_size	= orig->max_mapping_size,
		.opt_mapping_size	= orig->opt_mapping_size,
		.get_merge_boundary	= orig->get_merge_boundary,
	};

	lockdep_assert_held(&p2pmem_lock);
	memcpy((void *)&shim->ops, &ops, sizeof(ops));
	shim->orig = orig;
	shim->routed = routed;
	shim->probe = routed;
	shim->probe_never = false;
	/* dma-direct maps an sgl one segment per entry: map it in runs. */
	shim->runs = orig == &dma_direct_ops;
}

/*
 * The record of @pdev, whose operations before the shim are @prev, made on
 * the device's first injection. Caller holds p2pmem_lock.
 */
static struct p2pmem_client_stats *
p2pmem_client_stats_add(struct pci_dev *pdev, const struct dma_map_ops *prev)
{
	unsigned long key = p2pmem_dev_key(pdev);
	struct p2pmem_client_stats *cs;
	long live;

	cs = xa_load(&p2pmem_clients, key);
	if (cs) {
		/* Restored, or something replaced the shim: back on top. */
		live = atomic_long_read(&cs->live);
		if (live && prev != cs->prev)
			pci_warn(pdev, "p2pmem: the DMA operations changed under %ld outstanding p2pmem mappings\n",
				 live);
		cs->prev = prev;
		return cs;
	}
	cs = kzalloc(sizeof(*cs), GFP_KERNEL);
	if (!cs)
		return NULL;
	cs->prev = prev;
	if (p2pmem_singles_init(&cs->singles)) {
		kfree(cs);
		return NULL;
	}
	if (xa_insert(&p2pmem_clients, key, cs, GFP_KERNEL)) {
		kvfree(cs->singles.rec);
		kfree(cs);
		return NULL;
	}
	return cs;
}

/*
 * @pdev is being deleted: it has no driver, so no DMA call can come, and
 * its record goes. Caller holds p2pmem_lock.
 */
static void p2pmem_client_stats_del(struct pci_dev *pdev)
{
	struct p2pmem_client_stats *cs;

	cs = xa_erase(&p2pmem_clients, p2pmem_dev_key(pdev));
	if (!cs)
		return;
	/* Whoever still looks at the device must not see a freed shim. */
	cmpxchg(&pdev->dev.dma_ops, &cs->shim.ops, cs->prev);
	p2pmem_singles_drop(cs);
	p2pmem_singles_free(&cs->singles);
	kfree_rcu(cs, rcu);
}

/**
 * p2pmem_dma_inject() - give a PCI device the shim
 * @pdev: the device
 *
 * Caller holds p2pmem_lock.
 *
 * Return: 0, or -ENOMEM.
 */
int p2pmem_dma_inject(struct pci_dev *pdev)
{
	const struct dma_map_ops *ops = READ_ONCE(pdev->dev.dma_ops);
	const struct dma_map_ops *orig = ops;
	struct p2pmem_client_stats *cs;

	lockdep_assert_held(&p2pmem_lock);
	if (p2pmem_ops_is_shim(ops))
		return 0;
	if (!orig)
		orig = get_arch_dma_ops(pdev->dev.bus) ?: &dma_direct_ops;
	cs = p2pmem_client_stats_add(pdev, ops);
	if (!cs) {
		pci_warn(pdev, "p2pmem: no memory for the DMA shim; p2pmem mappings for this device will be refused\n");
		return -ENOMEM;
	}
	/* Not the device's operations now: free to be (re)made. */
	if (cs->shim.orig != orig)
		p2pmem_shim_init(&cs->shim, orig);
	/*
	 * An IOMMU may be setting the device's operations right now; if so,
	 * leave them: the next add or bind notification stacks on them.
	 */
	cmpxchg(&pdev->dev.dma_ops, ops, &cs->shim.ops);
	return 0;
}

/**
 * p2pmem_dma_restore() - give a PCI device its original operations back
 * @pdev: the device
 *
 * The device gets back exactly the dma_ops it had before the shim (%NULL
 * for dma-direct or the architecture's operations). While it has p2pmem
 * mappings outstanding, which only the shim can unmap, it keeps the shim,
 * and the refusal is logged.
 *
 * Caller holds p2pmem_lock.
 *
 * Return: 0, or -EBUSY when the device keeps the shim.
 */
int p2pmem_dma_restore(struct pci_dev *pdev)
{
	struct p2pmem_shim *shim = p2pmem_dma_shim_of(&pdev->dev);
	const struct dma_map_ops *prev = NULL;
	struct p2pmem_client_stats *cs;
	long live;

	lockdep_assert_held(&p2pmem_lock);
	cs = xa_load(&p2pmem_clients, p2pmem_dev_key(pdev));
	if (cs) {
		live = atomic_long_read(&cs->live);
		if (live && shim) {
			pci_warn(pdev, "p2pmem: keeping the DMA shim: the device has %ld p2pmem mappings outstanding\n",
				 live);
			return -EBUSY;
		}
		prev = cs->prev;
		/*
		 * Operations that replaced the shim unmap what it mapped:
		 * the records of single mappings would never be dropped.
		 */
		if (!shim)
			p2pmem_singles_drop(cs);
	}
	/* The record stays for calls still on their way through the shim. */
	if (shim)
		cmpxchg(&pdev->dev.dma_ops, &shim->ops, prev);
	return 0;
}

static int p2pmem_inject_one(struct pci_dev *pdev, void *data)
{
	p2pmem_dma_inject(pdev);
	return 0;
}

static int p2pmem_restore_one(struct pci_dev *pdev, void *data)
{
	p2pmem_dma_restore(pdev);
	return 0;
}

/* Is there a provider below @hb? Caller holds p2pmem_lock. */
static bool p2pmem_hb_has_provider(struct pci_host_bridge *hb)
{
	struct p2pmem_provider *prov;
	unsigned long idx;

	xa_for_each(&p2pmem_providers, idx, prov)
		if (pci_find_host_bridge(prov->pdev->bus) == hb)
			return true;
	return false;
}

/**
 * p2pmem_dma_provider_added() - a provider was registered
 * @prov: the provider, already in p2pmem_providers
 *
 * Gives every device below the provider's host bridge the shim and turns
 * the guard of the DMA API on. Caller holds p2pmem_lock.
 */
void p2pmem_dma_provider_added(struct p2pmem_provider *prov)
{
	struct pci_host_bridge *hb = pci_find_host_bridge(prov->pdev->bus);

	static_branch_inc(&p2pmem_dma_guard_key);
	pci_walk_bus(hb->bus, p2pmem_inject_one, NULL);
}

/**
 * p2pmem_dma_provider_removed() - a provider is gone
 * @prov: the provider, already erased from p2pmem_providers
 *
 * When it was the last provider below its host bridge, the devices there
 * get their original operations back. Caller holds p2pmem_lock.
 */
void p2pmem_dma_provider_removed(struct p2pmem_provider *prov)
{
	struct pci_host_bridge *hb = pci_find_host_bridge(prov->pdev->bus);

	if (!p2pmem_hb_has_provider(hb))
		pci_walk_bus(hb->bus, p2pmem_restore_one, NULL);
	static_branch_dec(&p2pmem_dma_guard_key);
}

/*
 * May @dev, whose operations are @ops, map memory of @range? Only the
 * bus address route needs the shim; the host bridge route is what the
 * device's own operations do anyway.
 */
static bool p2pmem_guard_refuses(struct device *dev,
				 const struct dma_map_ops *ops,
				 struct p2pmem_range *range)
{
	struct pci_dev *client = p2pmem_client_pci(dev);

	if (p2pmem_ops_is_shim(ops))
		return false;
	if (client && dev == &client->dev &&
	    p2pmem_route(range->prov, client) == P2PMEM_MAP_THRU_HOST_BRIDGE)
		return false;
	p2pmem_dma_refused(range->prov, dev, false);
	return true;
}

/**
 * p2pmem_dma_guard_page() - must the DMA API refuse to map a page?
 * @dev: the device the page would be mapped for
 * @ops: the device's DMA operations, as the DMA API read them
 * @page: the page
 *
 * Called by the DMA API while a provider exists. A p2pmem page on the bus
 * address route may only be mapped through the shim, and a page the
 * device cannot reach not at all; such mappings are refused, counted in
 * the provider's statistics and logged once.
 *
 * Return: true when the mapping must fail.
 */
bool p2pmem_dma_guard_page(struct device *dev, const struct dma_map_ops *ops,
			   struct page *page)
{
	struct p2pmem_range *range;
	bool refuse;

	rcu_read_lock();
	range = p2pmem_page_range(page);
	refuse = range && p2pmem_guard_refuses(dev, ops, range);
	rcu_read_unlock();
	return refuse;
}

/**
 * p2pmem_dma_guard_sg() - must the DMA API refuse to map a scatterlist?
 * @dev: the device the scatterlist would be mapped for
 * @ops: the device's DMA operations, as the DMA API read them
 * @sgl: the scatterlist
 * @nents: number of entries
 *
 * Like p2pmem_dma_guard_page(), for every entry of @sgl.
 *
 * Return: true when the mapping must fail.
 */
bool p2pmem_dma_guard_sg(struct device *dev, const struct dma_map_ops *ops,
			 struct scatterlist *sgl, int nents)
{
	struct p2pmem_range *range;
	unsigned long lo, span;
	struct scatterlist *sg;
	int i;

	if (p2pmem_ops_is_shim(ops))
		return false;
	rcu_read_lock();
	p2pmem_window_read(&lo, &span);
	for_each_sg(sgl, sg, nents, i) {
		range = p2pmem_page_range_in(sg_page(sg), lo, span);
		if (range && p2pmem_guard_refuses(dev, ops, range))
			break;
	}
	rcu_read_unlock();
	return i < nents;
}

/*
 * IOMMU drivers set a device's operations when it is added, and may set
 * them again while it has no driver (a change of its default domain), so
 * the shim is put back on top when a device is added and when a driver
 * binds. The low priority makes this run after the IOMMU's own notifier.
 */
static int p2pmem_dma_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	if (action == BUS_NOTIFY_DEL_DEVICE) {
		mutex_lock(&p2pmem_lock);
		p2pmem_client_stats_del(pdev);
		mutex_unlock(&p2pmem_lock);
		return NOTIFY_DONE;
	}
	if (action != BUS_NOTIFY_ADD_DEVICE &&
	    action != BUS_NOTIFY_BIND_DRIVER)
		return NOTIFY_DONE;
	mutex_lock(&p2pmem_lock);
	if (p2pmem_hb_has_provider(pci_find_host_bridge(pdev->bus)))
		p2pmem_dma_inject(pdev);
	mutex_unlock(&p2pmem_lock);
	return NOTIFY_DONE;
}

static struct notifier_block p2pmem_dma_nb = {
	.notifier_call = p2pmem_dma_notify,
	.priority = INT_MIN,
};

/**
 * p2pmem_dma_init() - start watching devices come and bind
 *
 * Return: 0 or the error of bus_register_notifier().
 */
int p2pmem_dma_init(void)
{
	return bus_register_notifier(&pci_bus_type, &p2pmem_dma_nb);
}
