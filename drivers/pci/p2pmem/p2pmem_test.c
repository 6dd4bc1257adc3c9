// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for p2pmem, run on QEMU with emulated PCIe devices:
 *
 *   pcie.0 - root port - switch - downstream port - NVMe with a CMB
 *                               - downstream port - NVMe
 *                               - downstream port - ivshmem-plain
 *          - root port - NVMe
 *          - generic root port (has ACS) - ivshmem-plain 00.0 and 00.1
 *          - pxb-pcie (second host bridge) - root port - ivshmem-plain
 *
 * The test topology is in tools/testing/selftests/drivers/pci/p2pmem/
 * (see Documentation/driver-api/pci/p2pmem.rst). A test whose devices are
 * missing is skipped, never passed.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kernfs.h>
#include <linux/kthread.h>
#include <linux/resource_ext.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pmem.h"

#define SHM_VENDOR	0x1af4
#define SHM_DEVICE	0x1110
#define SHM_BAR		2
#define SHM_SIZE	SZ_16M
#define NVME_CLASS	0x010802
#define CMB_WAIT_MS	30000

struct p2pmem_topo {
	struct pci_dev *cmb;		/* NVMe with a CMB, below the switch */
	struct pci_dev *plain;		/* NVMe without CMB, same switch */
	struct pci_dev *rp_nvme;	/* NVMe on another root port */
	struct pci_dev *shm_sw;		/* ivshmem below the switch */
	struct pci_dev *shm_pxb;	/* ivshmem below the second host bridge */
	struct pci_dev *mf0, *mf1;	/* two functions below a root port */
	struct pci_dev *upstream;	/* the switch's upstream port */
};

static struct p2pmem_topo topo;
static bool topo_scanned;

static struct pci_dev *switch_of(struct pci_dev *pdev)
{
	for (pdev = pci_upstream_bridge(pdev); pdev;
	     pdev = pci_upstream_bridge(pdev))
		if (pci_pcie_type(pdev) == PCI_EXP_TYPE_UPSTREAM)
			return pdev;
	return NULL;
}

static bool is_provider(struct pci_dev *pdev)
{
	bool ret;

	rcu_read_lock();
	ret = !!p2pmem_provider_of(pdev);
	rcu_read_unlock();
	return ret;
}

/* Fill @topo once; the NVMe driver registers its CMB asynchronously. */
static void find_topology(void)
{
	struct pci_dev *pdev = NULL, *hb0 = NULL;
	int waited;

	if (topo_scanned)
		return;
	topo_scanned = true;
	for (waited = 0; waited < CMB_WAIT_MS; waited += 100) {
		bool found = false;

		for_each_pci_dev(pdev)
			if (pdev->class == NVME_CLASS && is_provider(pdev))
				found = true;
		if (found)
			break;
		msleep(100);
	}

	for_each_pci_dev(pdev) {
		struct pci_dev *sw = switch_of(pdev);

		if (pdev->class == NVME_CLASS) {
			if (sw && is_provider(pdev))
				topo.cmb = pdev;
			else if (sw)
				topo.plain = pdev;
			else
				topo.rp_nvme = pdev;
			if (sw)
				topo.upstream = sw;
		}
	}
	if (topo.cmb)
		hb0 = topo.cmb;
	for_each_pci_dev(pdev) {
		if (pdev->vendor != SHM_VENDOR || pdev->device != SHM_DEVICE)
			continue;
		if (switch_of(pdev))
			topo.shm_sw = pdev;
		else if (hb0 && pci_find_host_bridge(pdev->bus) !=
			 pci_find_host_bridge(hb0->bus))
			topo.shm_pxb = pdev;
		else if (PCI_FUNC(pdev->devfn) == 0)
			topo.mf0 = pdev;
		else if (PCI_FUNC(pdev->devfn) == 1)
			topo.mf1 = pdev;
	}
}

#define NEED(test, dev)							\
	do {								\
		find_topology();					\
		if (!topo.dev)						\
			kunit_skip(test, "no " #dev " device in this VM"); \
	} while (0)

static struct p2pmem_provider *prov_of(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov;

	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	rcu_read_unlock();
	return prov;
}

/*
 * Remove a provider a test registered, first freeing what a failed test
 * may have left allocated (removal would wait for it forever).
 */
static void remove_if_provider(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov = prov_of(pdev);
	struct p2pmem_alloc_rec *rec;
	unsigned long idx;

	if (!prov)
		return;
	xa_for_each(&prov->allocs, idx, rec)
		p2pmem_free(pdev, (void *)(idx << PAGE_SHIFT), rec->size);
	p2pmem_remove_provider(prov);
}

/* ---- registration ---------------------------------------------------- */

static int register_init(struct kunit *test)
{
	find_topology();
	if (topo.shm_sw)
		remove_if_provider(topo.shm_sw);
	return 0;
}

static void register_exit(struct kunit *test)
{
	if (topo.shm_sw)
		remove_if_provider(topo.shm_sw);
}

static void test_register_whole_bar(struct kunit *test)
{
	struct kernfs_node *link, *group;
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0), 0);
	prov = prov_of(topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, gen_pool_size(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_FALSE(test, prov->published);
	KUNIT_EXPECT_TRUE(test, device_is_registered(&prov->dev));
	KUNIT_EXPECT_TRUE(test, prov->sysfs_done);
	link = kernfs_find_and_get(prov->dev.kobj.sd, "device");
	KUNIT_EXPECT_NOT_NULL(test, link);
	kernfs_put(link);
	group = kernfs_find_and_get(topo.shm_sw->dev.kobj.sd, "p2pmem");
	KUNIT_EXPECT_NOT_NULL(test, group);
	kernfs_put(group);
}

static void test_register_two_halves(struct kunit *test)
{
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR,
						  SHM_SIZE / 2, 0), 0);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR,
						  SHM_SIZE / 2, SHM_SIZE / 2), 0);
	prov = prov_of(topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, gen_pool_size(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&prov->ranges), 2);
}

static void test_register_overlap(struct kunit *test)
{
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR,
						  SHM_SIZE / 2, 0), 0);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0),
			-EBUSY);
	prov = prov_of(topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, gen_pool_size(prov->pool), (size_t)SHM_SIZE / 2);
}

static void test_register_bad_bar(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, -1, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, PCI_STD_NUM_BARS,
						  0, 0), -EINVAL);
	/* BAR 1 of ivshmem-plain is not implemented. */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, 1, 0, 0), -EINVAL);
	/* BAR 0 is 256 bytes of registers: too small to map as pages. */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(NULL, SHM_BAR, 0, 0), -EINVAL);
	KUNIT_EXPECT_FALSE(test, is_provider(topo.shm_sw));
}

static void test_register_bad_range(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0,
						  SHM_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR,
						  SHM_SIZE * 2, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR,
						  SZ_2M, SHM_SIZE - SZ_1M), -EINVAL);
	/* Not aligned to memremap_compat_align(). */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, SZ_2M,
						  PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR,
						  SZ_2M + PAGE_SIZE, 0), -EINVAL);
	KUNIT_EXPECT_FALSE(test, is_provider(topo.shm_sw));
}

static void test_window_offset_fabricated(struct kunit *test)
{
	struct resource bar = DEFINE_RES_MEM(0xc1000000, SZ_1M);
	struct resource io = DEFINE_RES_IO(0x1000, 0x100);
	struct resource_entry *win;
	resource_size_t off = 0;
	LIST_HEAD(windows);

	win = resource_list_create_entry(NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, win);
	win->res->start = 0xc0000000;
	win->res->end = 0xcfffffff;
	win->res->flags = IORESOURCE_MEM;
	win->offset = 0x80000000;
	resource_list_add_tail(win, &windows);

	KUNIT_EXPECT_EQ(test, p2pmem_window_offset(&windows, &bar, &off), 0);
	KUNIT_EXPECT_EQ(test, off, (resource_size_t)0x80000000);
	KUNIT_EXPECT_EQ(test, bar.start - off, (resource_size_t)0x41000000);
	/* An I/O resource never matches a memory window. */
	KUNIT_EXPECT_EQ(test, p2pmem_window_offset(&windows, &io, &off), -ENXIO);
	/* Straddling the end of the window is not contained. */
	bar.start = 0xcff00000;
	bar.end = 0xd00fffff;
	KUNIT_EXPECT_EQ(test, p2pmem_window_offset(&windows, &bar, &off), -ENXIO);
	resource_list_free(&windows);
}

