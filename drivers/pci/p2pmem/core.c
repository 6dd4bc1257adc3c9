// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem provider core: registration of BAR memory as ZONE_DEVICE pages,
 * the allocator handing it out, publication and safe removal.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/resource_ext.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pmem.h"

/* Serialises registration, removal, publication and provider lookups. */
DEFINE_MUTEX(p2pmem_lock);
/* Providers by p2pmem_dev_key(); readers may also use RCU. */
DEFINE_XARRAY(p2pmem_providers);
/* N of /sys/class/p2pmem/p2pmemN. */
static DEFINE_IDA(p2pmem_ida);
/*
 * Guards &p2pmem_provider.published and .dying. A spinlock, not
 * p2pmem_lock: sysfs handlers take it, and sysfs files are removed with
 * p2pmem_lock held on registration's error path.
 */
static DEFINE_SPINLOCK(p2pmem_state_lock);

unsigned int p2pmem_remove_warn_ms = 5000;
module_param_named(remove_warn_ms, p2pmem_remove_warn_ms, uint, 0644);
MODULE_PARM_DESC(remove_warn_ms,
		 "Log outstanding allocations every this many ms while a provider waits to go away");

/* At most this many outstanding allocations are listed while waiting. */
#define P2PMEM_LIST_MAX	8

/**
 * p2pmem_dev_key() - index of a PCI device in p2pmem's xarrays
 * @pdev: the device
 *
 * Return: domain, bus and devfn packed so that keys sort like PCI names.
 */
unsigned long p2pmem_dev_key(struct pci_dev *pdev)
{
	return ((unsigned long)pci_domain_nr(pdev->bus) << 16) |
	       pci_dev_id(pdev);
}

/**
 * p2pmem_provider_of() - the provider registered for a PCI device
 * @pdev: the device
 *
 * Caller holds rcu_read_lock() or p2pmem_lock. A device that was removed
 * has no provider, even when a device plugged in at its address since
 * has one: a holder of the old &struct pci_dev never gets the new
 * device's memory.
 *
 * Return: the provider or %NULL.
 */
struct p2pmem_provider *p2pmem_provider_of(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov;

	if (!pdev)
		return NULL;
	prov = xa_load(&p2pmem_providers, p2pmem_dev_key(pdev));
	return prov && prov->pdev == pdev ? prov : NULL;
}

/**
 * p2pmem_window_offset() - CPU-to-bus offset of the window holding a resource
 * @windows: list of &struct resource_entry, as in &pci_host_bridge.windows
 * @res: the resource (a BAR) to look up
 * @offset: set to the window's offset (CPU address minus bus address)
 *
 * Return: 0, or -ENXIO when no window contains @res.
 */
int p2pmem_window_offset(struct list_head *windows, struct resource *res,
			 resource_size_t *offset)
{
	struct resource_entry *win;

	resource_list_for_each_entry(win, windows) {
		if (resource_type(win->res) != resource_type(res))
			continue;
		if (resource_contains(win->res, res)) {
			*offset = win->offset;
			return 0;
		}
	}
	return -ENXIO;
}

static void p2pmem_ref_release(struct percpu_ref *ref)
{
	struct p2pmem_provider *prov =
		container_of(ref, struct p2pmem_provider, ref);

	complete(&prov->ref_done);
}

static void p2pmem_dev_release(struct device *dev)
{
	struct p2pmem_provider *prov =
		container_of(dev, struct p2pmem_provider, dev);

	kfree(prov);
}

static void p2pmem_log_outstanding(struct p2pmem_provider *prov)
{
	struct p2pmem_alloc_rec *rec;
	unsigned long idx;
	int n = 0;

	pci_warn(prov->pdev,
		 "p2pmem removal waiting for %ld bytes still allocated and %ld DMA mappings:\n",
		 atomic_long_read(&prov->stats.in_use),
		 atomic_long_read(&prov->stats.mappings));
	xa_lock_irq(&prov->allocs);
	xa_for_each(&prov->allocs, idx, rec) {
		if (n++ == P2PMEM_LIST_MAX) {
			pci_warn(prov->pdev, "  ... and more\n");
			break;
		}
		pci_warn(prov->pdev, "  %zu bytes held by %pS\n", rec->size,
			 (void *)rec->caller);
	}
	xa_unlock_irq(&prov->allocs);
}

