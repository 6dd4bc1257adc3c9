// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the p2pmem provider core (core.c, and the sysfs files it
 * creates): registering BARs and parts of them, the bus address a host
 * bridge window's offset gives, allocation and freeing of memory and
 * scatterlists, publication, and removal of a provider while memory is
 * still allocated. They use the ivshmem-plain BAR below the switch, which
 * no driver claims.
 */
#include <kunit/test.h>
#include <linux/kernfs.h>
#include <linux/kthread.h>
#include <linux/pci-p2pdma.h>
#include <linux/resource_ext.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pmem_kunit.h"

/* ---- registration ---------------------------------------------------- */

static int register_init(struct kunit *test)
{
	p2pmem_kunit_find_topology();
	if (p2pmem_kunit_topo.shm_sw)
		p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	return 0;
}

static void register_exit(struct kunit *test)
{
	if (p2pmem_kunit_topo.shm_sw)
		p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
}

static void test_register_whole_bar(struct kunit *test)
{
	struct kernfs_node *link, *group;
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0), 0);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, gen_pool_size(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_FALSE(test, prov->published);
	KUNIT_EXPECT_TRUE(test, device_is_registered(&prov->dev));
	KUNIT_EXPECT_TRUE(test, prov->sysfs_done);
	link = kernfs_find_and_get(prov->dev.kobj.sd, "device");
	KUNIT_EXPECT_NOT_NULL(test, link);
	kernfs_put(link);
	group = kernfs_find_and_get(p2pmem_kunit_topo.shm_sw->dev.kobj.sd, "p2pmem");
	KUNIT_EXPECT_NOT_NULL(test, group);
	kernfs_put(group);
}

static void test_register_two_halves(struct kunit *test)
{
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR,
						  SHM_SIZE / 2, 0), 0);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR,
						  SHM_SIZE / 2, SHM_SIZE / 2), 0);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, gen_pool_size(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&prov->ranges), 2);
}

static void test_register_overlap(struct kunit *test)
{
	struct p2pmem_provider *prov;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR,
						  SHM_SIZE / 2, 0), 0);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0),
			-EBUSY);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, gen_pool_size(prov->pool), (size_t)SHM_SIZE / 2);
}

static void test_register_bad_bar(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, -1, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, PCI_STD_NUM_BARS,
						  0, 0), -EINVAL);
	/* BAR 1 of ivshmem-plain is not implemented. */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, 1, 0, 0), -EINVAL);
	/* BAR 0 is 256 bytes of registers: too small to map as pages. */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(NULL, SHM_BAR, 0, 0), -EINVAL);
	KUNIT_EXPECT_FALSE(test, p2pmem_kunit_is_provider(p2pmem_kunit_topo.shm_sw));
}

static void test_register_bad_range(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0,
						  SHM_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR,
						  SHM_SIZE * 2, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR,
						  SZ_2M, SHM_SIZE - SZ_1M), -EINVAL);
	/* Not aligned to memremap_compat_align(). */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, SZ_2M,
						  PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR,
						  SZ_2M + PAGE_SIZE, 0), -EINVAL);
	KUNIT_EXPECT_FALSE(test, p2pmem_kunit_is_provider(p2pmem_kunit_topo.shm_sw));
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
	hb = pci_find_host_bridge(p2pmem_kunit_topo.shm_sw->bus);
	resource_list_for_each_entry(win, &hb->windows)
		if (resource_contains(win->res, &p2pmem_kunit_topo.shm_sw->resource[SHM_BAR]))
			hit = win;
	KUNIT_ASSERT_NOT_NULL(test, hit);
	KUNIT_ASSERT_EQ(test, hit->offset, (resource_size_t)0);

	hit->offset = fake;
	ret = p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0);
	hit->offset = 0;
	KUNIT_ASSERT_EQ(test, ret, 0);

	start = pci_resource_start(p2pmem_kunit_topo.shm_sw, SHM_BAR);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(p2pmem_kunit_topo.shm_sw, va, &bus), 0);
	KUNIT_EXPECT_EQ(test, bus, (pci_bus_addr_t)(virt_to_phys(va) - fake));
	KUNIT_EXPECT_EQ(test, bus - (pci_bus_addr_t)(start - fake),
			(pci_bus_addr_t)(virt_to_phys(va) - start));
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, PAGE_SIZE);
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
	p2pmem_kunit_find_topology();
	alloc_prov = NULL;
	if (!p2pmem_kunit_topo.shm_sw)
		return 0;
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	if (p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0))
		return -EIO;
	alloc_prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	return 0;
}