/*
 * Give the real host bridge window holding the BAR a non-zero offset for
 * the duration of one registration: the bus address must follow it.
 */
static void test_register_bus_offset(struct kunit *test)
{
	const resource_size_t fake = 0x10000000;
	struct pci_host_bridge *hb;
	struct resource_entry *win, *hit = NULL;
	resource_size_t start;
	pci_bus_addr_t bus;
	void *va;
	int ret;

	NEED(test, shm_sw);
	hb = pci_find_host_bridge(topo.shm_sw->bus);
	resource_list_for_each_entry(win, &hb->windows)
		if (resource_contains(win->res, &topo.shm_sw->resource[SHM_BAR]))
			hit = win;
	KUNIT_ASSERT_NOT_NULL(test, hit);
	KUNIT_ASSERT_EQ(test, hit->offset, (resource_size_t)0);

	hit->offset = fake;
	ret = p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0);
	hit->offset = 0;
	KUNIT_ASSERT_EQ(test, ret, 0);

	start = pci_resource_start(topo.shm_sw, SHM_BAR);
	va = p2pmem_alloc(topo.shm_sw, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(topo.shm_sw, va, &bus), 0);
	KUNIT_EXPECT_EQ(test, bus, (pci_bus_addr_t)(virt_to_phys(va) - fake));
	KUNIT_EXPECT_EQ(test, bus - (pci_bus_addr_t)(start - fake),
			(pci_bus_addr_t)(virt_to_phys(va) - start));
	p2pmem_free(topo.shm_sw, va, PAGE_SIZE);
}

static struct kunit_case register_cases[] = {
	KUNIT_CASE(test_register_whole_bar),
	KUNIT_CASE(test_register_two_halves),
	KUNIT_CASE(test_register_overlap),
	KUNIT_CASE(test_register_bad_bar),
	KUNIT_CASE(test_register_bad_range),
	KUNIT_CASE(test_window_offset_fabricated),
	KUNIT_CASE(test_register_bus_offset),
	{}
};

static struct kunit_suite register_suite = {
	.name = "p2pmem_register",
	.init = register_init,
	.exit = register_exit,
	.test_cases = register_cases,
};

/* ---- allocation ------------------------------------------------------- */

static struct p2pmem_provider *alloc_prov;

static int alloc_init(struct kunit *test)
{
	find_topology();
	alloc_prov = NULL;
	if (!topo.shm_sw)
		return 0;
	remove_if_provider(topo.shm_sw);
	if (p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0))
		return -EIO;
	alloc_prov = prov_of(topo.shm_sw);
	return 0;
}

static void alloc_exit(struct kunit *test)
{
	if (topo.shm_sw)
		remove_if_provider(topo.shm_sw);
	alloc_prov = NULL;
}

#define STAT(name) atomic_long_read(&alloc_prov->stats.name)

static void test_alloc_basic(struct kunit *test)
{
	pci_bus_addr_t bus;
	void *va;

	NEED(test, shm_sw);
	va = p2pmem_alloc(topo.shm_sw, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(va));
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool),
			(size_t)SHM_SIZE - PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(allocs), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, p2pmem_is_p2p_page(virt_to_page(va)));
	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(topo.shm_sw, va, &bus), 0);
	KUNIT_EXPECT_EQ(test, bus, pci_bus_address(topo.shm_sw, SHM_BAR) +
			(virt_to_phys(va) - pci_resource_start(topo.shm_sw, SHM_BAR)));
	p2pmem_free(topo.shm_sw, va, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(frees), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
}

static void test_alloc_cpu_access(struct kunit *test)
{
	u32 *va;
	int i, bad = 0;

	NEED(test, shm_sw);
	va = p2pmem_alloc(topo.shm_sw, SZ_64K);
	KUNIT_ASSERT_NOT_NULL(test, va);
	for (i = 0; i < SZ_64K / 4; i++)
		WRITE_ONCE(va[i], 0x5a5a0000 ^ i);
	for (i = 0; i < SZ_64K / 4; i++)
		bad += READ_ONCE(va[i]) != (0x5a5a0000 ^ i);
	KUNIT_EXPECT_EQ(test, bad, 0);
	p2pmem_free(topo.shm_sw, va, SZ_64K);
}

static void test_alloc_zero(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(topo.shm_sw, 0));
	KUNIT_EXPECT_EQ(test, STAT(allocs), 0L);
	KUNIT_EXPECT_EQ(test, STAT(failed), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_alloc_oversize(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(topo.shm_sw, SHM_SIZE + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, STAT(failed), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_alloc_not_provider(struct kunit *test)
{
	NEED(test, shm_sw);
	NEED(test, plain);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(topo.plain, PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(NULL, PAGE_SIZE));
}

static void test_alloc_exhaustion(struct kunit *test)
{
	void *va[SHM_SIZE / SZ_1M + 1];
	int i, n = 0;

	NEED(test, shm_sw);
	for (i = 0; i < ARRAY_SIZE(va); i++) {
		va[i] = p2pmem_alloc(topo.shm_sw, SZ_1M);
		if (va[i])
			n++;
	}
	KUNIT_EXPECT_EQ(test, n, SHM_SIZE / SZ_1M);
	KUNIT_EXPECT_NULL(test, va[ARRAY_SIZE(va) - 1]);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)0);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(topo.shm_sw, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, STAT(failed), 2L);
	for (i = 0; i < ARRAY_SIZE(va); i++)
		if (va[i])
			p2pmem_free(topo.shm_sw, va[i], SZ_1M);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(high_water), (long)SHM_SIZE);
}

static void test_alloc_rounds_to_pages(struct kunit *test)
{
	void *a, *b;

	NEED(test, shm_sw);
	a = p2pmem_alloc(topo.shm_sw, 1);
	b = p2pmem_alloc(topo.shm_sw, PAGE_SIZE + 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool),
			(size_t)SHM_SIZE - 3 * PAGE_SIZE);
	p2pmem_free(topo.shm_sw, a, 1);
	p2pmem_free(topo.shm_sw, b, PAGE_SIZE + 1);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
}

static void test_alloc_alignment_disjoint(struct kunit *test)
{
	static const size_t sizes[] = { 1, 4096, 12288, 65536, 8192, 3 };
	unsigned long va[ARRAY_SIZE(sizes)];
	int i, j;

	NEED(test, shm_sw);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		va[i] = (unsigned long)p2pmem_alloc(topo.shm_sw, sizes[i]);
		KUNIT_ASSERT_NE(test, va[i], 0UL);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(va[i]));
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = i + 1; j < ARRAY_SIZE(sizes); j++) {
			bool apart = va[i] + PAGE_ALIGN(sizes[i]) <= va[j] ||
				     va[j] + PAGE_ALIGN(sizes[j]) <= va[i];

			KUNIT_EXPECT_TRUE(test, apart);
		}
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		p2pmem_free(topo.shm_sw, (void *)va[i], sizes[i]);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_free_misuse(struct kunit *test)
{
	void *va, *heap;

	NEED(test, shm_sw);
	va = p2pmem_alloc(topo.shm_sw, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	heap = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);

	/* None of these may change anything. */
	p2pmem_free(topo.shm_sw, heap, PAGE_SIZE);
	p2pmem_free(topo.shm_sw, va + 16, PAGE_SIZE);
	p2pmem_free(topo.shm_sw, va + PAGE_SIZE, PAGE_SIZE);
	p2pmem_free(topo.shm_sw, NULL, PAGE_SIZE);
	if (topo.plain)
		p2pmem_free(topo.plain, va, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(frees), 0L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)PAGE_SIZE);

	p2pmem_free(topo.shm_sw, va, PAGE_SIZE);
	/* A double free is refused too. */
	p2pmem_free(topo.shm_sw, va, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(frees), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_virt_to_bus_invalid(struct kunit *test)
{
	pci_bus_addr_t bus = 0x1234;
	void *heap;

	NEED(test, shm_sw);
	heap = kunit_kzalloc(test, 64, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(topo.shm_sw, heap, &bus), -EINVAL);
	KUNIT_EXPECT_EQ(test, bus, (pci_bus_addr_t)0x1234);
	if (topo.plain)
		KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(topo.plain, heap, &bus),
				-EINVAL);
	KUNIT_EXPECT_FALSE(test, p2pmem_is_p2p_page(virt_to_page(heap)));
}

