// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of p2pmem's DMA shim and DMA API guard (dma.c): the shim is
 * stacked on every device below a host bridge with a provider, maps p2pmem
 * pages by the verdict and everything else through the operations it
 * stacks on, and goes away with the last provider; the guard refuses
 * p2pmem pages for devices that cannot reach them. Run on dma-direct and
 * under QEMU's intel-iommu.
 */
#include <kunit/test.h>
#include <linux/async.h>
#include <linux/dma-mapping.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/kmsg_dump.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/resource_ext.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pmem_kunit.h"

/* ---- DMA shim and guard ------------------------------------------------ */

/*
 * A counting layer stacked between a device's original operations and the
 * shim, so tests see exactly which calls reach the original operations.
 */
/* Made once, kept: [1] passes DMA_F_P2P_ROUTED on, [0] hides it. */
static const struct dma_map_ops *count_ops[2];
static const struct dma_map_ops *count_base;
static struct pci_dev *count_dev;
static atomic_t n_map_sg, n_probe, n_unmap_sg, n_map_page, n_unmap_page;
static atomic_t n_sync_sg, n_sync_single;
static atomic_t n_sync_sg_dev, n_sync_single_dev;

/*
 * A failure the counting layer injects: the errno of map_sg (map_page
 * returns DMA_MAPPING_ERROR), or 0 for none, after count_fail_after calls
 * of either that succeed.
 */
static int count_fail;
static atomic_t count_fail_after;

/* When set, map_page returns it for any page and base never sees it. */
static dma_addr_t count_force_addr;

/* When set, map_sg refuses every probe, as dma-iommu does for some devices. */
static bool count_refuse_probe;

static bool count_fails_now(void)
{
	return count_fail && atomic_dec_return(&count_fail_after) < 0;
}

static int count_map_sg(struct device *dev, struct scatterlist *sg, int n,
			enum dma_data_direction dir, unsigned long attrs)
{
	atomic_inc(&n_map_sg);
	if (attrs & DMA_ATTR_P2P_PROBE) {
		atomic_inc(&n_probe);
		if (count_refuse_probe)
			return -EREMOTEIO;
	}
	if (count_fails_now())
		return count_fail;
	return count_base->map_sg(dev, sg, n, dir, attrs);
}

static void count_unmap_sg(struct device *dev, struct scatterlist *sg, int n,
			   enum dma_data_direction dir, unsigned long attrs)
{
	atomic_inc(&n_unmap_sg);
	count_base->unmap_sg(dev, sg, n, dir, attrs);
}

static dma_addr_t count_map_page(struct device *dev, struct page *page,
				 unsigned long off, size_t size,
				 enum dma_data_direction dir,
				 unsigned long attrs)
{
	atomic_inc(&n_map_page);
	if (count_fails_now())
		return DMA_MAPPING_ERROR;
	if (count_force_addr)
		return count_force_addr;
	return count_base->map_page(dev, page, off, size, dir, attrs);
}

static void count_unmap_page(struct device *dev, dma_addr_t addr,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs)
{
	atomic_inc(&n_unmap_page);
	if (!count_force_addr)
		count_base->unmap_page(dev, addr, size, dir, attrs);
}

static void count_sync_sg(struct device *dev, struct scatterlist *sg, int n,
			  enum dma_data_direction dir)
{
	atomic_inc(&n_sync_sg);
	if (count_base->sync_sg_for_cpu)
		count_base->sync_sg_for_cpu(dev, sg, n, dir);
}

static void count_sync_single(struct device *dev, dma_addr_t addr,
			      size_t size, enum dma_data_direction dir)
{
	atomic_inc(&n_sync_single);
	if (!count_force_addr && count_base->sync_single_for_cpu)
		count_base->sync_single_for_cpu(dev, addr, size, dir);
}

static void count_sync_sg_dev(struct device *dev, struct scatterlist *sg,
			      int n, enum dma_data_direction dir)
{
	atomic_inc(&n_sync_sg_dev);
	if (count_base->sync_sg_for_device)
		count_base->sync_sg_for_device(dev, sg, n, dir);
}

static void count_sync_single_dev(struct device *dev, dma_addr_t addr,
				  size_t size, enum dma_data_direction dir)
{
	atomic_inc(&n_sync_single_dev);
	if (count_base->sync_single_for_device)
		count_base->sync_single_for_device(dev, addr, size, dir);
}

static void count_reset(void)
{
	count_fail = 0;
	count_force_addr = 0;
	count_refuse_probe = false;
	atomic_set(&n_map_sg, 0);
	atomic_set(&n_probe, 0);
	atomic_set(&n_unmap_sg, 0);
	atomic_set(&n_map_page, 0);
	atomic_set(&n_unmap_page, 0);
	atomic_set(&n_sync_sg, 0);
	atomic_set(&n_sync_single, 0);
	atomic_set(&n_sync_sg_dev, 0);
	atomic_set(&n_sync_single_dev, 0);
}

/*
 * Stack the counting layer under the shim of @pdev. With @routed the layer
 * has the original operations' flags, so the shim hands it routed lists;
 * without, it hides %DMA_F_P2P_ROUTED and the shim takes its fallback for
 * operations that do not know the marks.
 */
static void count_stack_ops(struct kunit *test, struct pci_dev *pdev,
			    bool routed)
{
	const struct dma_map_ops *base;
	struct p2pmem_shim *shim;

	KUNIT_ASSERT_NOT_NULL(test, p2pmem_dma_shim_of(&pdev->dev));
	base = p2pmem_dma_orig_ops(&pdev->dev);
	if (base == count_ops[0] || base == count_ops[1])
		base = count_base;
	if (!count_ops[routed]) {
		const struct dma_map_ops ops = {
			.flags = routed ? base->flags :
				 base->flags & ~DMA_F_P2P_ROUTED,
			.alloc = base->alloc,
			.free = base->free,
			.map_resource = base->map_resource,
			.unmap_resource = base->unmap_resource,
			.sync_single_for_device = count_sync_single_dev,
			.sync_sg_for_device = count_sync_sg_dev,
			.dma_supported = base->dma_supported,
			.get_required_mask = base->get_required_mask,
			.max_mapping_size = base->max_mapping_size,
			.map_sg = count_map_sg,
			.unmap_sg = count_unmap_sg,
			.map_page = count_map_page,
			.unmap_page = count_unmap_page,
			.sync_sg_for_cpu = count_sync_sg,
			.sync_single_for_cpu = count_sync_single,
		};

		count_base = base;
		count_ops[routed] = kmemdup(&ops, sizeof(ops), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, count_ops[routed]);
	}
	/* One VM has one DMA backend: every stacked device shares it. */
	KUNIT_ASSERT_PTR_EQ(test, base, count_base);

	mutex_lock(&p2pmem_lock);
	p2pmem_dma_restore(pdev);
	set_dma_ops(&pdev->dev, count_ops[routed]);
	p2pmem_dma_inject(pdev);
	shim = p2pmem_dma_shim_of(&pdev->dev);
	/*
	 * Behave as the shim over the real operations would. The counts the
	 * cases expect are those of lists the shim routes first, as after a
	 * list with p2pmem; test_dma_probe() counts the probe.
	 */
	if (shim) {
		shim->runs = count_base == &dma_direct_ops;
		shim->probe = false;
	}
	count_dev = pdev;
	mutex_unlock(&p2pmem_lock);
	KUNIT_ASSERT_NOT_NULL(test, shim);
	KUNIT_ASSERT_PTR_EQ(test, p2pmem_dma_orig_ops(&pdev->dev),
			    count_ops[routed]);
	KUNIT_ASSERT_EQ(test, shim->routed, routed);
	count_reset();
}

/* The counting layer as the real operations are: they take routed lists. */
static void count_stack(struct kunit *test, struct pci_dev *pdev)
{
	count_stack_ops(test, pdev, true);
}

static void count_unstack(void)
{
	struct pci_dev *pdev = count_dev;

	if (!pdev)
		return;
	mutex_lock(&p2pmem_lock);
	p2pmem_dma_restore(pdev);
	set_dma_ops(&pdev->dev,
		    count_base == &dma_direct_ops ? NULL : count_base);
	p2pmem_dma_inject(pdev);
	mutex_unlock(&p2pmem_lock);
	count_dev = NULL;
}

static bool on_iommu(struct pci_dev *pdev)
{
	const struct dma_map_ops *ops = p2pmem_dma_orig_ops(&pdev->dev);

	if (ops == count_ops[0] || ops == count_ops[1])
		ops = count_base;
	return ops != &dma_direct_ops;
}

/* The CPU physical address a DMA address of @pdev reaches, or 0. */
static phys_addr_t dma_target(struct pci_dev *pdev, dma_addr_t addr)
{
	struct iommu_domain *dom;

	if (!on_iommu(pdev))
		return addr;
	dom = iommu_get_domain_for_dev(&pdev->dev);
	return dom ? iommu_iova_to_phys(dom, addr) : 0;
}

/*
 * What the DMA path logs, read back from the kernel's log buffer, where
 * every record lands whatever the console loglevel: log_mark() gives the
 * sequence number of the next record, log_count_since() how many records
 * from there hold @text.
 */
#define LOG_TEXT_LEN	96
#define LOG_LINE_LEN	512

static u64 log_mark(void)
{
	struct kmsg_dump_iter iter;

	kmsg_dump_rewind(&iter);
	return iter.next_seq;
}

static int log_count_since(struct kunit *test, u64 seq, const char *text)
{
	struct kmsg_dump_iter iter;
	size_t len;
	char *line;
	int n = 0;

	line = kunit_kmalloc(test, LOG_LINE_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, line);
	kmsg_dump_rewind(&iter);
	iter.cur_seq = seq;
	while (kmsg_dump_get_line(&iter, false, line, LOG_LINE_LEN - 1, &len)) {
		line[len] = '\0';
		if (strstr(line, text))
			n++;
	}
	return n;
}