static void alloc_exit(struct kunit *test)
{
	if (p2pmem_kunit_topo.shm_sw)
		p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	alloc_prov = NULL;
}

#define STAT(name) atomic_long_read(&alloc_prov->stats.name)

static void test_alloc_basic(struct kunit *test)
{
	pci_bus_addr_t bus;
	void *va;

	NEED(test, shm_sw);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(va));
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool),
			(size_t)SHM_SIZE - PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(allocs), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, p2pmem_is_p2p_page(virt_to_page(va)));
	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(p2pmem_kunit_topo.shm_sw, va, &bus), 0);
	KUNIT_EXPECT_EQ(test, bus, pci_bus_address(p2pmem_kunit_topo.shm_sw, SHM_BAR) +
			(virt_to_phys(va) - pci_resource_start(p2pmem_kunit_topo.shm_sw, SHM_BAR)));
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(frees), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
}

static void test_alloc_cpu_access(struct kunit *test)
{
	u32 *va;
	int i, bad = 0;

	NEED(test, shm_sw);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, SZ_64K);
	KUNIT_ASSERT_NOT_NULL(test, va);
	for (i = 0; i < SZ_64K / 4; i++)
		WRITE_ONCE(va[i], 0x5a5a0000 ^ i);
	for (i = 0; i < SZ_64K / 4; i++)
		bad += READ_ONCE(va[i]) != (0x5a5a0000 ^ i);
	KUNIT_EXPECT_EQ(test, bad, 0);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, SZ_64K);
}

static void test_alloc_zero(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 0));
	KUNIT_EXPECT_EQ(test, STAT(allocs), 0L);
	KUNIT_EXPECT_EQ(test, STAT(failed), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_alloc_oversize(struct kunit *test)
{
	NEED(test, shm_sw);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(p2pmem_kunit_topo.shm_sw, SHM_SIZE + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, STAT(failed), 1L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_alloc_not_provider(struct kunit *test)
{
	NEED(test, shm_sw);
	NEED(test, plain);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(p2pmem_kunit_topo.plain, PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(NULL, PAGE_SIZE));
}

static void test_alloc_exhaustion(struct kunit *test)
{
	void *va[SHM_SIZE / SZ_1M + 1];
	int i, n = 0;

	NEED(test, shm_sw);
	for (i = 0; i < ARRAY_SIZE(va); i++) {
		va[i] = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, SZ_1M);
		if (va[i])
			n++;
	}
	KUNIT_EXPECT_EQ(test, n, SHM_SIZE / SZ_1M);
	KUNIT_EXPECT_NULL(test, va[ARRAY_SIZE(va) - 1]);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)0);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, STAT(failed), 2L);
	for (i = 0; i < ARRAY_SIZE(va); i++)
		if (va[i])
			p2pmem_free(p2pmem_kunit_topo.shm_sw, va[i], SZ_1M);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(high_water), (long)SHM_SIZE);
}

static void test_alloc_rounds_to_pages(struct kunit *test)
{
	void *a, *b;

	NEED(test, shm_sw);
	a = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 1);
	b = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE + 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool),
			(size_t)SHM_SIZE - 3 * PAGE_SIZE);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, a, 1);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, b, PAGE_SIZE + 1);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
}