static void test_sgl_basic(struct kunit *test)
{
	struct scatterlist *sgl;
	unsigned int nents = 0;

	NEED(test, shm_sw);
	sgl = p2pmem_alloc_sgl(topo.shm_sw, 3 * PAGE_SIZE + 100, &nents);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_EQ(test, nents, 1U);
	KUNIT_EXPECT_EQ(test, sgl->length, 3 * PAGE_SIZE + 100);
	KUNIT_EXPECT_EQ(test, sgl->offset, 0U);
	KUNIT_EXPECT_TRUE(test, sg_is_last(sgl));
	KUNIT_EXPECT_TRUE(test, p2pmem_is_p2p_page(sg_page(sgl)));
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)(4 * PAGE_SIZE));
	p2pmem_free_sgl(topo.shm_sw, sgl);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_sgl_bad_args(struct kunit *test)
{
	unsigned int nents = 77;

	NEED(test, shm_sw);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc_sgl(topo.shm_sw, 0, &nents));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc_sgl(topo.shm_sw, PAGE_SIZE, NULL));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc_sgl(topo.shm_sw, SHM_SIZE * 2, &nents));
	KUNIT_EXPECT_EQ(test, nents, 77U);
	p2pmem_free_sgl(topo.shm_sw, NULL);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, STAT(allocs), 0L);
}

/* A list built by the caller of several p2pmem chunks is freed whole. */
static void test_sgl_free_chained(struct kunit *test)
{
	struct scatterlist *sgl;
	void *a, *b;

	NEED(test, shm_sw);
	sgl = kmalloc_array(2, sizeof(*sgl), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	a = p2pmem_alloc(topo.shm_sw, PAGE_SIZE);
	b = p2pmem_alloc(topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	sg_init_table(sgl, 2);
	sg_set_buf(&sgl[0], a, PAGE_SIZE);
	sg_set_buf(&sgl[1], b, 2 * PAGE_SIZE);
	p2pmem_free_sgl(topo.shm_sw, sgl);
	KUNIT_EXPECT_EQ(test, STAT(frees), 2L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
}

static void test_publish(struct kunit *test)
{
	struct pci_dev *found;

	NEED(test, shm_sw);
	KUNIT_EXPECT_FALSE(test, alloc_prov->published);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(topo.shm_sw, true), 0);
	KUNIT_EXPECT_TRUE(test, alloc_prov->published);
	found = p2pmem_find_one(&topo.shm_sw->dev);
	KUNIT_EXPECT_PTR_EQ(test, found, topo.shm_sw);
	p2pmem_put(found);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(topo.shm_sw, false), 0);
	KUNIT_EXPECT_FALSE(test, alloc_prov->published);
	found = p2pmem_find_one(&topo.shm_sw->dev);
	KUNIT_EXPECT_PTR_NE(test, found, topo.shm_sw);
	p2pmem_put(found);
	if (topo.plain)
		KUNIT_EXPECT_EQ(test, p2pmem_publish(topo.plain, true), -ENODEV);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(NULL, true), -ENODEV);
}

static void test_get_put(struct kunit *test)
{
	struct pci_dev *got;
	unsigned int before;

	NEED(test, shm_sw);
	before = kref_read(&topo.shm_sw->dev.kobj.kref);
	got = p2pmem_get(topo.shm_sw);
	KUNIT_EXPECT_PTR_EQ(test, got, topo.shm_sw);
	KUNIT_EXPECT_EQ(test, kref_read(&topo.shm_sw->dev.kobj.kref), before + 1);
	p2pmem_put(got);
	KUNIT_EXPECT_EQ(test, kref_read(&topo.shm_sw->dev.kobj.kref), before);
	if (topo.plain)
		KUNIT_EXPECT_NULL(test, p2pmem_get(topo.plain));
	KUNIT_EXPECT_NULL(test, p2pmem_get(NULL));
	p2pmem_put(NULL);
}

static void test_high_water(struct kunit *test)
{
	void *va[3];
	int i;

	NEED(test, shm_sw);
	for (i = 0; i < 3; i++)
		va[i] = p2pmem_alloc(topo.shm_sw, PAGE_SIZE);
	for (i = 0; i < 3; i++)
		p2pmem_free(topo.shm_sw, va[i], PAGE_SIZE);
	va[0] = p2pmem_alloc(topo.shm_sw, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(high_water), (long)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(allocs), 4L);
	p2pmem_free(topo.shm_sw, va[0], PAGE_SIZE);
}

static struct device_attribute *class_attr(const char *name)
{
	struct attribute **a;

	for (a = p2pmem_class.dev_groups[0]->attrs; *a; a++)
		if (!strcmp((*a)->name, name))
			return container_of(*a, struct device_attribute, attr);
	return NULL;
}

static void test_sysfs_published(struct kunit *test)
{
	struct device_attribute *attr = class_attr("published");
	static const char * const bad[] = { "banana", "", "2", "-1", "\n" };
	char *buf;
	int i;

	NEED(test, shm_sw);
	/* sysfs_emit() wants a page, as sysfs passes. */
	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, attr);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ(test, attr->store(&alloc_prov->dev, attr, bad[i],
						  strlen(bad[i])), (ssize_t)-EINVAL);
		KUNIT_EXPECT_FALSE(test, alloc_prov->published);
	}
	KUNIT_EXPECT_EQ(test, attr->store(&alloc_prov->dev, attr, "1\n", 2),
			(ssize_t)2);
	KUNIT_EXPECT_TRUE(test, alloc_prov->published);
	KUNIT_EXPECT_GT(test, attr->show(&alloc_prov->dev, attr, buf), 0);
	KUNIT_EXPECT_STREQ(test, buf, "1\n");
	KUNIT_EXPECT_EQ(test, attr->store(&alloc_prov->dev, attr, "0", 1),
			(ssize_t)1);
	KUNIT_EXPECT_FALSE(test, alloc_prov->published);

	attr = class_attr("size");
	KUNIT_ASSERT_NOT_NULL(test, attr);
	attr->show(&alloc_prov->dev, attr, buf);
	KUNIT_EXPECT_STREQ(test, buf, "16777216\n");
}

struct hammer {
	struct completion done;
	int errors;
	int allocated;
};

static int hammer_fn(void *data)
{
	struct hammer *h = data;
	u32 *va;
	int i, n;

	for (i = 0; i < 400; i++) {
		n = 1 + (i % 4);
		va = p2pmem_alloc(topo.shm_sw, n * PAGE_SIZE);
		if (!va)
			continue;
		h->allocated++;
		WRITE_ONCE(va[0], (u32)(unsigned long)h);
		WRITE_ONCE(va[n * PAGE_SIZE / 4 - 1], i);
		cond_resched();
		if (READ_ONCE(va[0]) != (u32)(unsigned long)h ||
		    READ_ONCE(va[n * PAGE_SIZE / 4 - 1]) != i)
			h->errors++;
		p2pmem_free(topo.shm_sw, va, n * PAGE_SIZE);
	}
	complete(&h->done);
	return 0;
}