#define DMA_MAX_ENTS	8

struct dma_fixture {
	struct scatterlist sg[DMA_MAX_ENTS];
	struct page *host[DMA_MAX_ENTS];
	void *p2p;		/* DMA_MAX_ENTS pages of the CMB */
	int nents;
	bool is_p2p[DMA_MAX_ENTS];
};

static struct dma_fixture *fix;

static int dma_init(struct kunit *test)
{
	int i;

	p2pmem_kunit_find_topology();
	/*
	 * The shim's handling of each route is tested here, whatever the
	 * machine: the bus address route too, under a hypervisor's IOMMU.
	 */
	WRITE_ONCE(p2pmem_assume_bare_metal, true);
	p2pmem_override_set("");
	fix = kunit_kzalloc(test, sizeof(*fix), GFP_KERNEL);
	if (!fix)
		return -ENOMEM;
	for (i = 0; i < DMA_MAX_ENTS; i++) {
		fix->host[i] = alloc_page(GFP_KERNEL);
		if (!fix->host[i])
			return -ENOMEM;
	}
	if (p2pmem_kunit_topo.cmb)
		fix->p2p = p2pmem_alloc(p2pmem_kunit_topo.cmb, DMA_MAX_ENTS * PAGE_SIZE);
	return 0;
}

static void dma_exit(struct kunit *test)
{
	int i;

	count_unstack();
	WRITE_ONCE(p2pmem_assume_bare_metal, false);
	p2pmem_override_set("");
	/* Providers a failed case may have left registered. */
	if (p2pmem_kunit_topo.shm_sw)
		p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	if (p2pmem_kunit_topo.shm_pxb)
		p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_pxb);
	if (fix->p2p)
		p2pmem_free(p2pmem_kunit_topo.cmb, fix->p2p, DMA_MAX_ENTS * PAGE_SIZE);
	for (i = 0; i < DMA_MAX_ENTS; i++)
		if (fix->host[i])
			__free_page(fix->host[i]);
}

/*
 * Fill the fixture's sgl from @pattern: 'H' a host page, 'P' a CMB page.
 * Entries start 256 bytes into their page to check offsets are kept.
 */
static void dma_sgl(struct kunit *test, const char *pattern)
{
	int i, n = strlen(pattern);

	KUNIT_ASSERT_NOT_NULL(test, fix->p2p);
	KUNIT_ASSERT_LE(test, n, DMA_MAX_ENTS);
	sg_init_table(fix->sg, n);
	for (i = 0; i < n; i++) {
		struct page *pg = pattern[i] == 'P' ?
			virt_to_page(fix->p2p + i * PAGE_SIZE) : fix->host[i];

		fix->is_p2p[i] = pattern[i] == 'P';
		sg_set_page(&fix->sg[i], pg, PAGE_SIZE - 256, 256);
	}
	fix->nents = n;
}

static pci_bus_addr_t cmb_bus(struct kunit *test, int i)
{
	void *va = fix->p2p + i * PAGE_SIZE;
	pci_bus_addr_t bus;

	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(p2pmem_kunit_topo.cmb, va, &bus), 0);
	return bus;
}

/* Check a mapping made one segment per entry, in data order. */
static void dma_check_segments(struct kunit *test, struct pci_dev *client)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(fix->sg, sg, fix->nents, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), PAGE_SIZE - 256);
		if (fix->is_p2p[i]) {
			KUNIT_EXPECT_TRUE(test, sg_is_dma_bus_address(sg));
			KUNIT_EXPECT_EQ_MSG(test, sg_dma_address(sg),
					    cmb_bus(test, i) + 256,
					    "entry %d", i);
		} else {
			phys_addr_t to = dma_target(client,
						    sg_dma_address(sg));

			KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(sg));
			KUNIT_EXPECT_EQ_MSG(test, to,
					    page_to_phys(fix->host[i]) + 256,
					    "entry %d", i);
		}
	}
}

static int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* Runs of 'H' in @pattern. */
static int host_runs(const char *s)
{
	int n = 0;
	char prev = 'P';

	for (; *s; prev = *s++)
		n += *s == 'H' && prev != 'H';
	return n;
}

/*
 * What the run expects of the clients' DMA, from the kernel command line
 * (p2pmem_dma_test.expect_iommu=): 1 translated by an IOMMU, 0 not
 * translated, -1 (not given) either, as long as the device's IOMMU group
 * and its DMA addresses tell the same story.
 */
static int expect_iommu = -1;
module_param(expect_iommu, int, 0444);
MODULE_PARM_DESC(expect_iommu,
		 "1: the clients' DMA must go through an IOMMU, 0: must not, -1: either (default)");

/*
 * State whether an IOMMU translates the DMA of each NVMe client the suite
 * maps for, by its IOMMU group and by the DMA address of a host page, and
 * fail when that is not what the run expects.
 */
static void test_dma_iommu_state(struct kunit *test)
{
	struct pci_dev *clients[2];
	struct page *page;
	int i, n = 0;

	p2pmem_kunit_find_topology();
	if (expect_iommu < -1 || expect_iommu > 1)
		KUNIT_FAIL(test, "expect_iommu=%d: give 1, 0 or -1", expect_iommu);
	clients[0] = p2pmem_kunit_topo.plain;
	clients[1] = p2pmem_kunit_topo.rp_nvme;
	page = fix->host[0];
	for (i = 0; i < ARRAY_SIZE(clients); i++) {
		struct pci_dev *pdev = clients[i];
		struct iommu_group *group;
		phys_addr_t phys = page_to_phys(page);
		bool has_group, translated;
		dma_addr_t addr;
		int id = -1;

		if (!pdev)
			continue;
		n++;
		group = iommu_group_get(&pdev->dev);
		has_group = group;
		if (group) {
			id = iommu_group_id(group);
			iommu_group_put(group);
		}

		addr = dma_map_page(&pdev->dev, page, 0, PAGE_SIZE,
				    DMA_TO_DEVICE);
		if (dma_mapping_error(&pdev->dev, addr)) {
			KUNIT_FAIL(test, "%s: cannot map a host page",
				   pci_name(pdev));
			continue;
		}
		dma_unmap_page(&pdev->dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
		translated = addr != (dma_addr_t)phys;

		if (has_group)
			kunit_info(test, "iommu: on, %s group %d, dma %pad phys %pa, ops %s\n",
				   pci_name(pdev), id, &addr, &phys,
				   on_iommu(pdev) ? "iommu" : "dma-direct");
		else
			kunit_info(test, "iommu: off, %s no group, dma %pad phys %pa, ops %s\n",
				   pci_name(pdev), &addr, &phys,
				   on_iommu(pdev) ? "iommu" : "dma-direct");

		if (expect_iommu == 1) {
			KUNIT_EXPECT_TRUE_MSG(test, has_group,
					      "%s has no IOMMU group, the run expects one",
					      pci_name(pdev));
			KUNIT_EXPECT_TRUE_MSG(test, translated,
					      "%s: DMA address is the physical address, the run expects it translated",
					      pci_name(pdev));
		} else if (expect_iommu == 0) {
			KUNIT_EXPECT_FALSE_MSG(test, has_group,
					       "%s is in IOMMU group %d, the run expects none",
					       pci_name(pdev), id);
			KUNIT_EXPECT_FALSE_MSG(test, translated,
					       "%s: DMA address differs from the physical address, the run expects no translation",
					       pci_name(pdev));
		} else {
			/* A group without translation (identity domain) fails. */
			KUNIT_EXPECT_EQ_MSG(test, has_group, translated,
					    "%s: %s IOMMU group but DMA address %s physical address",
					    pci_name(pdev),
					    has_group ? "in an" : "no",
					    translated ? "differs from" : "equals");
		}
		/* The shim stacks on what translates, or on dma-direct. */
		KUNIT_EXPECT_EQ_MSG(test, on_iommu(pdev), translated,
				    "%s: shim stacked on %s", pci_name(pdev),
				    on_iommu(pdev) ? "IOMMU ops" : "dma-direct");
	}
	if (!n)
		kunit_skip(test, "no NVMe client in this VM");
}

static void test_dma_injected(struct kunit *test)
{
	struct iommu_domain *dom;

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, rp_nvme);
	NEED(test, shm_pxb);
	/* The CMB makes host bridge 0 a provider's: all its devices. */
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.cmb->dev));
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.plain->dev));
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.rp_nvme->dev));
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.upstream->dev));
	/* The second host bridge has no provider. */
	KUNIT_EXPECT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.shm_pxb->dev));
	/* Stacked on what the device had: an IOMMU's or dma-direct's. */
	dom = iommu_get_domain_for_dev(&p2pmem_kunit_topo.plain->dev);
	KUNIT_EXPECT_EQ(test, on_iommu(p2pmem_kunit_topo.plain),
			dom && iommu_is_dma_domain(dom));
	/* Host runs of mixed lists go in one map_sg only on dma-direct. */
	KUNIT_EXPECT_EQ(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.plain->dev)->runs,
			!on_iommu(p2pmem_kunit_topo.plain));
	/* dma-direct and dma-iommu both take routed lists. */
	KUNIT_EXPECT_TRUE(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.plain->dev)->routed);
	KUNIT_EXPECT_TRUE(test, static_key_enabled(&p2pmem_dma_guard_key));
}

/*
 * An sgl of one provider's memory, all on the bus address route: the
 * original operations see neither its mapping nor its unmap (only its
 * syncs, which they take for routed lists and skip the marked entries of),
 * and it holds one reference on the provider, not one per entry.
 */