static void test_alloc_alignment_disjoint(struct kunit *test)
{
	static const size_t sizes[] = { 1, 4096, 12288, 65536, 8192, 3 };
	unsigned long va[ARRAY_SIZE(sizes)];
	int i, j;

	NEED(test, shm_sw);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		va[i] = (unsigned long)p2pmem_alloc(p2pmem_kunit_topo.shm_sw, sizes[i]);
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
		p2pmem_free(p2pmem_kunit_topo.shm_sw, (void *)va[i], sizes[i]);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_free_misuse(struct kunit *test)
{
	void *va, *heap;

	NEED(test, shm_sw);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	heap = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);

	/* None of these may change anything. */
	p2pmem_free(p2pmem_kunit_topo.shm_sw, heap, PAGE_SIZE);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va + 16, PAGE_SIZE);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va + PAGE_SIZE, PAGE_SIZE);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, NULL, PAGE_SIZE);
	if (p2pmem_kunit_topo.plain)
		p2pmem_free(p2pmem_kunit_topo.plain, va, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(frees), 0L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)PAGE_SIZE);

	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, PAGE_SIZE);
	/* A double free is refused too. */
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, PAGE_SIZE);
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
	KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(p2pmem_kunit_topo.shm_sw, heap, &bus), -EINVAL);
	KUNIT_EXPECT_EQ(test, bus, (pci_bus_addr_t)0x1234);
	if (p2pmem_kunit_topo.plain)
		KUNIT_EXPECT_EQ(test, p2pmem_virt_to_bus(p2pmem_kunit_topo.plain, heap, &bus),
				-EINVAL);
	KUNIT_EXPECT_FALSE(test, p2pmem_is_p2p_page(virt_to_page(heap)));
}

static void test_sgl_basic(struct kunit *test)
{
	struct scatterlist *sgl;
	unsigned int nents = 0;

	NEED(test, shm_sw);
	sgl = p2pmem_alloc_sgl(p2pmem_kunit_topo.shm_sw, 3 * PAGE_SIZE + 100, &nents);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_EQ(test, nents, 1U);
	KUNIT_EXPECT_EQ(test, sgl->length, 3 * PAGE_SIZE + 100);
	KUNIT_EXPECT_EQ(test, sgl->offset, 0U);
	KUNIT_EXPECT_TRUE(test, sg_is_last(sgl));
	KUNIT_EXPECT_TRUE(test, p2pmem_is_p2p_page(sg_page(sgl)));
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)(4 * PAGE_SIZE));
	p2pmem_free_sgl(p2pmem_kunit_topo.shm_sw, sgl);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(alloc_prov->pool), (size_t)SHM_SIZE);
}

static void test_sgl_bad_args(struct kunit *test)
{
	unsigned int nents = 77;

	NEED(test, shm_sw);
	KUNIT_EXPECT_NULL(test, p2pmem_alloc_sgl(p2pmem_kunit_topo.shm_sw, 0, &nents));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc_sgl(p2pmem_kunit_topo.shm_sw, PAGE_SIZE, NULL));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc_sgl(p2pmem_kunit_topo.shm_sw, SHM_SIZE * 2, &nents));
	KUNIT_EXPECT_EQ(test, nents, 77U);
	p2pmem_free_sgl(p2pmem_kunit_topo.shm_sw, NULL);
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
	a = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE);
	b = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	sg_init_table(sgl, 2);
	sg_set_buf(&sgl[0], a, PAGE_SIZE);
	sg_set_buf(&sgl[1], b, 2 * PAGE_SIZE);
	p2pmem_free_sgl(p2pmem_kunit_topo.shm_sw, sgl);
	KUNIT_EXPECT_EQ(test, STAT(frees), 2L);
	KUNIT_EXPECT_EQ(test, STAT(in_use), 0L);
}

static void test_publish(struct kunit *test)
{
	struct pci_dev *found;

	NEED(test, shm_sw);
	KUNIT_EXPECT_FALSE(test, alloc_prov->published);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(p2pmem_kunit_topo.shm_sw, true), 0);
	KUNIT_EXPECT_TRUE(test, alloc_prov->published);
	found = p2pmem_find_one(&p2pmem_kunit_topo.shm_sw->dev);
	KUNIT_EXPECT_PTR_EQ(test, found, p2pmem_kunit_topo.shm_sw);
	p2pmem_put(found);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(p2pmem_kunit_topo.shm_sw, false), 0);
	KUNIT_EXPECT_FALSE(test, alloc_prov->published);
	found = p2pmem_find_one(&p2pmem_kunit_topo.shm_sw->dev);
	KUNIT_EXPECT_PTR_NE(test, found, p2pmem_kunit_topo.shm_sw);
	p2pmem_put(found);
	if (p2pmem_kunit_topo.plain)
		KUNIT_EXPECT_EQ(test, p2pmem_publish(p2pmem_kunit_topo.plain, true), -ENODEV);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(NULL, true), -ENODEV);
}