static void test_alloc_threads(struct kunit *test)
{
	struct hammer h[4];
	struct task_struct *t;
	int i, started, total = 0;

	NEED(test, shm_sw);
	for (started = 0; started < ARRAY_SIZE(h); started++) {
		h[started].errors = 0;
		h[started].allocated = 0;
		init_completion(&h[started].done);
		t = kthread_run(hammer_fn, &h[started], "p2pmem-hammer/%d",
				started);
		if (IS_ERR(t)) {
			KUNIT_FAIL(test, "cannot start thread %d", started);
			break;
		}
	}
	for (i = 0; i < started; i++) {
		wait_for_completion(&h[i].done);
		KUNIT_EXPECT_EQ(test, h[i].errors, 0);
		total += h[i].allocated;
	}
	KUNIT_EXPECT_EQ(test, started, 4);
	KUNIT_EXPECT_EQ(test, total, started * 400);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, STAT(allocs), (long)total);
	KUNIT_EXPECT_EQ(test, STAT(frees), (long)total);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static struct kunit_case alloc_cases[] = {
	KUNIT_CASE(test_alloc_basic),
	KUNIT_CASE(test_alloc_cpu_access),
	KUNIT_CASE(test_alloc_zero),
	KUNIT_CASE(test_alloc_oversize),
	KUNIT_CASE(test_alloc_not_provider),
	KUNIT_CASE(test_alloc_exhaustion),
	KUNIT_CASE(test_alloc_rounds_to_pages),
	KUNIT_CASE(test_alloc_alignment_disjoint),
	KUNIT_CASE(test_free_misuse),
	KUNIT_CASE(test_virt_to_bus_invalid),
	KUNIT_CASE(test_sgl_basic),
	KUNIT_CASE(test_sgl_bad_args),
	KUNIT_CASE(test_sgl_free_chained),
	KUNIT_CASE(test_publish),
	KUNIT_CASE(test_get_put),
	KUNIT_CASE(test_high_water),
	KUNIT_CASE(test_sysfs_published),
	KUNIT_CASE(test_alloc_threads),
	{}
};

static struct kunit_suite alloc_suite = {
	.name = "p2pmem_alloc",
	.init = alloc_init,
	.exit = alloc_exit,
	.test_cases = alloc_cases,
};

/* ---- removal ---------------------------------------------------------- */

struct remover {
	struct p2pmem_provider *prov;
	struct completion done;
};

static int remover_fn(void *data)
{
	struct remover *r = data;

	p2pmem_remove_provider(r->prov);
	complete(&r->done);
	return 0;
}

static void test_remove_idle(struct kunit *test)
{
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0), 0);
	prov = prov_of(topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	p2pmem_publish(topo.shm_sw, true);
	p2pmem_remove_provider(prov);
	KUNIT_EXPECT_FALSE(test, is_provider(topo.shm_sw));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(topo.shm_sw, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, p2pmem_publish(topo.shm_sw, true), -ENODEV);
	/* The BAR can be registered again afterwards. */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0), 0);
	remove_if_provider(topo.shm_sw);
}

static void test_remove_waits_for_allocations(struct kunit *test)
{
	unsigned int old_warn = p2pmem_remove_warn_ms;
	struct remover r;
	struct task_struct *t;
	void *va;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0), 0);
	r.prov = prov_of(topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, r.prov);
	va = p2pmem_alloc(topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);

	p2pmem_remove_warn_ms = 50;
	init_completion(&r.done);
	t = kthread_run(remover_fn, &r, "p2pmem-remover");
	if (IS_ERR(t)) {
		p2pmem_free(topo.shm_sw, va, 2 * PAGE_SIZE);
		p2pmem_remove_warn_ms = old_warn;
		KUNIT_FAIL(test, "cannot start the remover thread");
		return;
	}

	/* Removal must wait; meanwhile new allocations fail at once. */
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&r.done,
							     msecs_to_jiffies(300)));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(topo.shm_sw, PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, r.prov->published);

	p2pmem_free(topo.shm_sw, va, 2 * PAGE_SIZE);
	if (!wait_for_completion_timeout(&r.done, msecs_to_jiffies(5000))) {
		KUNIT_FAIL(test, "removal did not finish after the last free");
		/* @r is on this stack: never return while the thread uses it. */
		wait_for_completion(&r.done);
	}
	p2pmem_remove_warn_ms = old_warn;
	KUNIT_EXPECT_FALSE(test, is_provider(topo.shm_sw));
}

static struct kunit_case remove_cases[] = {
	KUNIT_CASE(test_remove_idle),
	KUNIT_CASE(test_remove_waits_for_allocations),
	{}
};

static struct kunit_suite remove_suite = {
	.name = "p2pmem_remove",
	.init = register_init,
	.exit = register_exit,
	.test_cases = remove_cases,
};

/* ---- topology --------------------------------------------------------- */

static void verdict(struct pci_dev *p, struct pci_dev *c,
		    struct p2pmem_verdict *v)
{
	p2pmem_verdict_compute(p, c, v);
}

static void expect_reason(struct kunit *test, struct p2pmem_verdict *v,
			  const char *needle)
{
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(v->reason, needle),
				  "reason '%s' lacks '%s'", v->reason, needle);
}

static int topology_init(struct kunit *test)
{
	find_topology();
	return p2pmem_override_set("");
}

static void topology_exit(struct kunit *test)
{
	p2pmem_override_set("");
}

static void test_verdict_same_function(struct kunit *test)
{
	struct p2pmem_verdict v;

	NEED(test, cmb);
	verdict(topo.cmb, topo.cmb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, v.distance, 0);
	expect_reason(test, &v, "same PCI function");
}