static void test_dma_bus_route(struct kunit *test)
{
	struct device *dev = &p2pmem_kunit_topo.plain->dev;
	struct p2pmem_provider *prov;
	struct scatterlist *sg;
	long before;
	int i;

	NEED(test, cmb);
	NEED(test, plain);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "PPPP");
	before = atomic_long_read(&prov->stats.mappings);
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, fix->sg[0].dma_flags & P2PMEM_SG_FLAGS,
			P2PMEM_SG_HELD | P2PMEM_SG_ONE_PROV | P2PMEM_SG_ALL_BUS);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings),
			before + 1);
	dma_sync_sg_for_cpu(dev, fix->sg, 4, DMA_TO_DEVICE);
	dma_sync_sg_for_device(dev, fix->sg, 4, DMA_TO_DEVICE);
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 0);
	/* Operations that take routed lists sync them, skipping the marks. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_sg_dev), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single) +
			atomic_read(&n_sync_single_dev), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings), before);
	KUNIT_EXPECT_EQ(test, fix->sg[0].dma_flags & P2PMEM_SG_FLAGS, 0U);
	for_each_sg(fix->sg, sg, 4, i)
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(sg));
}

/*
 * An sgl holding memory of two providers (and host memory) holds one
 * reference per p2pmem entry on each entry's provider, counts each
 * provider's bytes, and gives every reference back at unmap.
 */
static void test_dma_two_providers(struct kunit *test)
{
	struct device *dev = &p2pmem_kunit_topo.plain->dev;
	struct p2pmem_provider *cmb, *shm;
	long cmb_maps, shm_maps, cmb_bus, shm_bus;
	struct scatterlist sg[5];
	void *va;
	int i;

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, shm_sw);
	cmb = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, cmb);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw,
						  SHM_BAR, 0, 0), 0);
	shm = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, shm);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_ASSERT_NOT_NULL(test, fix->p2p);

	/* cmb, shm, host, cmb, shm */
	sg_init_table(sg, 5);
	sg_set_buf(&sg[0], fix->p2p, PAGE_SIZE);
	sg_set_buf(&sg[1], va, PAGE_SIZE);
	sg_set_page(&sg[2], fix->host[0], PAGE_SIZE, 0);
	sg_set_buf(&sg[3], fix->p2p + PAGE_SIZE, PAGE_SIZE);
	sg_set_buf(&sg[4], va + PAGE_SIZE, PAGE_SIZE);
	cmb_maps = atomic_long_read(&cmb->stats.mappings);
	shm_maps = atomic_long_read(&shm->stats.mappings);
	cmb_bus = atomic_long_read(&cmb->stats.mapped_bus);
	shm_bus = atomic_long_read(&shm->stats.mapped_bus);
	KUNIT_ASSERT_GT(test, dma_map_sg(dev, sg, 5, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, sg[0].dma_flags & P2PMEM_SG_FLAGS,
			P2PMEM_SG_HELD);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cmb->stats.mappings),
			cmb_maps + 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shm->stats.mappings),
			shm_maps + 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cmb->stats.mapped_bus),
			cmb_bus + 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shm->stats.mapped_bus),
			shm_bus + 2 * PAGE_SIZE);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ_MSG(test, sg_is_dma_bus_address(&sg[i]), i != 2,
				    "entry %d", i);
	dma_unmap_sg(dev, sg, 5, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cmb->stats.mappings),
			cmb_maps);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&shm->stats.mappings),
			shm_maps);
	KUNIT_EXPECT_EQ(test, sg[0].dma_flags & P2PMEM_SG_FLAGS, 0U);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(&sg[i]));
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, 2 * PAGE_SIZE);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
}

static void test_dma_host_only(struct kunit *test)
{
	int n;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "HHHHHHHH");
	n = dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 8, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, n, 0);
	/* One call of the original map_sg, with the sgl unchanged. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, dma_target(p2pmem_kunit_topo.plain, sg_dma_address(fix->sg)),
			page_to_phys(fix->host[0]) + 256);
	dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 8, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);
}

/*
 * Lists of host memory go to the original operations untouched, which
 * look for P2PDMA pages as they map (DMA_ATTR_P2P_PROBE): one call, no pass
 * of the shim's own. A list with p2pmem comes back unmapped and is routed
 * (one more call); the next list is routed first, and a list without
 * p2pmem goes back to probing. With p2pmem.count_host the shim counts
 * host bytes, so it looks at every list itself. Operations that refuse
 * to probe a device's lists are not asked again.
 */
static void test_dma_probe(struct kunit *test)
{
	struct device *dev = &p2pmem_kunit_topo.plain->dev;
	struct p2pmem_client_stats *cs;
	struct p2pmem_shim *shim;
	bool iommu, counting;
	s64 host;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack(test, p2pmem_kunit_topo.plain);
	iommu = on_iommu(p2pmem_kunit_topo.plain);
	shim = p2pmem_dma_shim_of(dev);
	KUNIT_ASSERT_NOT_NULL(test, shim);
	cs = xa_load(&p2pmem_clients, p2pmem_dev_key(p2pmem_kunit_topo.plain));
	KUNIT_ASSERT_NOT_NULL(test, cs);
	counting = static_key_enabled(&p2pmem_count_host);
	if (counting)
		static_branch_disable(&p2pmem_count_host);
	/* The DMA API skips the guard for the shim, and only for it. */
	KUNIT_EXPECT_TRUE(test, get_dma_ops(dev)->flags & DMA_F_P2PMEM_SHIM);
	KUNIT_EXPECT_FALSE(test, shim->orig->flags & DMA_F_P2PMEM_SHIM);
	shim->probe = true;
	host = atomic64_read(&cs->host);

	/* Host memory only: the probe maps it. */
	dma_sgl(test, "HHHH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 1);
	KUNIT_EXPECT_EQ(test, fix->sg[0].dma_flags & P2PMEM_SG_FLAGS, 0U);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(shim->probe));
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cs->host), host);

	/* p2pmem after a host entry: probed, undone, routed. */
	count_reset();
	dma_sgl(test, "HPHP");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 1);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(shim->probe));
	kunit_info(test, "HPHP on %s after a host list: %d map_sg calls\n",
		   iommu ? "intel-iommu" : "dma-direct",
		   atomic_read(&n_map_sg));
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);

	/* The next list with p2pmem is routed at once. */
	count_reset();
	dma_sgl(test, "PHPH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 0);
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);

	/* A host list after it: routed first, and probing starts again. */
	count_reset();
	dma_sgl(test, "HHHH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 0);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(shim->probe));
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cs->host), host);

	/* Counting host bytes: no probe, and every byte counted. */
	count_reset();
	static_branch_enable(&p2pmem_count_host);
	dma_sgl(test, "HHHH");
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 0);
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cs->host),
			host + 4 * (PAGE_SIZE - 256));
	static_branch_disable(&p2pmem_count_host);

	/*
	 * Operations that refuse a probe of a list without P2PDMA pages
	 * (dma-iommu's bounce buffers, a non-coherent device) are asked once:
	 * the list is routed, and the device's lists from then on too.
	 */
	count_reset();
	count_refuse_probe = true;
	shim->probe = true;
	dma_sgl(test, "HHHH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 1);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(shim->probe_never));
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	count_reset();
	count_refuse_probe = true;
	dma_sgl(test, "HHHH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_probe), 0);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(shim->probe));
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	if (counting)
		static_branch_enable(&p2pmem_count_host);
}

/*
 * DMA_ATTR_P2P_PROBE in the original operations themselves (dma-direct or
 * dma-iommu, whichever the VM has): a list with a P2PDMA page comes back
 * -EREMOTEIO with the entries before it put back as they were, no marks,
 * and the entries after it not touched, even when their DMA fields hold
 * what an earlier mapping left there.
 */
static void test_dma_probe_undo(struct kunit *test)
{
	struct device *dev = &p2pmem_kunit_topo.plain->dev;
	const struct dma_map_ops *ops;
	struct scatterlist *sg;
	int i;

	NEED(test, cmb);
	NEED(test, plain);
	ops = p2pmem_dma_orig_ops(dev);
	if (ops == count_ops[0] || ops == count_ops[1])
		ops = count_base;
	KUNIT_ASSERT_TRUE(test, ops->flags & DMA_F_P2P_ROUTED);
	dma_sgl(test, "HHPH");
	sg_dma_address(&fix->sg[3]) = 0x1000;
	sg_dma_len(&fix->sg[3]) = 77;
	KUNIT_EXPECT_EQ(test, ops->map_sg(dev, fix->sg, 4, DMA_TO_DEVICE,
					  DMA_ATTR_P2P_PROBE), -EREMOTEIO);
	for_each_sg(fix->sg, sg, 4, i) {
		KUNIT_EXPECT_EQ_MSG(test, sg->offset, 256U, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, sg->length, PAGE_SIZE - 256,
				    "entry %d", i);
		KUNIT_EXPECT_FALSE_MSG(test, sg_is_dma_bus_address(sg),
				       "entry %d", i);
	}
	KUNIT_EXPECT_EQ(test, sg_dma_address(&fix->sg[3]), 0x1000);
	KUNIT_EXPECT_EQ(test, sg_dma_len(&fix->sg[3]), 77U);

	/* The same list, routed by the shim, maps. */
	dma_sgl(test, "HHPH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE), 4);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
}

/*
 * A chained sgl (the first table's last entry points to a second table):
 * the shim's first pass steps over the chain entry, and a p2pmem entry on
 * either side of it is routed like any other.
 */
static void test_dma_chained(struct kunit *test)
{
	static const bool p2p[4] = { false, true, true, false };
	struct device *dev = &p2pmem_kunit_topo.plain->dev;
	struct scatterlist a[3], b[2], *sg;
	int i;

	NEED(test, cmb);
	NEED(test, plain);
	KUNIT_ASSERT_NOT_NULL(test, fix->p2p);
	sg_init_table(a, 3);
	sg_init_table(b, 2);
	sg_chain(a, 3, b);
	for_each_sg(a, sg, 4, i)
		sg_set_page(sg, p2p[i] ? virt_to_page(fix->p2p + i * PAGE_SIZE) :
			    fix->host[i], PAGE_SIZE - 256, 256);
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, a, 4, DMA_TO_DEVICE), 4);
	for_each_sg(a, sg, 4, i) {
		KUNIT_EXPECT_EQ_MSG(test, sg_is_dma_bus_address(sg), p2p[i],
				    "entry %d", i);
		if (p2p[i])
			KUNIT_EXPECT_EQ_MSG(test, sg_dma_address(sg),
					    cmb_bus(test, i) + 256, "entry %d", i);
		else
			KUNIT_EXPECT_EQ_MSG(test,
					    dma_target(p2pmem_kunit_topo.plain,
						       sg_dma_address(sg)),
					    page_to_phys(fix->host[i]) + 256,
					    "entry %d", i);
	}
	dma_unmap_sg(dev, a, 4, DMA_TO_DEVICE);
	for_each_sg(a, sg, 4, i)
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(sg));
}