/*
 * pci_p2pdma_enable_store(), behind the NVMe-oF target's p2pmem attribute:
 * what it takes, and that a refused value sets nothing.
 */
static void test_setting_parse(struct kunit *test)
{
	struct pci_dev *shm = p2pmem_kunit_topo.shm_sw;
	struct pci_dev *poison = ERR_PTR(-EFAULT), *got;
	char pci[32], cls[32], nul[32], buf[48];
	static const struct {
		const char *val;
		int err;
		bool use;
	} words[] = {
		{ "0", 0, false }, { "n\n", 0, false }, { "off", 0, false },
		{ "1\n", 0, true }, { "y", 0, true }, { "true", 0, true },
		{ "", -EINVAL }, { "\n", -EINVAL }, { "2", -EINVAL },
		{ "1x", -EINVAL }, { " 1", -EINVAL }, { "yes please", -EINVAL },
		{ "auto", -EINVAL }, { "p2pmem", -EINVAL }, { "p2pmem1x", -EINVAL },
		{ "00:03:00:0", -EINVAL }, { "-1", -EINVAL },
		{ "0123456789012345678901234567890123456789", -EINVAL },
		{ "p2pmem4096", -ENODEV }, { "0000:99:1f.7", -ENODEV },
		{ "99:1f.7", -ENODEV },
	};
	bool use;
	int i;

	NEED(test, shm_sw);
	for (i = 0; i < ARRAY_SIZE(words); i++) {
		got = poison;
		use = !words[i].use;
		KUNIT_EXPECT_EQ_MSG(test, pci_p2pdma_enable_store(words[i].val, &got, &use),
				    words[i].err, "'%s'", words[i].val);
		if (words[i].err) {
			KUNIT_EXPECT_PTR_EQ_MSG(test, got, poison, "'%s'", words[i].val);
			KUNIT_EXPECT_NE_MSG(test, use, words[i].use, "'%s'", words[i].val);
		} else {
			KUNIT_EXPECT_NULL_MSG(test, got, "'%s'", words[i].val);
			KUNIT_EXPECT_EQ_MSG(test, use, words[i].use, "'%s'", words[i].val);
		}
	}

	/* A provider by PCI or class name, only once it is published. */
	snprintf(pci, sizeof(pci), "%s\n", pci_name(shm));
	snprintf(cls, sizeof(cls), "%s", dev_name(&alloc_prov->dev));
	got = poison;
	KUNIT_EXPECT_EQ(test, pci_p2pdma_enable_store(pci, &got, &use), -ENODEV);
	KUNIT_EXPECT_EQ(test, pci_p2pdma_enable_store(cls, &got, &use), -ENODEV);
	KUNIT_EXPECT_PTR_EQ(test, got, poison);
	KUNIT_ASSERT_EQ(test, p2pmem_publish(shm, true), 0);
	KUNIT_EXPECT_EQ(test, pci_p2pdma_enable_store(pci, &got, &use), 0);
	KUNIT_EXPECT_PTR_EQ(test, got, shm);
	KUNIT_EXPECT_TRUE(test, use);
	pci_dev_put(got);
	got = NULL;
	use = false;
	KUNIT_EXPECT_EQ(test, pci_p2pdma_enable_store(cls, &got, &use), 0);
	KUNIT_EXPECT_PTR_EQ(test, got, shm);
	KUNIT_EXPECT_TRUE(test, use);
	KUNIT_EXPECT_EQ(test, pci_p2pdma_enable_show(buf, got, use),
			(ssize_t)strlen(pci));
	KUNIT_EXPECT_STREQ(test, buf, pci);
	pci_dev_put(got);
	KUNIT_EXPECT_EQ(test, p2pmem_publish(shm, false), 0);

	/* A PCI device that provides nothing. */
	if (p2pmem_kunit_topo.plain) {
		snprintf(nul, sizeof(nul), "%s", pci_name(p2pmem_kunit_topo.plain));
		got = poison;
		KUNIT_EXPECT_EQ(test, pci_p2pdma_enable_store(nul, &got, &use), -ENODEV);
		KUNIT_EXPECT_PTR_EQ(test, got, poison);
	}
}