static void p2pmem_quiesce(struct p2pmem_provider *prov)
{
	unsigned int ms;

	spin_lock(&p2pmem_state_lock);
	WRITE_ONCE(prov->published, false);
	WRITE_ONCE(prov->dying, true);
	spin_unlock(&p2pmem_state_lock);

	/* From here on every new allocation fails at once. */
	percpu_ref_kill(&prov->ref);
	for (;;) {
		ms = READ_ONCE(p2pmem_remove_warn_ms);
		if (!ms) {
			wait_for_completion(&prov->ref_done);
			break;
		}
		if (wait_for_completion_timeout(&prov->ref_done,
						msecs_to_jiffies(ms)))
			break;
		p2pmem_log_outstanding(prov);
	}
}

static void p2pmem_release_provider(void *data)
{
	struct p2pmem_provider *prov = data;
	struct p2pmem_range *range, *tmp;
	int id = prov->id;

	/*
	 * The files go first: removing the allocate file unmaps what
	 * userspace has mapped of the provider, which gives those pages back.
	 */
	p2pmem_sysfs_remove(prov);
	p2pmem_quiesce(prov);

	/* No file may reach the provider once the pool is gone. */
	p2pmem_debugfs_remove(prov);
	device_del(&prov->dev);

	mutex_lock(&p2pmem_lock);
	xa_erase(&p2pmem_providers, p2pmem_dev_key(prov->pdev));
	p2pmem_dma_provider_removed(prov);
	p2pmem_window_update(NULL);
	mutex_unlock(&p2pmem_lock);
	/* Lockless readers may still look at @prov; let them finish. */
	synchronize_rcu();

	gen_pool_destroy(prov->pool);
	list_for_each_entry_safe(range, tmp, &prov->ranges, node) {
		list_del(&range->node);
		memunmap_pages(&range->pgmap);
		kfree(range);
	}
	p2pmem_verdicts_drop(prov);
	xa_destroy(&prov->allocs);
	percpu_ref_exit(&prov->ref);
	pci_info(prov->pdev, "p2pmem provider p2pmem%d removed\n", id);
	put_device(&prov->dev);
	/* Only now may the name p2pmemN be reused. */
	ida_free(&p2pmem_ida, id);
}

/**
 * p2pmem_remove_provider() - tear a provider down now
 * @prov: the provider
 *
 * Runs what would run when the provider's driver unbinds: publication is
 * withdrawn, new allocations fail, and the call waits for the outstanding
 * ones to be freed before the memory is unmapped.
 */
void p2pmem_remove_provider(struct p2pmem_provider *prov)
{
	devm_release_action(&prov->pdev->dev, p2pmem_release_provider, prov);
}

static struct p2pmem_provider *p2pmem_create_provider(struct pci_dev *pdev,
						      struct p2pmem_range *range)
{
	struct p2pmem_provider *prov;
	int ret;

	prov = kzalloc(sizeof(*prov), GFP_KERNEL);
	if (!prov)
		return ERR_PTR(-ENOMEM);
	prov->pdev = pdev;
	INIT_LIST_HEAD(&prov->ranges);
	init_completion(&prov->ref_done);
	/* Frees may come from completion handlers, in interrupt context. */
	xa_init_flags(&prov->allocs, XA_FLAGS_LOCK_IRQ);
	xa_init_flags(&prov->verdicts, XA_FLAGS_LOCK_IRQ);
	/*
	 * No parent: the class glue directory would be called "p2pmem" and
	 * clash with the attribute group of the same name that existing
	 * tools read under the PCI device. A "device" link is added instead.
	 */
	device_initialize(&prov->dev);
	prov->dev.class = &p2pmem_class;
	prov->dev.release = p2pmem_dev_release;