/*
 * Map, sync and unmap a mixed sgl. With @routed (the real operations) the
 * original operations get the whole list once for each; without, the
 * shim's fallback calls them per run of host entries (dma-direct) or per
 * entry (an IOMMU).
 */
static void dma_mixed(struct kunit *test, const char *pattern, bool routed)
{
	int nh = count_char(pattern, 'H'), runs = host_runs(pattern);
	int n = strlen(pattern), i, sg_calls, page_calls;
	dma_addr_t old[DMA_MAX_ENTS], next = 0;
	bool iommu;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack_ops(test, p2pmem_kunit_topo.plain, routed);
	iommu = on_iommu(p2pmem_kunit_topo.plain);
	sg_calls = routed ? 1 : iommu ? 0 : runs;
	page_calls = routed || !iommu ? 0 : nh;
	dma_sgl(test, pattern);
	KUNIT_ASSERT_EQ(test, dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, n,
					 DMA_BIDIRECTIONAL), n);
	dma_check_segments(test, p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), sg_calls);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), page_calls);
	kunit_info(test, "%s on %s%s: %d calls of the original ops to map\n",
		   pattern, iommu ? "intel-iommu" : "dma-direct",
		   routed ? "" : " (fallback)",
		   atomic_read(&n_map_sg) + atomic_read(&n_map_page));
	/* Routed under an IOMMU: the host entries share one IOVA range. */
	for (i = 0; routed && iommu && i < n; i++) {
		if (fix->is_p2p[i])
			continue;
		if (next)
			KUNIT_EXPECT_EQ_MSG(test, sg_dma_address(&fix->sg[i]),
					    next, "entry %d", i);
		next = sg_dma_address(&fix->sg[i]) + PAGE_SIZE;
	}

	dma_sync_sg_for_cpu(&p2pmem_kunit_topo.plain->dev, fix->sg, n, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_sg), sg_calls);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), page_calls);
	dma_sync_sg_for_device(&p2pmem_kunit_topo.plain->dev, fix->sg, n,
			       DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_sg_dev), sg_calls);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single_dev), page_calls);

	for (i = 0; i < n; i++)
		old[i] = sg_dma_address(&fix->sg[i]);
	dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, n, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), sg_calls);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), page_calls);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(&fix->sg[i]));
		/* Nothing of it is left in the IOMMU. */
		if (iommu && !fix->is_p2p[i])
			KUNIT_EXPECT_EQ_MSG(test, dma_target(p2pmem_kunit_topo.plain, old[i]),
					    (phys_addr_t)0, "entry %d", i);
	}
}

static void test_dma_mixed_alternating(struct kunit *test)
{
	dma_mixed(test, "HPHPHPHP", true);
}

static void test_dma_mixed_runs(struct kunit *test)
{
	dma_mixed(test, "HHPPHHHP", true);
}

static void test_dma_fallback_alternating(struct kunit *test)
{
	dma_mixed(test, "HPHPHPHP", false);
}

static void test_dma_fallback_runs(struct kunit *test)
{
	dma_mixed(test, "HHPPHHHP", false);
}

/*
 * The original operations fail (IOVA space exhausted): the shim returns
 * their errno, not -EIO, and leaves nothing marked or mapped. In the
 * fallback, what was mapped before the failure is unmapped again.
 */
static void dma_orig_fails(struct kunit *test, bool routed)
{
	struct device *dev;
	struct sg_table sgt;
	int i, maps;

	NEED(test, cmb);
	NEED(test, plain);
	dev = &p2pmem_kunit_topo.plain->dev;
	count_stack_ops(test, p2pmem_kunit_topo.plain, routed);
	dma_sgl(test, "HPHH");
	sgt.sgl = fix->sg;
	sgt.orig_nents = 4;
	/* Routed: the one call fails; else the second call fails. */
	count_fail = -ENOMEM;
	atomic_set(&count_fail_after, routed ? 0 : 1);
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0),
			-ENOMEM);
	count_fail = 0;
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE_MSG(test, sg_is_dma_bus_address(&fix->sg[i]),
				       "entry %d", i);
	maps = atomic_read(&n_map_sg) + atomic_read(&n_map_page);
	KUNIT_EXPECT_GE(test, maps, 1);
	if (routed) {
		KUNIT_EXPECT_EQ(test, maps, 1);
		KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg) +
				atomic_read(&n_unmap_page), 0);
	} else if (atomic_read(&n_map_page)) {
		/* Per entry: the one that worked is unmapped again. */
		KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 2);
		KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 1);
	} else {
		/* Per run: the first run is unmapped again. */
		KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 2);
		KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);
	}
	/* Nothing was left behind: the list maps as usual afterwards. */
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0), 0);
	dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
}

static void test_dma_orig_fails(struct kunit *test)
{
	dma_orig_fails(test, true);
}

static void test_dma_fallback_orig_fails(struct kunit *test)
{
	dma_orig_fails(test, false);
}

/*
 * A bus address beyond what the device can address is refused, never
 * truncated: with a 24-bit DMA mask no BAR of the CMB is in reach.
 */
static void test_dma_beyond_mask(struct kunit *test)
{
	struct device *dev;
	struct p2pmem_provider *prov;
	u64 mask;
	long refused;

	NEED(test, cmb);
	NEED(test, plain);
	dev = &p2pmem_kunit_topo.plain->dev;
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_ASSERT_GT(test, cmb_bus(test, 0), (pci_bus_addr_t)DMA_BIT_MASK(24));
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "HPH");
	refused = atomic_long_read(&prov->stats.refused);
	mask = *dev->dma_mask;
	*dev->dma_mask = DMA_BIT_MASK(24);
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, fix->sg, 3, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_map_page(dev, virt_to_page(fix->p2p), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	*dev->dma_mask = mask;
	/* Refused before the original operations saw anything. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg) +
			atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 2);
	KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(&fix->sg[1]));
	/* With its own mask back, the same list maps. */
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, fix->sg, 3, DMA_TO_DEVICE), 3);
	dma_unmap_sg(dev, fix->sg, 3, DMA_TO_DEVICE);
}

static void test_dma_thru_host_bridge(struct kunit *test)
{
	struct scatterlist *sg;
	char ov[64];
	int i, n;

	NEED(test, cmb);
	NEED(test, plain);
	snprintf(ov, sizeof(ov), "%s,%s=host", pci_name(p2pmem_kunit_topo.cmb),
		 pci_name(p2pmem_kunit_topo.plain));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "PHPP");
	n = dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, n, 0);
	/* No bus address entry: the original ops map it all, once. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	for_each_sg(fix->sg, sg, n, i)
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(sg));
	/* The BAR is reached at its CPU address, or through the IOMMU. */
	KUNIT_EXPECT_EQ(test, dma_target(p2pmem_kunit_topo.plain, sg_dma_address(fix->sg)),
			virt_to_phys(fix->p2p) + 256);
	if (on_iommu(p2pmem_kunit_topo.plain))
		KUNIT_EXPECT_NE(test, sg_dma_address(fix->sg),
				cmb_bus(test, 0) + 256);
	dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);
}