static void test_verdict_same_switch(struct kunit *test)
{
	struct p2pmem_verdict v;

	NEED(test, cmb);
	NEED(test, plain);
	verdict(topo.cmb, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	/* NVMe - downstream port - upstream port, on both sides. */
	KUNIT_EXPECT_EQ(test, v.distance, 4);
	expect_reason(test, &v, pci_name(topo.upstream));
	expect_reason(test, &v, "no ACS redirect");
	KUNIT_EXPECT_EQ(test, v.flags, 0U);
	/* The verdict is symmetric. */
	verdict(topo.plain, topo.cmb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, v.distance, 4);
}

static void test_verdict_root_ports(struct kunit *test)
{
	struct p2pmem_verdict v;

	NEED(test, cmb);
	NEED(test, rp_nvme);
	verdict(topo.cmb, topo.rp_nvme, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	KUNIT_EXPECT_EQ(test, v.distance, -1);
	expect_reason(test, &v, "8086:29c0");
	expect_reason(test, &v, "not known to route");
}

static void test_verdict_other_host_bridge(struct kunit *test)
{
	struct pci_host_bridge *hb;
	struct p2pmem_verdict v;

	NEED(test, cmb);
	NEED(test, shm_pxb);
	hb = pci_find_host_bridge(topo.shm_pxb->bus);
	verdict(topo.cmb, topo.shm_pxb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	expect_reason(test, &v, dev_name(&hb->dev));
	expect_reason(test, &v, "between host bridges");
	verdict(topo.shm_pxb, topo.cmb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
}

/*
 * QEMU's switch ports have no ACS capability; its generic root port has.
 * Two functions below one root port talk through that port, so enabling
 * P2P Request Redirect there must turn the verdict around.
 */
static void test_verdict_acs_redirect(struct kunit *test)
{
	struct pci_dev *port;
	struct p2pmem_verdict v;
	u16 ctrl, saved;
	int pos;

	NEED(test, mf0);
	NEED(test, mf1);
	port = pci_upstream_bridge(topo.mf0);
	pos = pci_find_ext_capability(port, PCI_EXT_CAP_ID_ACS);
	if (!pos)
		kunit_skip(test, "%s has no ACS capability", pci_name(port));

	/* An IOMMU may have enabled redirection; start from none. */
	pci_read_config_word(port, pos + PCI_ACS_CTRL, &saved);
	ctrl = saved & ~(PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl);

	verdict(topo.mf0, topo.mf1, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, v.distance, 2);
	expect_reason(test, &v, pci_name(port));

	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl | PCI_ACS_RR);
	verdict(topo.mf0, topo.mf1, &v);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	expect_reason(test, &v, "ACS P2P Request Redirect");
	expect_reason(test, &v, pci_name(port));
	expect_reason(test, &v, "8086:29c0");

	/* With the host bridge forced to route, the redirect is usable. */
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl | PCI_ACS_RR);
	KUNIT_EXPECT_EQ(test, p2pmem_override_set("pci0000:00=host"), 0);
	verdict(topo.mf1, topo.mf0, &v);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	expect_reason(test, &v, "ACS P2P Request Redirect");

	verdict(topo.mf0, topo.mf1, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, saved);
}

static void test_verdict_override_host_bridge(struct kunit *test)
{
	struct pci_host_bridge *hb;
	struct p2pmem_verdict v;
	char ov[32];

	NEED(test, cmb);
	NEED(test, rp_nvme);
	hb = pci_find_host_bridge(topo.cmb->bus);
	snprintf(ov, sizeof(ov), "%s=host", dev_name(&hb->dev));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(topo.cmb, topo.rp_nvme, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	KUNIT_EXPECT_TRUE(test, v.flags & P2PMEM_VF_OVERRIDE);
	KUNIT_EXPECT_GT(test, v.distance, P2PMEM_HOST_BRIDGE_PENALTY);
	expect_reason(test, &v, "override");
	/* A switch-local pair is not affected by the host bridge's entry. */
	if (topo.plain) {
		verdict(topo.cmb, topo.plain, &v);
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	}
}

static void test_verdict_override_switch(struct kunit *test)
{
	struct p2pmem_verdict v;
	char ov[32];

	NEED(test, cmb);
	NEED(test, plain);
	snprintf(ov, sizeof(ov), "%s=host", pci_name(topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(topo.cmb, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	expect_reason(test, &v, pci_name(topo.upstream));
	expect_reason(test, &v, "override");

	snprintf(ov, sizeof(ov), "%s=none", pci_name(topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(topo.cmb, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	expect_reason(test, &v, "not supported");
}

static void test_verdict_override_pair(struct kunit *test)
{
	struct p2pmem_verdict v;
	char ov[64];

	NEED(test, cmb);
	NEED(test, plain);
	/* Given in the other order: pairs match either way round. */
	snprintf(ov, sizeof(ov), "%s,%s=none", pci_name(topo.plain),
		 pci_name(topo.cmb));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(topo.cmb, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	KUNIT_EXPECT_TRUE(test, v.flags & P2PMEM_VF_OVERRIDE);
	expect_reason(test, &v, "pair forced");
	if (topo.shm_sw) {
		verdict(topo.cmb, topo.shm_sw, &v);
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	}
}

static void test_verdict_cache(struct kunit *test)
{
	struct p2pmem_provider *prov;
	struct p2pmem_verdict v;
	char ov[32];

	NEED(test, cmb);
	NEED(test, plain);
	prov = prov_of(topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	p2pmem_verdict_get(prov, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_NOT_NULL(test, xa_load(&prov->verdicts,
					    p2pmem_dev_key(topo.plain)));
	/* The cached verdict must not survive an override change. */
	snprintf(ov, sizeof(ov), "%s=none", pci_name(topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	p2pmem_verdict_get(prov, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(""), 0);
	p2pmem_verdict_get(prov, topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
}

/* Removing and re-adding a PCI device drops the cache. */
static void test_verdict_cache_hotplug(struct kunit *test)
{
	int gen = p2pmem_topology_generation();
	struct pci_bus *bus;
	struct pci_dev *pdev;

	NEED(test, shm_pxb);
	remove_if_provider(topo.shm_pxb);
	bus = topo.shm_pxb->bus;
	pci_lock_rescan_remove();
	pci_stop_and_remove_bus_device(topo.shm_pxb);
	topo.shm_pxb = NULL;
	KUNIT_EXPECT_NE(test, p2pmem_topology_generation(), gen);
	gen = p2pmem_topology_generation();
	pci_rescan_bus(bus);
	pci_unlock_rescan_remove();
	KUNIT_EXPECT_NE(test, p2pmem_topology_generation(), gen);
	pdev = pci_get_slot(bus, PCI_DEVFN(0, 0));
	KUNIT_EXPECT_NOT_NULL(test, pdev);
	topo.shm_pxb = pdev;
	pci_dev_put(pdev);
}

static void test_hb_table_flags(struct kunit *test)
{
	static const struct p2pmem_hb_id table[] = {
		{ 0x8086, 0x1111, 0 },
		{ 0x8086, 0x2222, P2PMEM_HB_WRITES_ONLY },
		{ 0x1022, 0x2222, P2PMEM_HB_SAME_BRIDGE_ONLY },
		{ }
	};
	const struct p2pmem_hb_id *e;

	e = p2pmem_hb_lookup(table, 0x8086, 0x2222);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->flags, (unsigned int)P2PMEM_HB_WRITES_ONLY);
	e = p2pmem_hb_lookup(table, 0x1022, 0x2222);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->flags, (unsigned int)P2PMEM_HB_SAME_BRIDGE_ONLY);
	KUNIT_EXPECT_NULL(test, p2pmem_hb_lookup(table, 0x8086, 0x29c0));
	KUNIT_EXPECT_NULL(test, p2pmem_hb_lookup(table, 0x1022, 0x1111));
}

static void test_find(struct kunit *test)
{
	struct device *clients[2];
	struct pci_dev *found;

	NEED(test, cmb);
	NEED(test, plain);
	clients[0] = &topo.plain->dev;
	found = p2pmem_find(clients, 1);
	KUNIT_EXPECT_PTR_EQ(test, found, topo.cmb);
	p2pmem_put(found);
	if (topo.rp_nvme) {
		clients[1] = &topo.rp_nvme->dev;
		KUNIT_EXPECT_NULL(test, p2pmem_find(clients, 2));
		KUNIT_EXPECT_NULL(test, p2pmem_find(&clients[1], 1));
	}
	KUNIT_EXPECT_NULL(test, p2pmem_find(NULL, 1));
	KUNIT_EXPECT_NULL(test, p2pmem_find(clients, 0));
}

/* Two published providers at the same distance: the lower BDF wins. */
static void test_find_tie_break(struct kunit *test)
{
	struct pci_dev *found, *lower;
	struct device *client;

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, shm_sw);
	remove_if_provider(topo.shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0), 0);
	KUNIT_ASSERT_EQ(test, p2pmem_publish(topo.shm_sw, true), 0);
	KUNIT_ASSERT_EQ(test, p2pmem_distance(topo.shm_sw, &client, 0, false),
			-EINVAL);
	client = &topo.plain->dev;
	KUNIT_ASSERT_EQ(test, p2pmem_distance(topo.shm_sw, &client, 1, false),
			p2pmem_distance(topo.cmb, &client, 1, false));
	lower = p2pmem_dev_key(topo.shm_sw) < p2pmem_dev_key(topo.cmb) ?
		topo.shm_sw : topo.cmb;
	found = p2pmem_find(&client, 1);
	KUNIT_EXPECT_PTR_EQ(test, found, lower);
	p2pmem_put(found);
	/* The same question gets the same answer. */
	found = p2pmem_find(&client, 1);
	KUNIT_EXPECT_PTR_EQ(test, found, lower);
	p2pmem_put(found);
	remove_if_provider(topo.shm_sw);
}

static void test_distance_and_map_type(struct kunit *test)
{
	struct device *clients[2];

	NEED(test, cmb);
	NEED(test, plain);
	clients[0] = &topo.plain->dev;
	KUNIT_EXPECT_EQ(test, p2pmem_distance(topo.cmb, clients, 1, false), 4);
	KUNIT_EXPECT_EQ(test, p2pmem_map_type(topo.cmb, &topo.plain->dev),
			P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, p2pmem_distance(NULL, clients, 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_distance(topo.cmb, NULL, 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_map_type(topo.cmb, NULL),
			P2PMEM_MAP_NOT_SUPPORTED);
	if (topo.rp_nvme) {
		clients[1] = &topo.rp_nvme->dev;
		KUNIT_EXPECT_EQ(test, p2pmem_distance(topo.cmb, clients, 2, true),
				-EREMOTEIO);
		KUNIT_EXPECT_EQ(test, p2pmem_map_type(topo.cmb, clients[1]),
				P2PMEM_MAP_NOT_SUPPORTED);
	}
}

/* A client below a PCI function (a class device) resolves to it. */
static void test_client_below_pci(struct kunit *test)
{
	struct device *child;

	NEED(test, cmb);
	NEED(test, plain);
	child = device_find_any_child(&topo.plain->dev);
	if (!child)
		kunit_skip(test, "%s has no child device", pci_name(topo.plain));
	KUNIT_EXPECT_EQ(test, p2pmem_map_type(topo.cmb, child),
			P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, p2pmem_distance(topo.cmb, &child, 1, false), 4);
	put_device(child);
}

static struct kunit_case topology_cases[] = {
	KUNIT_CASE(test_verdict_same_function),
	KUNIT_CASE(test_verdict_same_switch),
	KUNIT_CASE(test_verdict_root_ports),
	KUNIT_CASE(test_verdict_other_host_bridge),
	KUNIT_CASE(test_verdict_acs_redirect),
	KUNIT_CASE(test_verdict_override_host_bridge),
	KUNIT_CASE(test_verdict_override_switch),
	KUNIT_CASE(test_verdict_override_pair),
	KUNIT_CASE(test_verdict_cache),
	KUNIT_CASE(test_verdict_cache_hotplug),
	KUNIT_CASE(test_hb_table_flags),
	KUNIT_CASE(test_find),
	KUNIT_CASE(test_find_tie_break),
	KUNIT_CASE(test_distance_and_map_type),
	KUNIT_CASE(test_client_below_pci),
	{}
};

static struct kunit_suite topology_suite = {
	.name = "p2pmem_topology",
	.init = topology_init,
	.exit = topology_exit,
	.test_cases = topology_cases,
};

/* ---- overrides -------------------------------------------------------- */

static void expect_overrides(struct kunit *test, const char *want)
{
	char buf[512];

	p2pmem_override_show(buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf, want);
}

static void test_override_roundtrip(struct kunit *test)
{
	static const char in[] =
		"0000:00:1C.0=host; pci0000:00=none ;0000:01:00.0,0000:02:00.0=host\n";
	static const char out[] =
		"0000:00:1c.0=host;pci0000:00=none;0000:01:00.0,0000:02:00.0=host\n";

	KUNIT_EXPECT_EQ(test, p2pmem_override_set(in), 0);
	expect_overrides(test, out);
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(""), 0);
	expect_overrides(test, "\n");
}

static void test_override_rejects(struct kunit *test)
{
	static const char * const bad[] = {
		"0000:00:1c.0",			/* no route */
		"0000:00:1c.0=maybe",		/* unknown route */
		"0000:00:1c.0=bus",		/* bus is never forced */
		"00:1c.0=host",			/* no domain */
		"0000:00:20.0=host",		/* slot out of range */
		"0000:00:1c.8=host",		/* function out of range */
		"0000:00:1c.0x=host",		/* trailing junk */
		"pci0000=host",			/* bad host bridge name */
		"pci0000:00,0000:01:00.0=host",	/* host bridge in a pair */
		"0000:01:00.0,=none",		/* half a pair */
		"=host",
		"0000:00:1c.0=host;garbage",	/* one bad entry spoils all */
		"0000: 0:1c.0=none",		/* spaces inside a name */
		"0x00:00:1c.0=none",		/* 0x prefix */
		"0000:00:1c.0 ,0000:01:00.0=none",
	};
	int i;

	KUNIT_ASSERT_EQ(test, p2pmem_override_set("0000:00:02.0=none"), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, p2pmem_override_set(bad[i]), -EINVAL,
				    "accepted '%s'", bad[i]);
		expect_overrides(test, "0000:00:02.0=none\n");
	}
	p2pmem_override_set("");
}

static void test_override_too_many(struct kunit *test)
{
	char *buf = kunit_kzalloc(test, 1024, GFP_KERNEL);
	int i, n = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < 17; i++)
		n += scnprintf(buf + n, 1024 - n, "0000:00:%02x.0=none;", i);
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(buf), -EINVAL);
	expect_overrides(test, "\n");
	/* Sixteen is fine. */
	buf[strlen(buf) - strlen("0000:00:10.0=none;")] = '\0';
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(buf), 0);
	p2pmem_override_set("");
}

static struct kunit_case override_cases[] = {
	KUNIT_CASE(test_override_roundtrip),
	KUNIT_CASE(test_override_rejects),
	KUNIT_CASE(test_override_too_many),
	{}
};

static struct kunit_suite override_suite = {
	.name = "p2pmem_override",
	.init = topology_init,
	.exit = topology_exit,
	.test_cases = override_cases,
};

/* ---- DMA shim and guard ------------------------------------------------ */

/*
 * A counting layer stacked between a device's original operations and the
 * shim, so tests see exactly which calls reach the original operations.
 */
static const struct dma_map_ops *count_ops;	/* made once, kept */
static const struct dma_map_ops *count_base;
static struct pci_dev *count_dev;
static atomic_t n_map_sg, n_unmap_sg, n_map_page, n_unmap_page;
static atomic_t n_sync_sg, n_sync_single;

static int count_map_sg(struct device *dev, struct scatterlist *sg, int n,
			enum dma_data_direction dir, unsigned long attrs)
{
	atomic_inc(&n_map_sg);
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
	return count_base->map_page(dev, page, off, size, dir, attrs);
}

static void count_unmap_page(struct device *dev, dma_addr_t addr,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs)
{
	atomic_inc(&n_unmap_page);
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
	if (count_base->sync_single_for_cpu)
		count_base->sync_single_for_cpu(dev, addr, size, dir);
}

static void count_reset(void)
{
	atomic_set(&n_map_sg, 0);
	atomic_set(&n_unmap_sg, 0);
	atomic_set(&n_map_page, 0);
	atomic_set(&n_unmap_page, 0);
	atomic_set(&n_sync_sg, 0);
	atomic_set(&n_sync_single, 0);
}

/* Stack the counting layer under the shim of @pdev. */
static void count_stack(struct kunit *test, struct pci_dev *pdev)
{
	const struct dma_map_ops *base;
	struct p2pmem_shim *shim;

	KUNIT_ASSERT_NOT_NULL(test, p2pmem_dma_shim_of(&pdev->dev));
	base = p2pmem_dma_orig_ops(&pdev->dev);
	if (!count_ops) {
		const struct dma_map_ops ops = {
			.alloc = base->alloc,
			.free = base->free,
			.map_resource = base->map_resource,
			.unmap_resource = base->unmap_resource,
			.sync_single_for_device = base->sync_single_for_device,
			.sync_sg_for_device = base->sync_sg_for_device,
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
		count_ops = kmemdup(&ops, sizeof(ops), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, count_ops);
	}
	/* One VM has one DMA backend: every stacked device shares it. */
	KUNIT_ASSERT_PTR_EQ(test, base, count_base);

	mutex_lock(&p2pmem_lock);
	p2pmem_dma_restore(pdev);
	set_dma_ops(&pdev->dev, count_ops);
	p2pmem_dma_inject(pdev);
	shim = p2pmem_dma_shim_of(&pdev->dev);
	/* Behave as the shim over the real operations would. */
	if (shim)
		shim->runs = count_base == &dma_direct_ops;
	count_dev = pdev;
	mutex_unlock(&p2pmem_lock);
	KUNIT_ASSERT_NOT_NULL(test, shim);
	KUNIT_ASSERT_PTR_EQ(test, p2pmem_dma_orig_ops(&pdev->dev),
			    count_ops);
	count_reset();
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

	if (ops == count_ops)
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

	find_topology();
	p2pmem_override_set("");
	fix = kunit_kzalloc(test, sizeof(*fix), GFP_KERNEL);
	if (!fix)
		return -ENOMEM;
	for (i = 0; i < DMA_MAX_ENTS; i++) {
		fix->host[i] = alloc_page(GFP_KERNEL);
		if (!fix->host[i])
			return -ENOMEM;
	}
	if (topo.cmb)
		fix->p2p = p2pmem_alloc(topo.cmb, DMA_MAX_ENTS * PAGE_SIZE);
	return 0;
}

static void dma_exit(struct kunit *test)
{
	int i;

	count_unstack();
	p2pmem_override_set("");
	/* Providers a failed case may have left registered. */
	if (topo.shm_sw)
		remove_if_provider(topo.shm_sw);
	if (topo.shm_pxb)
		remove_if_provider(topo.shm_pxb);
	if (fix->p2p)
		p2pmem_free(topo.cmb, fix->p2p, DMA_MAX_ENTS * PAGE_SIZE);
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

	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(topo.cmb, va, &bus), 0);
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

static void test_dma_injected(struct kunit *test)
{
	struct iommu_domain *dom;

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, rp_nvme);
	NEED(test, shm_pxb);
	/* The CMB makes host bridge 0 a provider's: all its devices. */
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&topo.cmb->dev));
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&topo.plain->dev));
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&topo.rp_nvme->dev));
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&topo.upstream->dev));
	/* The second host bridge has no provider. */
	KUNIT_EXPECT_NULL(test, p2pmem_dma_shim_of(&topo.shm_pxb->dev));
	/* Stacked on what the device had: an IOMMU's or dma-direct's. */
	dom = iommu_get_domain_for_dev(&topo.plain->dev);
	KUNIT_EXPECT_EQ(test, on_iommu(topo.plain),
			dom && iommu_is_dma_domain(dom));
	/* Host runs of mixed lists go in one map_sg only on dma-direct. */
	KUNIT_EXPECT_EQ(test, p2pmem_dma_shim_of(&topo.plain->dev)->runs,
			!on_iommu(topo.plain));
	KUNIT_EXPECT_TRUE(test, static_key_enabled(&p2pmem_dma_guard_key));
}