	ret = ida_alloc(&p2pmem_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_put;
	prov->id = ret;
	ret = dev_set_name(&prov->dev, "p2pmem%d", prov->id);
	if (ret)
		goto err_ida;

	prov->pool = gen_pool_create(PAGE_SHIFT, dev_to_node(&pdev->dev));
	if (!prov->pool) {
		ret = -ENOMEM;
		goto err_ida;
	}
	/* The first range goes in before anything becomes visible. */
	range->prov = prov;
	list_add_tail(&range->node, &prov->ranges);
	ret = gen_pool_add_owner(prov->pool, range->virt, range->phys,
				 range->size, dev_to_node(&pdev->dev), range);
	if (ret)
		goto err_pool;
	/*
	 * Reinit allowed: the per-CPU counters are kept until
	 * percpu_ref_exit() (a few bytes), so that the KUnit suite can stop
	 * a removal where the count has dropped to zero and undo it.
	 */
	ret = percpu_ref_init(&prov->ref, p2pmem_ref_release,
			      PERCPU_REF_ALLOW_REINIT, GFP_KERNEL);
	if (ret)
		goto err_pool;

	ret = device_add(&prov->dev);
	if (ret)
		goto err_ref;
	ret = p2pmem_sysfs_add(prov);
	if (ret)
		goto err_del;
	p2pmem_debugfs_add(prov);

	/* Its verdicts are there before the DMA path can see it. */
	p2pmem_verdicts_provider_added(prov);
	ret = xa_insert(&p2pmem_providers, p2pmem_dev_key(pdev), prov,
			GFP_KERNEL);
	if (ret)
		goto err_sysfs;

	ret = devm_add_action(&pdev->dev, p2pmem_release_provider, prov);
	if (ret) {
		xa_erase(&p2pmem_providers, p2pmem_dev_key(pdev));
		synchronize_rcu();
		goto err_sysfs;
	}
	return prov;

err_sysfs:
	p2pmem_verdicts_drop(prov);
	p2pmem_debugfs_remove(prov);
	p2pmem_sysfs_remove(prov);
err_del:
	device_del(&prov->dev);
err_ref:
	percpu_ref_exit(&prov->ref);
err_pool:
	gen_pool_destroy(prov->pool);
	list_del(&range->node);
	range->prov = NULL;
err_ida:
	ida_free(&p2pmem_ida, prov->id);
err_put:
	put_device(&prov->dev);
	return ERR_PTR(ret);
}

static bool p2pmem_overlaps(struct p2pmem_provider *prov, resource_size_t start,
			    resource_size_t end)
{
	struct p2pmem_range *range;

	list_for_each_entry(range, &prov->ranges, node) {
		if (start <= range->pgmap.range.end &&
		    end >= range->pgmap.range.start)
			return true;
	}
	return false;
}

/**
 * p2pmem_add_resource() - hand a BAR, or part of one, to p2pmem
 * @pdev: the device owning the BAR
 * @bar: BAR index
 * @size: bytes to register, or 0 for everything from @offset to the end
 * @offset: where in the BAR the memory starts
 *
 * The memory becomes ZONE_DEVICE pages handed out by p2pmem_alloc(). The
 * first call for a device creates its provider (/sys/class/p2pmem/p2pmemN
 * and the p2pmem/ attributes of the PCI device); later calls add memory to
 * it. Everything is torn down when @pdev's driver unbinds (or, for a
 * device without a driver, when the device goes away): removal waits until
 * every allocation has been freed. A failed call leaves nothing behind.
 * The provider is not published; call p2pmem_publish() to make it visible
 * to p2pmem_find().
 *
 * Context: process context; takes and releases p2pmem's mutex.
 * Return: 0 on success; -EINVAL for a BAR that is not memory or a range
 * outside the BAR or not aligned to memremap_compat_align(); -EBUSY when
 * the range overlaps one already registered; -ENXIO when no host bridge
 * window holds the BAR; -ENODEV when the provider is being removed;
 * -ENOMEM or the error of memremap_pages() otherwise.
 */
int p2pmem_add_resource(struct pci_dev *pdev, int bar, size_t size,
			u64 offset)
{
	struct pci_host_bridge *host;
	struct p2pmem_provider *prov;
	struct p2pmem_range *range;
	resource_size_t start, len, bus_off;
	void *addr;
	int ret;

	if (!pdev || bar < 0 || bar >= PCI_STD_NUM_BARS)
		return -EINVAL;
	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
		pci_err(pdev, "p2pmem: BAR %d is not a memory BAR\n", bar);
		return -EINVAL;
	}
	len = pci_resource_len(pdev, bar);
	if (offset >= len) {
		pci_err(pdev, "p2pmem: offset %#llx is beyond BAR %d (%pa bytes)\n",
			offset, bar, &len);
		return -EINVAL;
	}
	if (!size)
		size = len - offset;
	if (size > len - offset) {
		pci_err(pdev, "p2pmem: %zu bytes at offset %#llx do not fit in BAR %d\n",
			size, offset, bar);
		return -EINVAL;
	}
	start = pci_resource_start(pdev, bar) + offset;
	if (!IS_ALIGNED(start, memremap_compat_align()) ||
	    !IS_ALIGNED(size, memremap_compat_align())) {
		pci_err(pdev, "p2pmem: BAR %d range %pa+%#zx is not aligned to %#lx\n",
			bar, &start, size, memremap_compat_align());
		return -EINVAL;
	}
	host = pci_find_host_bridge(pdev->bus);
	if (p2pmem_window_offset(&host->windows, &pdev->resource[bar],
				 &bus_off)) {
		pci_err(pdev, "p2pmem: BAR %d is in no window of host bridge %s\n",
			bar, dev_name(&host->dev));
		return -ENXIO;
	}