static void test_get_put(struct kunit *test)
{
	struct pci_dev *got;
	unsigned int before;

	NEED(test, shm_sw);
	before = kref_read(&p2pmem_kunit_topo.shm_sw->dev.kobj.kref);
	got = p2pmem_get(p2pmem_kunit_topo.shm_sw);
	KUNIT_EXPECT_PTR_EQ(test, got, p2pmem_kunit_topo.shm_sw);
	KUNIT_EXPECT_EQ(test, kref_read(&p2pmem_kunit_topo.shm_sw->dev.kobj.kref), before + 1);
	p2pmem_put(got);
	KUNIT_EXPECT_EQ(test, kref_read(&p2pmem_kunit_topo.shm_sw->dev.kobj.kref), before);
	if (p2pmem_kunit_topo.plain)
		KUNIT_EXPECT_NULL(test, p2pmem_get(p2pmem_kunit_topo.plain));
	KUNIT_EXPECT_NULL(test, p2pmem_get(NULL));
	p2pmem_put(NULL);
}

static void test_high_water(struct kunit *test)
{
	void *va[3];
	int i;

	NEED(test, shm_sw);
	for (i = 0; i < 3; i++)
		va[i] = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE);
	for (i = 0; i < 3; i++)
		p2pmem_free(p2pmem_kunit_topo.shm_sw, va[i], PAGE_SIZE);
	va[0] = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(high_water), (long)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, STAT(in_use), (long)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, STAT(allocs), 4L);
	p2pmem_free(p2pmem_kunit_topo.shm_sw, va[0], PAGE_SIZE);
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
		va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, n * PAGE_SIZE);
		if (!va)
			continue;
		h->allocated++;
		WRITE_ONCE(va[0], (u32)(unsigned long)h);
		WRITE_ONCE(va[n * PAGE_SIZE / 4 - 1], i);
		cond_resched();
		if (READ_ONCE(va[0]) != (u32)(unsigned long)h ||
		    READ_ONCE(va[n * PAGE_SIZE / 4 - 1]) != i)
			h->errors++;
		p2pmem_free(p2pmem_kunit_topo.shm_sw, va, n * PAGE_SIZE);
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
	KUNIT_CASE(test_setting_parse),
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
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0), 0);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	p2pmem_publish(p2pmem_kunit_topo.shm_sw, true);
	p2pmem_remove_provider(prov);
	KUNIT_EXPECT_FALSE(test, p2pmem_kunit_is_provider(p2pmem_kunit_topo.shm_sw));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, p2pmem_publish(p2pmem_kunit_topo.shm_sw, true), -ENODEV);
	/* The BAR can be registered again afterwards. */
	KUNIT_EXPECT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0), 0);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
}

static void test_remove_waits_for_allocations(struct kunit *test)
{
	unsigned int old_warn = p2pmem_remove_warn_ms;
	struct remover r;
	struct task_struct *t;
	void *va;

	NEED(test, shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0), 0);
	r.prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_NOT_NULL(test, r.prov);
	va = p2pmem_alloc(p2pmem_kunit_topo.shm_sw, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);

	p2pmem_remove_warn_ms = 50;
	init_completion(&r.done);
	t = kthread_run(remover_fn, &r, "p2pmem-remover");
	if (IS_ERR(t)) {
		p2pmem_free(p2pmem_kunit_topo.shm_sw, va, 2 * PAGE_SIZE);
		p2pmem_remove_warn_ms = old_warn;
		KUNIT_FAIL(test, "cannot start the remover thread");
		return;
	}

	/* Removal must wait; meanwhile new allocations fail at once. */
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&r.done,
							     msecs_to_jiffies(300)));
	KUNIT_EXPECT_NULL(test, p2pmem_alloc(p2pmem_kunit_topo.shm_sw, PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, r.prov->published);

	p2pmem_free(p2pmem_kunit_topo.shm_sw, va, 2 * PAGE_SIZE);
	if (!wait_for_completion_timeout(&r.done, msecs_to_jiffies(5000))) {
		KUNIT_FAIL(test, "removal did not finish after the last free");
		/* @r is on this stack: never return while the thread uses it. */
		wait_for_completion(&r.done);
	}
	p2pmem_remove_warn_ms = old_warn;
	KUNIT_EXPECT_FALSE(test, p2pmem_kunit_is_provider(p2pmem_kunit_topo.shm_sw));
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

kunit_test_suites(&register_suite, &alloc_suite, &remove_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the p2pmem provider core");