static void test_dma_bus_route(struct kunit *test)
{
	struct scatterlist *sg;
	int i;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack(test, topo.plain);
	dma_sgl(test, "PPPP");
	KUNIT_ASSERT_EQ(test, dma_map_sg(&topo.plain->dev, fix->sg, 4,
					 DMA_TO_DEVICE), 4);
	dma_check_segments(test, topo.plain);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	dma_unmap_sg(&topo.plain->dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 0);
	for_each_sg(fix->sg, sg, 4, i)
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(sg));
}

static void test_dma_host_only(struct kunit *test)
{
	int n;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack(test, topo.plain);
	dma_sgl(test, "HHHHHHHH");
	n = dma_map_sg(&topo.plain->dev, fix->sg, 8, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, n, 0);
	/* One call of the original map_sg, with the sgl unchanged. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, dma_target(topo.plain, sg_dma_address(fix->sg)),
			page_to_phys(fix->host[0]) + 256);
	dma_unmap_sg(&topo.plain->dev, fix->sg, 8, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);
}

static void dma_mixed(struct kunit *test, const char *pattern)
{
	int nh = count_char(pattern, 'H'), runs = host_runs(pattern);
	int n = strlen(pattern), i;
	dma_addr_t old[DMA_MAX_ENTS];
	bool iommu;

	NEED(test, cmb);
	NEED(test, plain);
	count_stack(test, topo.plain);
	iommu = on_iommu(topo.plain);
	dma_sgl(test, pattern);
	KUNIT_ASSERT_EQ(test, dma_map_sg(&topo.plain->dev, fix->sg, n,
					 DMA_BIDIRECTIONAL), n);
	dma_check_segments(test, topo.plain);
	/* dma-direct: one map_sg per host run; an IOMMU: map_page per entry. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), iommu ? 0 : runs);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), iommu ? nh : 0);
	kunit_info(test, "%s on %s: %d calls of the original ops to map\n",
		   pattern, iommu ? "intel-iommu" : "dma-direct",
		   atomic_read(&n_map_sg) + atomic_read(&n_map_page));

	dma_sync_sg_for_cpu(&topo.plain->dev, fix->sg, n, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_sg), iommu ? 0 : runs);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), iommu ? nh : 0);

	for (i = 0; i < n; i++)
		old[i] = sg_dma_address(&fix->sg[i]);
	dma_unmap_sg(&topo.plain->dev, fix->sg, n, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), iommu ? 0 : runs);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), iommu ? nh : 0);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(&fix->sg[i]));
		/* Nothing of it is left in the IOMMU. */
		if (iommu && !fix->is_p2p[i])
			KUNIT_EXPECT_EQ_MSG(test, dma_target(topo.plain, old[i]),
					    (phys_addr_t)0, "entry %d", i);
	}
}