static void test_dma_not_supported(struct kunit *test)
{
	struct p2pmem_provider *prov;
	struct sg_table sgt;
	long refused;

	NEED(test, cmb);
	NEED(test, rp_nvme);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	count_stack(test, p2pmem_kunit_topo.rp_nvme);
	dma_sgl(test, "HHPH");
	refused = atomic_long_read(&prov->stats.refused);
	sgt.sgl = fix->sg;
	sgt.orig_nents = 4;
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(&p2pmem_kunit_topo.rp_nvme->dev, &sgt,
					      DMA_TO_DEVICE, 0), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, dma_map_sg(&p2pmem_kunit_topo.rp_nvme->dev, fix->sg, 4,
					 DMA_TO_DEVICE), 0);
	/* Refused before anything was mapped. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg) +
			atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, dma_map_page(&p2pmem_kunit_topo.rp_nvme->dev,
					   virt_to_page(fix->p2p), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 3);
}

static void test_dma_map_page(struct kunit *test)
{
	dma_addr_t addr;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "P");
	addr = dma_map_page(&p2pmem_kunit_topo.plain->dev, virt_to_page(fix->p2p), 512,
			    1024, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, addr, cmb_bus(test, 0) + 512);
	dma_sync_single_for_cpu(&p2pmem_kunit_topo.plain->dev, addr, 1024,
				DMA_FROM_DEVICE);
	dma_unmap_page(&p2pmem_kunit_topo.plain->dev, addr, 1024, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), 0);

	addr = dma_map_page(&p2pmem_kunit_topo.plain->dev, fix->host[0], 0, PAGE_SIZE,
			    DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(&p2pmem_kunit_topo.plain->dev, addr));
	KUNIT_EXPECT_EQ(test, dma_target(p2pmem_kunit_topo.plain, addr),
			page_to_phys(fix->host[0]));
	dma_unmap_page(&p2pmem_kunit_topo.plain->dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 1);
}

static void test_dma_map_resource(struct kunit *test)
{
	phys_addr_t phys;
	dma_addr_t addr;

	NEED(test, cmb);
	NEED(test, plain);
	dma_sgl(test, "P");
	phys = virt_to_phys(fix->p2p);
	addr = dma_map_resource(&p2pmem_kunit_topo.plain->dev, phys, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, addr, cmb_bus(test, 0));
	dma_unmap_resource(&p2pmem_kunit_topo.plain->dev, addr, PAGE_SIZE, DMA_TO_DEVICE,
			   0);
}

/* A window offset (faked, QEMU has none) shows in every DMA address. */
static void test_dma_bus_offset(struct kunit *test)
{
	const resource_size_t fake = 0x10000000;
	struct resource_entry *win, *hit = NULL;
	struct pci_host_bridge *hb;
	struct scatterlist sg[2];
	void *va;
	int ret;

	NEED(test, shm_sw);
	NEED(test, plain);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	hb = pci_find_host_bridge(p2pmem_kunit_topo.shm_sw->bus);
	resource_list_for_each_entry(win, &hb->windows)
		if (resource_contains(win->res, &p2pmem_kunit_topo.shm_sw->resource[SHM_BAR]))
			hit = win;
	KUNIT_ASSERT_NOT_NULL(test, hit);
	hit->offset = fake;
	ret = p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0);
	hit->offset = 0;
	KUNIT_ASSERT_EQ(test, ret, 0);

	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], va, 128);
	sg_set_page(&sg[1], fix->host[0], 64, 0);
	KUNIT_ASSERT_EQ(test, dma_map_sg(&p2pmem_kunit_topo.plain->dev, sg, 2,
					 DMA_TO_DEVICE), 2);
	KUNIT_EXPECT_EQ(test, sg_dma_address(&sg[0]),
			(dma_addr_t)(virt_to_phys(va) - fake));
	dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_map_page(&p2pmem_kunit_topo.plain->dev,
					   virt_to_page(va + PAGE_SIZE), 8, 8,
					   DMA_TO_DEVICE),
			(dma_addr_t)(virt_to_phys(va + PAGE_SIZE) + 8 - fake));
	dma_unmap_page(&p2pmem_kunit_topo.plain->dev,
		       virt_to_phys(va + PAGE_SIZE) + 8 - fake, 8,
		       DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_map_resource(&p2pmem_kunit_topo.plain->dev,
					       virt_to_phys(va), PAGE_SIZE,
					       DMA_TO_DEVICE, 0),
			(dma_addr_t)(virt_to_phys(va) - fake));
	dma_unmap_resource(&p2pmem_kunit_topo.plain->dev,
			   virt_to_phys(va) - fake, PAGE_SIZE, DMA_TO_DEVICE, 0);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, 2 * PAGE_SIZE);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
}

static void test_dma_guard_other_host_bridge(struct kunit *test)
{
	struct p2pmem_provider *prov;
	struct sg_table sgt;
	long refused;

	NEED(test, cmb);
	NEED(test, shm_pxb);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_ASSERT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.shm_pxb->dev));
	refused = atomic_long_read(&prov->stats.refused);
	dma_sgl(test, "HP");
	sgt.sgl = fix->sg;
	sgt.orig_nents = 2;
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(&p2pmem_kunit_topo.shm_pxb->dev, &sgt,
					      DMA_TO_DEVICE, 0), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, dma_map_page(&p2pmem_kunit_topo.shm_pxb->dev,
					   virt_to_page(fix->p2p), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 2);
	/* Host memory is not the guard's business. */
	dma_sgl(test, "H");
	sgt.orig_nents = 1;
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(&p2pmem_kunit_topo.shm_pxb->dev, &sgt,
					      DMA_TO_DEVICE, 0), 0);
	dma_unmap_sgtable(&p2pmem_kunit_topo.shm_pxb->dev, &sgt, DMA_TO_DEVICE, 0);
}

static void test_dma_guard_no_shim(struct kunit *test)
{
	struct p2pmem_provider *prov;
	char ov[64];

	NEED(test, cmb);
	NEED(test, plain);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	/* As if something replaced the device's operations. */
	mutex_lock(&p2pmem_lock);
	p2pmem_dma_restore(p2pmem_kunit_topo.plain);
	mutex_unlock(&p2pmem_lock);
	dma_sgl(test, "P");
	KUNIT_EXPECT_EQ(test, dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 1,
					 DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_map_page(&p2pmem_kunit_topo.plain->dev,
					   virt_to_page(fix->p2p), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	/* The host bridge route needs no shim: the device's ops map it. */
	snprintf(ov, sizeof(ov), "%s,%s=host", pci_name(p2pmem_kunit_topo.cmb),
		 pci_name(p2pmem_kunit_topo.plain));
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(ov), 0);
	KUNIT_EXPECT_GT(test, dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 1,
					 DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_target(p2pmem_kunit_topo.plain, sg_dma_address(fix->sg)),
			virt_to_phys(fix->p2p) + 256);
	dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 1, DMA_TO_DEVICE);
	p2pmem_override_set("");
	mutex_lock(&p2pmem_lock);
	p2pmem_dma_inject(p2pmem_kunit_topo.plain);
	mutex_unlock(&p2pmem_lock);
	KUNIT_EXPECT_EQ(test, dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 1,
					 DMA_TO_DEVICE), 1);
	dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 1, DMA_TO_DEVICE);
}

/*
 * The DMA API may be called with interrupts off: the verdict lookup
 * neither sleeps nor turns them back on.
 */
static void test_dma_atomic_context(struct kunit *test)
{
	unsigned long flags;
	int bus_ok, refused;

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, rp_nvme);
	dma_sgl(test, "PH");
	local_irq_save(flags);
	bus_ok = dma_map_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, irqs_disabled());
	if (bus_ok)
		dma_unmap_sg(&p2pmem_kunit_topo.plain->dev, fix->sg, 2, DMA_TO_DEVICE);
	refused = dma_map_sg(&p2pmem_kunit_topo.rp_nvme->dev, fix->sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, irqs_disabled());
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, bus_ok, 2);
	KUNIT_EXPECT_EQ(test, refused, 0);
}

/*
 * Verdicts are computed before any mapping, never in it: a client the
 * provider's table does not know is refused (fails closed) and counted,
 * however good its route would be, until the table is filled again.
 */
static void test_dma_verdict_miss_refused(struct kunit *test)
{
	char no_verdict[LOG_TEXT_LEN], refused_for[LOG_TEXT_LEN];
	struct p2pmem_provider *prov;
	long unknown, refused;
	struct device *dev;
	void *e;
	u64 seq;

	NEED(test, cmb);
	NEED(test, plain);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	dev = &p2pmem_kunit_topo.plain->dev;
	dma_sgl(test, "PH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 2, DMA_TO_DEVICE), 2);
	dma_unmap_sg(dev, fix->sg, 2, DMA_TO_DEVICE);
	snprintf(no_verdict, sizeof(no_verdict), "p2pmem: no verdict for %s",
		 pci_name(p2pmem_kunit_topo.plain));
	snprintf(refused_for, sizeof(refused_for),
		 "p2pmem: refused to map p2pmem for %s", dev_name(dev));

	mutex_lock(&p2pmem_lock);
	e = xa_erase_irq(&prov->verdicts, p2pmem_dev_key(p2pmem_kunit_topo.plain));
	mutex_unlock(&p2pmem_lock);
	KUNIT_ASSERT_NOT_NULL(test, e);
	kvfree_rcu(e);
	/*
	 * Every refusal is counted; the provider's first miss and first
	 * refusal are logged, once each, however many mappings follow:
	 * counted from zero here, as for a provider that never refused,
	 * and what the counters held is added back afterwards.
	 */
	unknown = atomic_long_xchg(&prov->stats.unknown, 0);
	refused = atomic_long_xchg(&prov->stats.refused, 0);
	seq = log_mark();
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, fix->sg, 2, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, fix->sg, 2, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_map_page(dev, sg_page(&fix->sg[0]), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, atomic_long_add_return(unknown,
						     &prov->stats.unknown),
			unknown + 3);
	KUNIT_EXPECT_EQ(test, atomic_long_add_return(refused,
						     &prov->stats.refused),
			refused + 3);
	KUNIT_EXPECT_EQ(test, log_count_since(test, seq, no_verdict), 1);
	KUNIT_EXPECT_EQ(test, log_count_since(test, seq, refused_for), 1);
	/* Nothing was computed or stored by the refused mappings. */
	KUNIT_EXPECT_NULL(test, xa_load(&prov->verdicts,
					p2pmem_dev_key(p2pmem_kunit_topo.plain)));

	mutex_lock(&p2pmem_lock);
	p2pmem_verdicts_refresh(NULL);
	mutex_unlock(&p2pmem_lock);
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, fix->sg, 2, DMA_TO_DEVICE), 2);
	dma_unmap_sg(dev, fix->sg, 2, DMA_TO_DEVICE);
}

/* Unbind, let "the IOMMU" reset the ops, bind again: the shim is back. */
static void test_dma_rebind(struct kunit *test)
{
	struct device *dev;
	const struct dma_map_ops *orig;

	NEED(test, rp_nvme);
	dev = &p2pmem_kunit_topo.rp_nvme->dev;
	KUNIT_ASSERT_NOT_NULL(test, dev->driver);
	orig = p2pmem_dma_orig_ops(dev);
	device_release_driver(dev);
	KUNIT_EXPECT_NULL(test, dev->driver);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	set_dma_ops(dev, orig == &dma_direct_ops ? NULL : orig);
	KUNIT_EXPECT_EQ(test, device_attach(dev), 1);
	/*
	 * nvme-pci brings the controller up asynchronously: let it finish
	 * before the next cases move devices and operations around it.
	 */
	async_synchronize_full();
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	KUNIT_EXPECT_PTR_EQ(test, p2pmem_dma_orig_ops(dev), orig);
}