	mutex_lock(&p2pmem_lock);
	prov = p2pmem_provider_of(pdev);
	if (prov && p2pmem_overlaps(prov, start, start + size - 1)) {
		pci_err(pdev, "p2pmem: BAR %d range %pa+%#zx is already registered\n",
			bar, &start, size);
		ret = -EBUSY;
		goto out_unlock;
	}
	if (prov && READ_ONCE(prov->dying)) {
		ret = -ENODEV;
		goto out_unlock;
	}

	range = kzalloc(sizeof(*range), GFP_KERNEL);
	if (!range) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	range->bar = bar;
	range->size = size;
	range->phys = start;
	range->bus = start - bus_off;
	range->pgmap.range.start = start;
	range->pgmap.range.end = start + size - 1;
	range->pgmap.nr_range = 1;
	range->pgmap.type = MEMORY_DEVICE_PCI_P2PDMA;
	range->pgmap.ops = &p2pmem_pgmap_ops;

	if (p2pmem_should_fail(size))
		addr = ERR_PTR(-ENOMEM);
	else
		addr = memremap_pages(&range->pgmap, dev_to_node(&pdev->dev));
	if (IS_ERR(addr)) {
		ret = PTR_ERR(addr);
		pci_err(pdev, "p2pmem: cannot map BAR %d as device pages: %d\n",
			bar, ret);
		goto out_free_range;
	}
	range->virt = (unsigned long)addr;

	/* The DMA path must know these pages before they can be handed out. */
	p2pmem_window_update(range);
	if (!prov) {
		prov = p2pmem_create_provider(pdev, range);
		if (IS_ERR(prov)) {
			ret = PTR_ERR(prov);
			goto out_unmap;
		}
		p2pmem_dma_provider_added(prov);
	} else {
		/* Known to virt_to_bus before the allocator can hand it out. */
		range->prov = prov;
		list_add_tail_rcu(&range->node, &prov->ranges);
		ret = gen_pool_add_owner(prov->pool, range->virt, range->phys,
					 size, dev_to_node(&pdev->dev), range);
		if (ret) {
			list_del_rcu(&range->node);
			synchronize_rcu();
			goto out_unmap;
		}
	}
	mutex_unlock(&p2pmem_lock);