static void test_dma_mixed_alternating(struct kunit *test)
{
	dma_mixed(test, "HPHPHPHP");
}

static void test_dma_mixed_runs(struct kunit *test)
{
	dma_mixed(test, "HHPPHHHP");
}

static void test_dma_thru_host_bridge(struct kunit *test)
{
	struct scatterlist *sg;
	char ov[64];
	int i, n;

	NEED(test, cmb);
	NEED(test, plain);
	snprintf(ov, sizeof(ov), "%s,%s=host", pci_name(topo.cmb),
		 pci_name(topo.plain));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	count_stack(test, topo.plain);
	dma_sgl(test, "PHPP");
	n = dma_map_sg(&topo.plain->dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, n, 0);
	/* No bus address entry: the original ops map it all, once. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg), 1);
	for_each_sg(fix->sg, sg, n, i)
		KUNIT_EXPECT_FALSE(test, sg_is_dma_bus_address(sg));
	/* The BAR is reached at its CPU address, or through the IOMMU. */
	KUNIT_EXPECT_EQ(test, dma_target(topo.plain, sg_dma_address(fix->sg)),
			virt_to_phys(fix->p2p) + 256);
	if (on_iommu(topo.plain))
		KUNIT_EXPECT_NE(test, sg_dma_address(fix->sg),
				cmb_bus(test, 0) + 256);
	dma_unmap_sg(&topo.plain->dev, fix->sg, 4, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_sg), 1);
}

static void test_dma_not_supported(struct kunit *test)
{
	struct p2pmem_provider *prov;
	struct sg_table sgt;
	long refused;

	NEED(test, cmb);
	NEED(test, rp_nvme);
	prov = prov_of(topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	count_stack(test, topo.rp_nvme);
	dma_sgl(test, "HHPH");
	refused = atomic_long_read(&prov->stats.refused);
	sgt.sgl = fix->sg;
	sgt.orig_nents = 4;
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(&topo.rp_nvme->dev, &sgt,
					      DMA_TO_DEVICE, 0), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, dma_map_sg(&topo.rp_nvme->dev, fix->sg, 4,
					 DMA_TO_DEVICE), 0);
	/* Refused before anything was mapped. */
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_sg) +
			atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, dma_map_page(&topo.rp_nvme->dev,
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
	count_stack(test, topo.plain);
	dma_sgl(test, "P");
	addr = dma_map_page(&topo.plain->dev, virt_to_page(fix->p2p), 512,
			    1024, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, addr, cmb_bus(test, 0) + 512);
	dma_sync_single_for_cpu(&topo.plain->dev, addr, 1024,
				DMA_FROM_DEVICE);
	dma_unmap_page(&topo.plain->dev, addr, 1024, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_map_page), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_unmap_page), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&n_sync_single), 0);

	addr = dma_map_page(&topo.plain->dev, fix->host[0], 0, PAGE_SIZE,
			    DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(&topo.plain->dev, addr));
	KUNIT_EXPECT_EQ(test, dma_target(topo.plain, addr),
			page_to_phys(fix->host[0]));
	dma_unmap_page(&topo.plain->dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
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
	addr = dma_map_resource(&topo.plain->dev, phys, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, addr, cmb_bus(test, 0));
	dma_unmap_resource(&topo.plain->dev, addr, PAGE_SIZE, DMA_TO_DEVICE,
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
	remove_if_provider(topo.shm_sw);
	hb = pci_find_host_bridge(topo.shm_sw->bus);
	resource_list_for_each_entry(win, &hb->windows)
		if (resource_contains(win->res, &topo.shm_sw->resource[SHM_BAR]))
			hit = win;
	KUNIT_ASSERT_NOT_NULL(test, hit);
	hit->offset = fake;
	ret = p2pmem_add_resource(topo.shm_sw, SHM_BAR, 0, 0);
	hit->offset = 0;
	KUNIT_ASSERT_EQ(test, ret, 0);

	va = p2pmem_alloc(topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], va, 128);
	sg_set_page(&sg[1], fix->host[0], 64, 0);
	KUNIT_ASSERT_EQ(test, dma_map_sg(&topo.plain->dev, sg, 2,
					 DMA_TO_DEVICE), 2);
	KUNIT_EXPECT_EQ(test, sg_dma_address(&sg[0]),
			(dma_addr_t)(virt_to_phys(va) - fake));
	dma_unmap_sg(&topo.plain->dev, sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_map_page(&topo.plain->dev,
					   virt_to_page(va + PAGE_SIZE), 8, 8,
					   DMA_TO_DEVICE),
			(dma_addr_t)(virt_to_phys(va + PAGE_SIZE) + 8 - fake));
	dma_unmap_page(&topo.plain->dev,
		       virt_to_phys(va + PAGE_SIZE) + 8 - fake, 8,
		       DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_map_resource(&topo.plain->dev,
					       virt_to_phys(va), PAGE_SIZE,
					       DMA_TO_DEVICE, 0),
			(dma_addr_t)(virt_to_phys(va) - fake));
	p2pmem_free(topo.shm_sw, va, 2 * PAGE_SIZE);
	remove_if_provider(topo.shm_sw);
}