/* A device that appears below a bridge with providers gets the shim. */
static void test_dma_hot_add(struct kunit *test)
{
	struct pci_bus *bus;
	unsigned int devfn;
	struct pci_dev *pdev;

	NEED(test, mf1);
	NEED(test, cmb);
	bus = p2pmem_kunit_topo.mf1->bus;
	devfn = p2pmem_kunit_topo.mf1->devfn;
	pci_lock_rescan_remove();
	pci_stop_and_remove_bus_device(p2pmem_kunit_topo.mf1);
	p2pmem_kunit_topo.mf1 = NULL;
	pci_rescan_bus(bus);
	pci_unlock_rescan_remove();
	pdev = pci_get_slot(bus, devfn);
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	p2pmem_kunit_topo.mf1 = pdev;
	pci_dev_put(pdev);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&pdev->dev));
}

/* The last provider of a host bridge takes the shim away again. */
static void test_dma_restore_on_removal(struct kunit *test)
{
	const struct dma_map_ops *before;
	struct pci_dev *port;

	NEED(test, shm_pxb);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_pxb);
	before = get_dma_ops(&p2pmem_kunit_topo.shm_pxb->dev);
	KUNIT_ASSERT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.shm_pxb->dev));
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_pxb, SHM_BAR, 0, 0),
			0);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.shm_pxb->dev));
	port = pci_upstream_bridge(p2pmem_kunit_topo.shm_pxb);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&port->dev));
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_pxb);
	KUNIT_EXPECT_NULL(test, p2pmem_dma_shim_of(&p2pmem_kunit_topo.shm_pxb->dev));
	KUNIT_EXPECT_PTR_EQ(test, get_dma_ops(&p2pmem_kunit_topo.shm_pxb->dev), before);
}

/*
 * A host page whose DMA address (forced by the counting layer) equals a
 * bus address of the CMB is still the original operations' to unmap and
 * sync: single mappings are told apart by their record, not their value.
 */
static void test_dma_single_by_record(struct kunit *test)
{
	struct device *dev;
	dma_addr_t addr;

	NEED(test, cmb);
	NEED(test, plain);
	dev = &p2pmem_kunit_topo.plain->dev;
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "P");
	count_force_addr = cmb_bus(test, 1);
	addr = dma_map_page(dev, fix->host[0], 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, addr, count_force_addr);
	dma_sync_single_for_cpu(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 1);
	count_force_addr = 0;

	/* A bus address mapping within the same page frame is the shim's. */
	addr = dma_map_page(dev, virt_to_page(fix->p2p + PAGE_SIZE), 0, 64,
			    DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, addr, cmb_bus(test, 1));
	dma_sync_single_for_cpu(dev, addr + 16, 16, DMA_TO_DEVICE);
	/* The same range again shares the record; a partial overlap is refused. */
	KUNIT_EXPECT_EQ(test, dma_map_page(dev, virt_to_page(fix->p2p + PAGE_SIZE),
					   0, 64, DMA_TO_DEVICE), addr);
	KUNIT_EXPECT_EQ(test, dma_map_page(dev, virt_to_page(fix->p2p + PAGE_SIZE),
					   32, 64, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	dma_unmap_page(dev, addr, 64, DMA_TO_DEVICE);
	dma_sync_single_for_cpu(dev, addr, 64, DMA_TO_DEVICE);
	dma_unmap_page(dev, addr, 64, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 1);
	/* Both unmapped: the record is gone, and a new sync is the original's. */
	dma_sync_single_for_cpu(dev, addr, 64, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), 2);
}

/*
 * Single mappings take records made ahead of time, never allocated by the
 * mapping call. With every record in use and no room allowed for more
 * (p2pmem.single_mappings_max), one more mapping is refused and counted;
 * once more room is allowed, that mapping has the worker make it, and
 * the next one is recorded. Every record is found again at unmap.
 */
static void test_dma_single_records(struct kunit *test)
{
	unsigned int max = p2pmem_singles_max, cap, i;
	struct p2pmem_client_stats *cs;
	struct p2pmem_provider *prov;
	long maps, refused;
	dma_addr_t *addr;
	struct device *dev;
	void *va;

	NEED(test, cmb);
	NEED(test, plain);
	dev = &p2pmem_kunit_topo.plain->dev;
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	cs = xa_load(&p2pmem_clients, p2pmem_dev_key(p2pmem_kunit_topo.plain));
	KUNIT_ASSERT_NOT_NULL(test, cs);
	flush_work(&cs->singles.grow);
	cap = READ_ONCE(cs->singles.cap);
	KUNIT_ASSERT_GT(test, cap, 0U);
	KUNIT_ASSERT_EQ(test, READ_ONCE(cs->singles.n), 0U);
	addr = kunit_kcalloc(test, cap + 1, sizeof(*addr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	va = p2pmem_alloc(p2pmem_kunit_topo.cmb, (cap + 1) * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	maps = atomic_long_read(&prov->stats.mappings);
	refused = atomic_long_read(&prov->stats.refused);

	p2pmem_singles_max = cap;
	/* Highest address first: every record goes in at the front. */
	for (i = cap; i-- > 0; ) {
		addr[i] = dma_map_page(dev, virt_to_page(va + i * PAGE_SIZE), 0,
				       PAGE_SIZE, DMA_TO_DEVICE);
		KUNIT_EXPECT_FALSE_MSG(test, dma_mapping_error(dev, addr[i]),
				       "page %u", i);
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(cs->singles.n), cap);
	addr[cap] = dma_map_page(dev, virt_to_page(va + cap * PAGE_SIZE), 0,
				 PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, addr[cap]));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cs->singles.cap), cap);

	/* Room allowed: still refused now, and the worker makes room. */
	p2pmem_singles_max = max;
	addr[cap] = dma_map_page(dev, virt_to_page(va + cap * PAGE_SIZE), 0,
				 PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, addr[cap]));
	flush_work(&cs->singles.grow);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cs->singles.cap), min(2 * cap, max));
	addr[cap] = dma_map_page(dev, virt_to_page(va + cap * PAGE_SIZE), 0,
				 PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, addr[cap]));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings),
			maps + cap + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 2);

	for (i = 0; i <= cap; i++)
		if (!dma_mapping_error(dev, addr[i]))
			dma_unmap_page(dev, addr[i], PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cs->singles.n), 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings), maps);
	p2pmem_free(p2pmem_kunit_topo.cmb, va, (cap + 1) * PAGE_SIZE);
}

struct dma_removal {
	struct pci_dev *pdev;
	struct completion done;
};

static int dma_remove_fn(void *data)
{
	struct dma_removal *r = data;

	p2pmem_kunit_remove_provider(r->pdev);
	complete(&r->done);
	return 0;
}

/*
 * Every DMA mapping of p2pmem holds a reference on its provider: with the
 * memory freed but still mapped, removal waits for the unmaps.
 */
static void test_dma_mapping_holds_provider(struct kunit *test)
{
	struct dma_removal *r;
	struct p2pmem_provider *prov;
	struct task_struct *t;
	struct scatterlist sg[2];
	struct device *dev;
	dma_addr_t addr;
	void *va;

	NEED(test, shm_sw);
	NEED(test, plain);
	dev = &p2pmem_kunit_topo.plain->dev;
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw,
						  SHM_BAR, 0, 0), 0);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);

	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], va, PAGE_SIZE);
	sg_set_page(&sg[1], fix->host[0], 64, 0);
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, sg, 2, DMA_TO_DEVICE), 2);
	KUNIT_EXPECT_TRUE(test, sg[0].dma_flags & P2PMEM_SG_HELD);
	addr = dma_map_page(dev, virt_to_page(va + PAGE_SIZE), 0, PAGE_SIZE,
			    DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, addr));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings), 2);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, 2 * PAGE_SIZE);

	r->pdev = p2pmem_kunit_topo.shm_sw;
	init_completion(&r->done);
	t = kthread_run(dma_remove_fn, r, "p2pmem-kunit-rm");
	if (IS_ERR(t)) {
		dma_unmap_sg(dev, sg, 2, DMA_TO_DEVICE);
		dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
		KUNIT_FAIL(test, "no removal thread: %ld", PTR_ERR(t));
		return;
	}
	msleep(300);
	KUNIT_EXPECT_FALSE(test, completion_done(&r->done));
	dma_unmap_sg(dev, sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, sg[0].dma_flags & P2PMEM_SG_HELD);
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&r->done));
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&r->done, 10 * HZ),
			0UL);
}

/*
 * Once a provider's removal has begun and no reference is left, nothing
 * may map its memory: whoever still does owns none of it, and the
 * provider may be freed at any moment. Each kind of mapping is refused
 * and takes no reference; the removal is stopped at that point by
 * killing the reference by hand, and undone after.
 */