	pci_info(pdev, "p2pmem: %s: BAR %d, %zu KiB at bus %#llx (cpu %pa)\n",
		 dev_name(&prov->dev), bar, size >> 10,
		 (unsigned long long)range->bus, &start);
	return 0;

out_unmap:
	memunmap_pages(&range->pgmap);
out_free_range:
	kfree(range);
out_unlock:
	mutex_unlock(&p2pmem_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmem_add_resource);

static struct p2pmem_provider *p2pmem_tryget(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov;

	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	if (prov && !percpu_ref_tryget_live(&prov->ref))
		prov = NULL;
	rcu_read_unlock();
	return prov;
}

static void p2pmem_account_alloc(struct p2pmem_provider *prov, size_t size)
{
	long now = atomic_long_add_return(size, &prov->stats.in_use);
	long hw = atomic_long_read(&prov->stats.high_water);

	atomic_long_inc(&prov->stats.allocs);
	while (now > hw &&
	       !atomic_long_try_cmpxchg(&prov->stats.high_water, &hw, now))
		;
}

static void *p2pmem_alloc_caller(struct pci_dev *pdev, size_t size,
				 unsigned long caller)
{
	struct p2pmem_provider *prov;
	struct p2pmem_alloc_rec *rec;
	unsigned long addr;

	if (!size)
		return NULL;
	prov = p2pmem_tryget(pdev);
	if (!prov)
		return NULL;

	size = PAGE_ALIGN(size);
	rec = kmalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		goto err_fail;
	addr = p2pmem_should_fail(size) ? 0 : gen_pool_alloc(prov->pool, size);
	if (!addr)
		goto err_free_rec;
	rec->size = size;
	rec->caller = caller;
	if (xa_insert_irq(&prov->allocs, addr >> PAGE_SHIFT, rec, GFP_KERNEL))
		goto err_free_pool;
	p2pmem_account_alloc(prov, size);
	return (void *)addr;

err_free_pool:
	gen_pool_free(prov->pool, addr, size);
err_free_rec:
	kfree(rec);
err_fail:
	atomic_long_inc(&prov->stats.failed);
	percpu_ref_put(&prov->ref);
	return NULL;
}

/**
 * p2pmem_alloc() - allocate peer-to-peer memory from a provider
 * @pdev: the provider
 * @size: bytes wanted; rounded up to whole pages
 *
 * The memory is page aligned and physically contiguous. Each allocation
 * holds the provider: its removal waits until the allocation is freed.
 *
 * Context: process context, may sleep.
 * Return: the kernel virtual address, or %NULL when @size is 0, @pdev is
 * not a live provider, or the provider has no free range large enough.
 */
void *p2pmem_alloc(struct pci_dev *pdev, size_t size)
{
	return p2pmem_alloc_caller(pdev, size, _RET_IP_);
}
EXPORT_SYMBOL_GPL(p2pmem_alloc);

/**
 * p2pmem_free() - free memory from p2pmem_alloc()
 * @pdev: the provider it came from
 * @addr: the address p2pmem_alloc() returned
 * @size: the size that was asked for
 *
 * Freeing an address that is not an outstanding allocation of @pdev logs an
 * error and changes nothing.
 *
 * Context: any context.
 */
void p2pmem_free(struct pci_dev *pdev, void *addr, size_t size)
{
	struct p2pmem_alloc_rec *rec = NULL;
	struct p2pmem_provider *prov;
	unsigned long flags;

	/* Once @rec is found, the allocation it stands for pins @prov. */
	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	if (prov && PAGE_ALIGNED(addr)) {
		xa_lock_irqsave(&prov->allocs, flags);
		rec = __xa_erase(&prov->allocs,
				 (unsigned long)addr >> PAGE_SHIFT);
		xa_unlock_irqrestore(&prov->allocs, flags);
	}
	rcu_read_unlock();
	if (!rec) {
		pr_err_ratelimited("free of %p by %pS: not allocated from %s\n",
				   addr, (void *)_RET_IP_,
				   pdev ? pci_name(pdev) : "(null)");
		return;
	}
	if (rec->size != PAGE_ALIGN(size))
		pci_warn(pdev, "p2pmem: free of %p with size %zu, allocated with %zu\n",
			 addr, size, rec->size);
	gen_pool_free(prov->pool, (unsigned long)addr, rec->size);
	atomic_long_sub(rec->size, &prov->stats.in_use);
	atomic_long_inc(&prov->stats.frees);
	kfree(rec);
	percpu_ref_put(&prov->ref);
}
EXPORT_SYMBOL_GPL(p2pmem_free);

/**
 * p2pmem_virt_to_bus() - PCI bus address of provider memory
 * @pdev: the provider
 * @addr: a kernel virtual address inside memory @pdev registered
 * @bus: set to the bus address, with the host bridge's offset applied
 *
 * Return: 0, or -EINVAL when @addr is not memory of @pdev.
 */
int p2pmem_virt_to_bus(struct pci_dev *pdev, void *addr, pci_bus_addr_t *bus)
{
	struct p2pmem_provider *prov;
	struct p2pmem_range *range;
	unsigned long va = (unsigned long)addr;
	int ret = -EINVAL;

	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	if (prov) {
		list_for_each_entry_rcu(range, &prov->ranges, node) {
			if (va >= range->virt && va - range->virt < range->size) {
				*bus = range->bus + (va - range->virt);
				ret = 0;
				break;
			}
		}
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmem_virt_to_bus);

/**
 * p2pmem_alloc_sgl() - allocate peer-to-peer memory as a scatterlist
 * @pdev: the provider
 * @length: bytes wanted
 * @nents: set to the number of entries of the returned list
 *
 * Context: process context, may sleep.
 * Return: the list, to be freed with p2pmem_free_sgl(), or %NULL when
 * @length is 0, @nents is %NULL or the memory is not available.
 */
struct scatterlist *p2pmem_alloc_sgl(struct pci_dev *pdev, u32 length,
				     unsigned int *nents)
{
	struct scatterlist *sg;
	void *addr;

	if (!length || !nents)
		return NULL;
	sg = kmalloc(sizeof(*sg), GFP_KERNEL);
	if (!sg)
		return NULL;
	addr = p2pmem_alloc_caller(pdev, length, _RET_IP_);
	if (!addr) {
		kfree(sg);
		return NULL;
	}
	sg_init_table(sg, 1);
	sg_set_page(sg, virt_to_page(addr), length, offset_in_page(addr));
	*nents = 1;
	return sg;
}
EXPORT_SYMBOL_GPL(p2pmem_alloc_sgl);

/**
 * p2pmem_free_sgl() - free a scatterlist from p2pmem_alloc_sgl()
 * @pdev: the provider
 * @sgl: the list; every entry is freed, then the list itself
 */
void p2pmem_free_sgl(struct pci_dev *pdev, struct scatterlist *sgl)
{
	struct scatterlist *sg;

	if (!sgl)
		return;
	for (sg = sgl; sg; sg = sg_next(sg)) {
		if (!sg_page(sg) || !sg->length)
			break;
		p2pmem_free(pdev, sg_virt(sg), sg->length);
	}
	kfree(sgl);
}
EXPORT_SYMBOL_GPL(p2pmem_free_sgl);

/**
 * p2pmem_publish() - make a provider visible to p2pmem_find(), or hide it
 * @pdev: the provider
 * @publish: true to publish, false to withdraw
 *
 * Withdrawing does not affect allocations already made.
 *
 * Return: 0, or -ENODEV when @pdev is not a live provider.
 */
int p2pmem_publish(struct pci_dev *pdev, bool publish)
{
	struct p2pmem_provider *prov;
	int ret = -ENODEV;

	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	if (prov) {
		spin_lock(&p2pmem_state_lock);
		if (!prov->dying) {
			WRITE_ONCE(prov->published, publish);
			ret = 0;
		}
		spin_unlock(&p2pmem_state_lock);
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmem_publish);

/**
 * p2pmem_get() - take a reference on a provider's PCI device
 * @pdev: the provider
 *
 * The reference keeps the &struct pci_dev, not its memory: once the
 * provider goes away, allocations from it fail.
 *
 * Return: @pdev with a reference taken, or %NULL when it is not a live
 * provider.
 */
struct pci_dev *p2pmem_get(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov;

	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	if (prov && !READ_ONCE(prov->dying))
		pci_dev_get(pdev);
	else
		pdev = NULL;
	rcu_read_unlock();
	return pdev;
}
EXPORT_SYMBOL_GPL(p2pmem_get);

/**
 * p2pmem_put() - drop a reference from p2pmem_get() or p2pmem_find()
 * @pdev: the provider, may be %NULL
 */
void p2pmem_put(struct pci_dev *pdev)
{
	pci_dev_put(pdev);
}
EXPORT_SYMBOL_GPL(p2pmem_put);

/**
 * p2pmem_is_p2p_page() - whether a page is p2pmem provider memory
 * @page: the page
 *
 * Return: true for pages of a registered BAR.
 */
bool p2pmem_is_p2p_page(struct page *page)
{
	return is_zone_device_page(page) &&
	       page->pgmap->type == MEMORY_DEVICE_PCI_P2PDMA;
}
EXPORT_SYMBOL_GPL(p2pmem_is_p2p_page);

/**
 * p2pmem_page_provider() - the provider a p2pmem page belongs to
 * @page: the page
 *
 * For messages and statistics: no reference is taken, so the answer is
 * only valid while the caller holds @page (an allocation or a pin of it).
 *
 * Return: the provider's PCI device, or %NULL for any other page.
 */
struct pci_dev *p2pmem_page_provider(struct page *page)
{
	struct p2pmem_range *range = p2pmem_page_range(page);

	return range ? range->prov->pdev : NULL;
}
EXPORT_SYMBOL_GPL(p2pmem_page_provider);

static int __init p2pmem_init(void)
{
	int ret;

	ret = class_register(&p2pmem_class);
	if (ret)
		return ret;
	ret = p2pmem_topology_init();
	if (ret)
		goto err_class;
	ret = p2pmem_dma_init();
	if (ret)
		goto err_topology;
	p2pmem_debugfs_init();
	return 0;

err_topology:
	p2pmem_topology_exit();
err_class:
	class_unregister(&p2pmem_class);
	return ret;
}
subsys_initcall(p2pmem_init);