static void test_dma_guard_other_host_bridge(struct kunit *test)
{
	struct p2pmem_provider *prov;
	struct sg_table sgt;
	long refused;

	NEED(test, cmb);
	NEED(test, shm_pxb);
	prov = prov_of(topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_ASSERT_NULL(test, p2pmem_dma_shim_of(&topo.shm_pxb->dev));
	refused = atomic_long_read(&prov->stats.refused);
	dma_sgl(test, "HP");
	sgt.sgl = fix->sg;
	sgt.orig_nents = 2;
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(&topo.shm_pxb->dev, &sgt,
					      DMA_TO_DEVICE, 0), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, dma_map_page(&topo.shm_pxb->dev,
					   virt_to_page(fix->p2p), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.refused),
			refused + 2);
	/* Host memory is not the guard's business. */
	dma_sgl(test, "H");
	sgt.orig_nents = 1;
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(&topo.shm_pxb->dev, &sgt,
					      DMA_TO_DEVICE, 0), 0);
	dma_unmap_sgtable(&topo.shm_pxb->dev, &sgt, DMA_TO_DEVICE, 0);
}

static void test_dma_guard_no_shim(struct kunit *test)
{
	struct p2pmem_provider *prov;
	char ov[64];

	NEED(test, cmb);
	NEED(test, plain);
	prov = prov_of(topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	/* As if something replaced the device's operations. */
	mutex_lock(&p2pmem_lock);
	p2pmem_dma_restore(topo.plain);
	mutex_unlock(&p2pmem_lock);
	dma_sgl(test, "P");
	KUNIT_EXPECT_EQ(test, dma_map_sg(&topo.plain->dev, fix->sg, 1,
					 DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_map_page(&topo.plain->dev,
					   virt_to_page(fix->p2p), 0,
					   PAGE_SIZE, DMA_TO_DEVICE),
			DMA_MAPPING_ERROR);
	/* The host bridge route needs no shim: the device's ops map it. */
	snprintf(ov, sizeof(ov), "%s,%s=host", pci_name(topo.cmb),
		 pci_name(topo.plain));
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(ov), 0);
	KUNIT_EXPECT_GT(test, dma_map_sg(&topo.plain->dev, fix->sg, 1,
					 DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_target(topo.plain, sg_dma_address(fix->sg)),
			virt_to_phys(fix->p2p) + 256);
	dma_unmap_sg(&topo.plain->dev, fix->sg, 1, DMA_TO_DEVICE);
	p2pmem_override_set("");
	mutex_lock(&p2pmem_lock);
	p2pmem_dma_inject(topo.plain);
	mutex_unlock(&p2pmem_lock);
	KUNIT_EXPECT_EQ(test, dma_map_sg(&topo.plain->dev, fix->sg, 1,
					 DMA_TO_DEVICE), 1);
	dma_unmap_sg(&topo.plain->dev, fix->sg, 1, DMA_TO_DEVICE);
}

/*
 * The DMA API may be called with interrupts off: a verdict computed there
 * (the cache was just dropped) must not sleep or turn them back on.
 */
static void test_dma_atomic_context(struct kunit *test)
{
	unsigned long flags;
	int bus_ok, refused;

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, rp_nvme);
	dma_sgl(test, "PH");
	p2pmem_verdicts_invalidate();
	local_irq_save(flags);
	bus_ok = dma_map_sg(&topo.plain->dev, fix->sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, irqs_disabled());
	if (bus_ok)
		dma_unmap_sg(&topo.plain->dev, fix->sg, 2, DMA_TO_DEVICE);
	refused = dma_map_sg(&topo.rp_nvme->dev, fix->sg, 2, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, irqs_disabled());
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, bus_ok, 2);
	KUNIT_EXPECT_EQ(test, refused, 0);
}

/* Unbind, let "the IOMMU" reset the ops, bind again: the shim is back. */
static void test_dma_rebind(struct kunit *test)
{
	struct device *dev;
	const struct dma_map_ops *orig;

	NEED(test, rp_nvme);
	dev = &topo.rp_nvme->dev;
	KUNIT_ASSERT_NOT_NULL(test, dev->driver);
	orig = p2pmem_dma_orig_ops(dev);
	device_release_driver(dev);
	KUNIT_EXPECT_NULL(test, dev->driver);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(dev));
	set_dma_ops(dev, orig == &dma_direct_ops ? NULL : orig);
	KUNIT_EXPECT_EQ(test, device_attach(dev), 1);
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
	bus = topo.mf1->bus;
	devfn = topo.mf1->devfn;
	pci_lock_rescan_remove();
	pci_stop_and_remove_bus_device(topo.mf1);
	topo.mf1 = NULL;
	pci_rescan_bus(bus);
	pci_unlock_rescan_remove();
	pdev = pci_get_slot(bus, devfn);
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	topo.mf1 = pdev;
	pci_dev_put(pdev);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&pdev->dev));
}

/* The last provider of a host bridge takes the shim away again. */
static void test_dma_restore_on_removal(struct kunit *test)
{
	const struct dma_map_ops *before;
	struct pci_dev *port;

	NEED(test, shm_pxb);
	remove_if_provider(topo.shm_pxb);
	before = get_dma_ops(&topo.shm_pxb->dev);
	KUNIT_ASSERT_NULL(test, p2pmem_dma_shim_of(&topo.shm_pxb->dev));
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(topo.shm_pxb, SHM_BAR, 0, 0),
			0);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&topo.shm_pxb->dev));
	port = pci_upstream_bridge(topo.shm_pxb);
	KUNIT_EXPECT_NOT_NULL(test, p2pmem_dma_shim_of(&port->dev));
	remove_if_provider(topo.shm_pxb);
	KUNIT_EXPECT_NULL(test, p2pmem_dma_shim_of(&topo.shm_pxb->dev));
	KUNIT_EXPECT_PTR_EQ(test, get_dma_ops(&topo.shm_pxb->dev), before);
}

static struct kunit_case dma_cases[] = {
	KUNIT_CASE(test_dma_injected),
	KUNIT_CASE(test_dma_bus_route),
	KUNIT_CASE(test_dma_host_only),
	KUNIT_CASE(test_dma_mixed_alternating),
	KUNIT_CASE(test_dma_mixed_runs),
	KUNIT_CASE(test_dma_thru_host_bridge),
	KUNIT_CASE(test_dma_not_supported),
	KUNIT_CASE(test_dma_map_page),
	KUNIT_CASE(test_dma_map_resource),
	KUNIT_CASE(test_dma_bus_offset),
	KUNIT_CASE(test_dma_guard_other_host_bridge),
	KUNIT_CASE(test_dma_guard_no_shim),
	KUNIT_CASE(test_dma_atomic_context),
	KUNIT_CASE(test_dma_rebind),
	KUNIT_CASE(test_dma_hot_add),
	KUNIT_CASE(test_dma_restore_on_removal),
	{}
};

static struct kunit_suite dma_suite = {
	.name = "p2pmem_dma",
	.init = dma_init,
	.exit = dma_exit,
	.test_cases = dma_cases,
};

kunit_test_suites(&register_suite, &alloc_suite, &remove_suite,
		  &topology_suite, &override_suite, &dma_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for p2pmem");