static void test_dma_dead_provider_refused(struct kunit *test)
{
	struct p2pmem_provider *prov, *cmb;
	struct p2pmem_range *range;
	struct scatterlist sg[3];
	long refused, cmb_maps;
	struct sg_table sgt;
	struct device *dev;
	struct page *page;
	dma_addr_t addr;
	int i;

	NEED(test, shm_sw);
	NEED(test, plain);
	NEED(test, cmb);
	KUNIT_ASSERT_NOT_NULL(test, fix->p2p);
	cmb = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, cmb);
	dev = &p2pmem_kunit_topo.plain->dev;
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw,
						  SHM_BAR, 0, 0), 0);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	range = list_first_entry(&prov->ranges, struct p2pmem_range, node);
	page = pfn_to_page(PHYS_PFN(range->phys));
	/* Either route would map it, were the provider alive. */
	KUNIT_ASSERT_NE(test, p2pmem_route(prov, p2pmem_kunit_topo.plain),
			P2PMEM_MAP_NOT_SUPPORTED);

	refused = atomic_long_read(&prov->stats.refused);
	percpu_ref_kill(&prov->ref);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&prov->ref_done, HZ),
			0UL);

	addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, addr));
	if (!dma_mapping_error(dev, addr))
		dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);

	addr = dma_map_resource(dev, range->phys, PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, addr));
	if (!dma_mapping_error(dev, addr))
		dma_unmap_resource(dev, addr, PAGE_SIZE, DMA_TO_DEVICE, 0);

	/*
	 * Host, a live provider's page, the dead one's: the reference on the
	 * live provider, taken first, is dropped again.
	 */
	sg_init_table(sg, 3);
	sg_set_page(&sg[0], fix->host[0], PAGE_SIZE, 0);
	sg_set_buf(&sg[1], fix->p2p, PAGE_SIZE);
	sg_set_page(&sg[2], page, PAGE_SIZE, 0);
	sgt.sgl = sg;
	sgt.orig_nents = 3;
	sgt.nents = 0;
	cmb_maps = atomic_long_read(&cmb->stats.mappings);
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0),
			-EREMOTEIO);
	KUNIT_EXPECT_EQ(test, sgt.nents, 0U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_FALSE_MSG(test, sg_is_dma_bus_address(&sg[i]),
				       "entry %d", i);
	KUNIT_EXPECT_EQ(test, sg[0].dma_flags & P2PMEM_SG_FLAGS, 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cmb->stats.mappings),
			cmb_maps);
	if (sgt.nents)
		dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);

	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 3);
	KUNIT_EXPECT_TRUE(test, percpu_ref_is_zero(&prov->ref));
	reinit_completion(&prov->ref_done);
	percpu_ref_reinit(&prov->ref);
}

/*
 * A restore leaves the shim while the device has p2pmem mappings, and
 * gives back exactly the operations the device had.
 */
static void test_dma_restore_exact(struct kunit *test)
{
	const struct dma_map_ops *had;
	struct device *dev;
	int ret;

	NEED(test, cmb);
	NEED(test, plain);
	dev = &p2pmem_kunit_topo.plain->dev;
	count_stack(test, p2pmem_kunit_topo.plain);
	dma_sgl(test, "PH");
	KUNIT_ASSERT_EQ(test, dma_map_sg(dev, fix->sg, 2, DMA_TO_DEVICE), 2);
	mutex_lock(&p2pmem_lock);
	ret = p2pmem_dma_restore(p2pmem_kunit_topo.plain);
	mutex_unlock(&p2pmem_lock);
	KUNIT_EXPECT_EQ(test, ret, -EBUSY);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	dma_unmap_sg(dev, fix->sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);

	mutex_lock(&p2pmem_lock);
	KUNIT_EXPECT_EQ(test, p2pmem_dma_restore(p2pmem_kunit_topo.plain), 0);
	had = dev->dma_ops;
	/* Operations set explicitly, even dma-direct's, come back as set. */
	set_dma_ops(dev, &dma_direct_ops);
	p2pmem_dma_inject(p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	p2pmem_dma_restore(p2pmem_kunit_topo.plain);
	KUNIT_EXPECT_PTR_EQ(test, dev->dma_ops, &dma_direct_ops);
	set_dma_ops(dev, had);
	p2pmem_dma_inject(p2pmem_kunit_topo.plain);
	mutex_unlock(&p2pmem_lock);
	KUNIT_EXPECT_PTR_EQ(test, had, count_ops[1]);
}

/*
 * What the DMA API promises a device does not change with the shim:
 * dma_need_sync() answers as without it (false on a coherent dma-direct
 * device, so page_pool and the like keep skipping their syncs), the merge
 * boundary is the same, and an sgl of host pages merges into as many
 * segments as the original operations make of it.
 */
static void test_dma_no_new_costs(struct kunit *test)
{
	unsigned long boundary[2];
	struct pci_dev *pdev;
	struct device *dev;
	int merged[2], pass, i, ret;
	dma_addr_t addr;
	bool sync[2];

	NEED(test, plain);
	pdev = p2pmem_kunit_topo.plain;
	dev = &pdev->dev;
	KUNIT_ASSERT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	BUILD_BUG_ON(DMA_MAX_ENTS < 4);
	/* Pass 0 with the shim, pass 1 with the device's own operations. */
	for (pass = 0; pass < 2; pass++) {
		if (pass) {
			mutex_lock(&p2pmem_lock);
			ret = p2pmem_dma_restore(pdev);
			mutex_unlock(&p2pmem_lock);
			KUNIT_ASSERT_EQ(test, ret, 0);
			KUNIT_EXPECT_NULL(test, p2pmem_dma_shim_of(dev));
		}
		addr = dma_map_page(dev, fix->host[0], 0, PAGE_SIZE,
				    DMA_TO_DEVICE);
		KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, addr));
		sync[pass] = dma_need_sync(dev, addr);
		dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
		boundary[pass] = dma_get_merge_boundary(dev);
		sg_init_table(fix->sg, 4);
		for (i = 0; i < 4; i++)
			sg_set_page(&fix->sg[i], fix->host[i], PAGE_SIZE, 0);
		merged[pass] = dma_map_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
		if (merged[pass] > 0)
			dma_unmap_sg(dev, fix->sg, 4, DMA_TO_DEVICE);
	}
	mutex_lock(&p2pmem_lock);
	p2pmem_dma_inject(pdev);
	mutex_unlock(&p2pmem_lock);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));

	KUNIT_EXPECT_EQ(test, sync[0], sync[1]);
	KUNIT_EXPECT_EQ(test, boundary[0], boundary[1]);
	KUNIT_EXPECT_GT(test, merged[1], 0);
	KUNIT_EXPECT_EQ(test, merged[0], merged[1]);
	/* x86 DMA is coherent: dma-direct needs no sync without swiotlb. */
	if (!device_iommu_mapped(dev))
		KUNIT_EXPECT_FALSE(test, sync[1]);
}

/*
 * The architecture's operations of test_dma_restore_arch_ops(): dma-direct's
 * under another address, whose map_sg and unmap_sg count their calls. Made
 * once and kept: devices and calls in flight may still use them after the
 * case.
 */
static const struct dma_map_ops *arch_ops;
static atomic_t n_arch_map_sg, n_arch_unmap_sg;

static int arch_map_sg(struct device *dev, struct scatterlist *sg, int n,
		       enum dma_data_direction dir, unsigned long attrs)
{
	atomic_inc(&n_arch_map_sg);
	return dma_direct_ops.map_sg(dev, sg, n, dir, attrs);
}

static void arch_unmap_sg(struct device *dev, struct scatterlist *sg, int n,
			  enum dma_data_direction dir, unsigned long attrs)
{
	atomic_inc(&n_arch_unmap_sg);
	dma_direct_ops.unmap_sg(dev, sg, n, dir, attrs);
}

/*
 * A restore gives back exactly what the device had, also when that was
 * nothing and the device ran on the architecture's operations
 * (get_arch_dma_ops()): the shim stacks on those and maps through them,
 * and a restore leaves the device's dma_ops NULL again, so that it follows
 * the architecture's choice as before. A device with operations of its
 * own (an IOMMU's) keeps stacking on them. x86's dma_ops is set for the
 * case, under p2pmem_lock, so that no shim is made or restored meanwhile.
 */
static void test_dma_restore_arch_ops(struct kunit *test)
{
	const struct dma_map_ops *prev, *had_arch, *orig[2], *left, *now;
	struct p2pmem_client_stats *cs;
	struct pci_dev *pdev;
	struct device *dev;
	int ret, restored, n;
	bool marked;

	NEED(test, cmb);
	NEED(test, plain);
	pdev = p2pmem_kunit_topo.plain;
	dev = &pdev->dev;
	had_arch = get_arch_dma_ops(dev->bus);
	if (!p2pmem_kunit_set_arch_dma_ops(had_arch))
		kunit_skip(test, "cannot set the architecture's DMA operations");
	if (had_arch)
		kunit_skip(test, "the architecture's DMA operations are in use");
	if (!arch_ops) {
		const struct dma_map_ops *d = &dma_direct_ops;
		const struct dma_map_ops ops = {
			.flags = d->flags,
			.alloc = d->alloc,
			.free = d->free,
			.alloc_pages = d->alloc_pages,
			.free_pages = d->free_pages,
			.mmap = d->mmap,
			.get_sgtable = d->get_sgtable,
			.map_page = d->map_page,
			.unmap_page = d->unmap_page,
			.map_sg = arch_map_sg,
			.unmap_sg = arch_unmap_sg,
			.map_resource = d->map_resource,
			.unmap_resource = d->unmap_resource,
			.sync_single_for_cpu = d->sync_single_for_cpu,
			.sync_single_for_device = d->sync_single_for_device,
			.sync_sg_for_cpu = d->sync_sg_for_cpu,
			.sync_sg_for_device = d->sync_sg_for_device,
			.need_sync = d->need_sync,
			.dma_supported = d->dma_supported,
			.get_required_mask = d->get_required_mask,
			.max_mapping_size = d->max_mapping_size,
		};

		arch_ops = kmemdup(&ops, sizeof(ops), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, arch_ops);
	}
	KUNIT_ASSERT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	dma_sgl(test, "HPH");
	atomic_set(&n_arch_map_sg, 0);
	atomic_set(&n_arch_unmap_sg, 0);

	mutex_lock(&p2pmem_lock);
	cs = xa_load(&p2pmem_clients, p2pmem_dev_key(pdev));
	prev = cs ? cs->prev : ERR_PTR(-ENOENT);
	ret = p2pmem_dma_restore(pdev);
	left = dev->dma_ops;
	p2pmem_kunit_set_arch_dma_ops(arch_ops);
	p2pmem_dma_inject(pdev);
	orig[0] = p2pmem_dma_orig_ops(dev);
	n = dma_map_sg(dev, fix->sg, 3, DMA_TO_DEVICE);
	marked = sg_is_dma_bus_address(&fix->sg[1]);
	if (n > 0)
		dma_unmap_sg(dev, fix->sg, 3, DMA_TO_DEVICE);
	restored = p2pmem_dma_restore(pdev);
	now = dev->dma_ops;
	p2pmem_kunit_set_arch_dma_ops(had_arch);
	p2pmem_dma_inject(pdev);
	orig[1] = p2pmem_dma_orig_ops(dev);
	mutex_unlock(&p2pmem_lock);

	KUNIT_ASSERT_FALSE(test, IS_ERR(prev));
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_PTR_EQ(test, left, prev);
	KUNIT_EXPECT_PTR_EQ(test, orig[0], prev ?: arch_ops);
	KUNIT_EXPECT_EQ(test, n, 3);
	KUNIT_EXPECT_TRUE(test, marked);
	/*
	 * Through the architecture's operations: a new shim probes its first
	 * list, which they refuse (it holds p2pmem), then they map it routed,
	 * and unmap it once.
	 */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_arch_map_sg), prev ? 0 : 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_arch_unmap_sg), prev ? 0 : 1);
	KUNIT_EXPECT_EQ(test, restored, 0);
	/* Restored: the device has its own again, NULL included. */
	KUNIT_EXPECT_PTR_EQ(test, now, prev);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	KUNIT_EXPECT_PTR_EQ(test, orig[1], prev ?: &dma_direct_ops);
}

/* Map @sgt, which must not fit: -ENOMEM; unmapped again if it did fit. */
static void expect_no_iova(struct kunit *test, struct device *dev,
			   struct sg_table *sgt)
{
	int ret = dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0);

	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	if (!ret)
		dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
}

/*
 * IOVA space running out is what the IOMMU says it is, -ENOMEM, not -EIO,
 * through the shim too, whichever way the shim takes (routed, probed, a
 * single mapping), and a list that does not fit is left as it was: no
 * marks, no mapping counted on its provider. A 16-bit DMA mask leaves the
 * device 15 pages of IOVA space (page frames 1 to 15): a list of 8 host
 * pages takes 8 of them, and what is left holds no further list of 8
 * pages, and 7 single pages. The CMB is reached through the host bridge
 * here, so that its pages take IOVA space too.
 *
 * The IOMMU domain keeps a trace: after the failures its allocator tries
 * no more allocations below 4 GiB of sizes it found no room for, until an
 * IOVA is freed to the tree rather than to its caches; the device's
 * mappings go above 4 GiB instead. The case runs last for that reason.
 * A list larger than the space below the mask meets a bug of the base
 * kernel: iova_rcache_get() subtracts the size from the limit unchecked
 * and hands out cached IOVAs beyond the mask. The case stays clear of it.
 */
static void test_dma_iova_exhausted(struct kunit *test)
{
	struct sg_table sgt = {}, fill_sgt = {};
	dma_addr_t addr[DMA_MAX_ENTS], p2p_addr;
	struct scatterlist *fill, *sg;
	struct p2pmem_provider *prov;
	struct p2pmem_shim *shim;
	struct device *dev;
	int i, ok, filled;
	long mappings;
	char ov[64];
	u64 mask;

	NEED(test, cmb);
	NEED(test, plain);
	if (!on_iommu(p2pmem_kunit_topo.plain))
		kunit_skip(test, "dma-direct has no IOVA space to run out of");
	/* Nothing below may stop the case while the mask is lowered. */
	KUNIT_ASSERT_NOT_NULL(test, fix->p2p);
	/* The NVMe driver's own start-up DMA is done. */
	async_synchronize_full();
	dev = &p2pmem_kunit_topo.plain->dev;
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	shim = p2pmem_dma_shim_of(dev);
	KUNIT_ASSERT_NOT_NULL(test, shim);
	fill = kunit_kcalloc(test, DMA_MAX_ENTS, sizeof(*fill), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fill);
	sg_init_table(fill, DMA_MAX_ENTS);
	for (i = 0; i < DMA_MAX_ENTS; i++)
		sg_set_page(&fill[i], fix->host[i], PAGE_SIZE, 0);
	fill_sgt.sgl = fill;
	fill_sgt.orig_nents = DMA_MAX_ENTS;
	snprintf(ov, sizeof(ov), "%s,%s=host", pci_name(p2pmem_kunit_topo.cmb),
		 pci_name(p2pmem_kunit_topo.plain));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	sgt.sgl = fix->sg;
	sgt.orig_nents = DMA_MAX_ENTS;
	mappings = atomic_long_read(&prov->stats.mappings);

	mask = *dev->dma_mask;
	*dev->dma_mask = DMA_BIT_MASK(16);
	filled = dma_map_sgtable(dev, &fill_sgt, DMA_TO_DEVICE, 0);
	if (filled) {
		*dev->dma_mask = mask;
		KUNIT_FAIL(test, "8 pages do not fit in 15 pages of IOVA space: %d",
			   filled);
		return;
	}
	/* Holding p2pmem, it is routed (after a refused probe, if probed). */
	dma_sgl(test, "HPHPHPHP");
	expect_no_iova(test, dev, &sgt);
	for (i = 0; i < DMA_MAX_ENTS; i++)
		KUNIT_EXPECT_FALSE_MSG(test, sg_is_dma_bus_address(&fix->sg[i]),
				       "entry %d", i);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings),
			mappings);
	/* Host memory: routed (after a list with p2pmem), then probed. */
	dma_sgl(test, "HHHHHHHH");
	KUNIT_EXPECT_FALSE(test, READ_ONCE(shim->probe));
	expect_no_iova(test, dev, &sgt);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(shim->probe));
	expect_no_iova(test, dev, &sgt);
	/* Single mappings: seven pages fit, an eighth does not. */
	for (ok = 0, i = 0; i < 7; i++) {
		addr[i] = dma_map_page(dev, fix->host[i], 0, PAGE_SIZE,
				       DMA_TO_DEVICE);
		if (!dma_mapping_error(dev, addr[i]) &&
		    addr[i] + PAGE_SIZE - 1 <= DMA_BIT_MASK(16))
			ok++;
	}
	p2p_addr = dma_map_page(dev, virt_to_page(fix->p2p), 0, PAGE_SIZE,
				DMA_TO_DEVICE);
	addr[7] = dma_map_page(dev, fix->host[7], 0, PAGE_SIZE, DMA_TO_DEVICE);
	*dev->dma_mask = mask;

	for_each_sg(fill, sg, fill_sgt.nents, i)
		KUNIT_EXPECT_LE_MSG(test, sg_dma_address(sg) + sg_dma_len(sg) - 1,
				    DMA_BIT_MASK(16), "entry %d", i);
	KUNIT_EXPECT_EQ(test, ok, 7);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, p2p_addr));
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, addr[7]));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings),
			mappings);
	for (i = 0; i < DMA_MAX_ENTS; i++)
		if (!dma_mapping_error(dev, addr[i]))
			dma_unmap_page(dev, addr[i], PAGE_SIZE, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, p2p_addr))
		dma_unmap_page(dev, p2p_addr, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_sgtable(dev, &fill_sgt, DMA_TO_DEVICE, 0);
	/* With its own mask back, the lists map again. */
	dma_sgl(test, "HPHPHPHP");
	ok = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, ok, 0);
	if (!ok)
		dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
}

static struct kunit_case dma_cases[] = {
	KUNIT_CASE(test_dma_iommu_state),
	KUNIT_CASE(test_dma_injected),
	KUNIT_CASE(test_dma_bus_route),
	KUNIT_CASE(test_dma_two_providers),
	KUNIT_CASE(test_dma_chained),
	KUNIT_CASE(test_dma_host_only),
	KUNIT_CASE(test_dma_probe),
	KUNIT_CASE(test_dma_probe_undo),
	KUNIT_CASE(test_dma_mixed_alternating),
	KUNIT_CASE(test_dma_mixed_runs),
	KUNIT_CASE(test_dma_fallback_alternating),
	KUNIT_CASE(test_dma_fallback_runs),
	KUNIT_CASE(test_dma_beyond_mask),
	KUNIT_CASE(test_dma_orig_fails),
	KUNIT_CASE(test_dma_fallback_orig_fails),
	KUNIT_CASE(test_dma_thru_host_bridge),
	KUNIT_CASE(test_dma_not_supported),
	KUNIT_CASE(test_dma_map_page),
	KUNIT_CASE(test_dma_map_resource),
	KUNIT_CASE(test_dma_single_by_record),
	KUNIT_CASE(test_dma_single_records),
	KUNIT_CASE(test_dma_mapping_holds_provider),
	KUNIT_CASE(test_dma_dead_provider_refused),
	KUNIT_CASE(test_dma_restore_exact),
	KUNIT_CASE(test_dma_restore_arch_ops),
	KUNIT_CASE(test_dma_no_new_costs),
	KUNIT_CASE(test_dma_bus_offset),
	KUNIT_CASE(test_dma_guard_other_host_bridge),
	KUNIT_CASE(test_dma_guard_no_shim),
	KUNIT_CASE(test_dma_atomic_context),
	KUNIT_CASE(test_dma_verdict_miss_refused),
	KUNIT_CASE(test_dma_rebind),
	KUNIT_CASE(test_dma_hot_add),
	KUNIT_CASE(test_dma_restore_on_removal),
	/* Last: it leaves the IOMMU domain of its device changed. */
	KUNIT_CASE(test_dma_iova_exhausted),
	{}
};

static struct kunit_suite dma_suite = {
	.name = "p2pmem_dma",
	.init = dma_init,
	.exit = dma_exit,
	.test_cases = dma_cases,
};

kunit_test_suite(dma_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the p2pmem DMA shim and guard");
