// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of p2pmem's topology rules (topology.c): the route, distance
 * and reason of provider/client pairs across the switch, root ports, ACS
 * and the second host bridge, the effect of overrides on them, the verdict
 * cache, and p2pmem_find().
 */
#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/string.h>

#include "p2pmem_kunit.h"

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

static void test_verdict_same_function(struct kunit *test)
{
	struct p2pmem_verdict v;

	NEED(test, cmb);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.cmb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, v.distance, 0);
	expect_reason(test, &v, "same PCI function");
}

static void test_verdict_same_switch(struct kunit *test)
{
	struct p2pmem_verdict v;

	NEED(test, cmb);
	NEED(test, plain);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	/* NVMe - downstream port - upstream port, on both sides. */
	KUNIT_EXPECT_EQ(test, v.distance, 4);
	expect_reason(test, &v, pci_name(p2pmem_kunit_topo.upstream));
	expect_reason(test, &v, "no ACS redirect");
	KUNIT_EXPECT_EQ(test, v.flags, 0U);
	/* The verdict is symmetric. */
	verdict(p2pmem_kunit_topo.plain, p2pmem_kunit_topo.cmb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, v.distance, 4);
}

static void test_verdict_root_ports(struct kunit *test)
{
	struct p2pmem_verdict v;

	NEED(test, cmb);
	NEED(test, rp_nvme);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.rp_nvme, &v);
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
	hb = pci_find_host_bridge(p2pmem_kunit_topo.shm_pxb->bus);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.shm_pxb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	expect_reason(test, &v, dev_name(&hb->dev));
	expect_reason(test, &v, "between host bridges");
	verdict(p2pmem_kunit_topo.shm_pxb, p2pmem_kunit_topo.cmb, &v);
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
	port = pci_upstream_bridge(p2pmem_kunit_topo.mf0);
	pos = pci_find_ext_capability(port, PCI_EXT_CAP_ID_ACS);
	if (!pos)
		kunit_skip(test, "%s has no ACS capability", pci_name(port));

	/* An IOMMU may have enabled redirection; start from none. */
	pci_read_config_word(port, pos + PCI_ACS_CTRL, &saved);
	ctrl = saved & ~(PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl);

	verdict(p2pmem_kunit_topo.mf0, p2pmem_kunit_topo.mf1, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, v.distance, 2);
	expect_reason(test, &v, pci_name(port));

	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl | PCI_ACS_RR);
	verdict(p2pmem_kunit_topo.mf0, p2pmem_kunit_topo.mf1, &v);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	expect_reason(test, &v, "ACS P2P Request Redirect");
	expect_reason(test, &v, pci_name(port));
	expect_reason(test, &v, "8086:29c0");

	/* With the host bridge forced to route, the redirect is usable. */
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl | PCI_ACS_RR);
	KUNIT_EXPECT_EQ(test, p2pmem_override_set("pci0000:00=host"), 0);
	verdict(p2pmem_kunit_topo.mf1, p2pmem_kunit_topo.mf0, &v);
	pci_write_config_word(port, pos + PCI_ACS_CTRL, ctrl);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	expect_reason(test, &v, "ACS P2P Request Redirect");

	verdict(p2pmem_kunit_topo.mf0, p2pmem_kunit_topo.mf1, &v);
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
	hb = pci_find_host_bridge(p2pmem_kunit_topo.cmb->bus);
	snprintf(ov, sizeof(ov), "%s=host", dev_name(&hb->dev));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.rp_nvme, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	KUNIT_EXPECT_TRUE(test, v.flags & P2PMEM_VF_OVERRIDE);
	KUNIT_EXPECT_GT(test, v.distance, P2PMEM_HOST_BRIDGE_PENALTY);
	expect_reason(test, &v, "override");
	/* A switch-local pair is not affected by the host bridge's entry. */
	if (p2pmem_kunit_topo.plain) {
		verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	}
}

static void test_verdict_override_switch(struct kunit *test)
{
	struct p2pmem_verdict v;
	char ov[32];

	NEED(test, cmb);
	NEED(test, plain);
	snprintf(ov, sizeof(ov), "%s=host", pci_name(p2pmem_kunit_topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	expect_reason(test, &v, pci_name(p2pmem_kunit_topo.upstream));
	expect_reason(test, &v, "override");

	snprintf(ov, sizeof(ov), "%s=none", pci_name(p2pmem_kunit_topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
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
	snprintf(ov, sizeof(ov), "%s,%s=none", pci_name(p2pmem_kunit_topo.plain),
		 pci_name(p2pmem_kunit_topo.cmb));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	KUNIT_EXPECT_TRUE(test, v.flags & P2PMEM_VF_OVERRIDE);
	expect_reason(test, &v, "pair forced");
	if (p2pmem_kunit_topo.shm_sw) {
		verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.shm_sw, &v);
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	}
}

/* Is @pdev's DMA translated by an IOMMU (not an identity domain)? */
static bool translated(struct pci_dev *pdev)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(&pdev->dev);

	return dom && dom->type != IOMMU_DOMAIN_IDENTITY;
}

/*
 * Under a hypervisor, with the client's DMA translated by an IOMMU, the
 * switch is not trusted: on this machine (q35's host bridge is not known
 * to route) the pair is refused, saying why. Without the IOMMU (the
 * dma-direct run) the same pair takes the bus address route.
 */
static void test_verdict_vm_iommu(struct kunit *test)
{
	struct p2pmem_verdict v;
	char want[80];

	NEED(test, cmb);
	NEED(test, plain);
	WRITE_ONCE(p2pmem_assume_bare_metal, false);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	kunit_info(test, "hypervisor %d, IOMMU translates %s: %d; %s\n",
		   p2pmem_in_vm(), pci_name(p2pmem_kunit_topo.plain),
		   translated(p2pmem_kunit_topo.plain), v.reason);
	if (p2pmem_in_vm() && translated(p2pmem_kunit_topo.plain)) {
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
		snprintf(want, sizeof(want),
			 "under a hypervisor, with an IOMMU translating %s",
			 pci_name(p2pmem_kunit_topo.plain));
		expect_reason(test, &v, want);
		expect_reason(test, &v, "not known to route");
	} else {
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
		expect_reason(test, &v, "no ACS redirect");
	}
	/* The provider reaching its own memory is never affected. */
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.cmb, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	WRITE_ONCE(p2pmem_assume_bare_metal, true);
}

/* "bus" forces the bus address route for a pair or below a bridge. */
static void test_verdict_override_bus(struct kunit *test)
{
	struct p2pmem_verdict v;
	char ov[64];

	NEED(test, cmb);
	NEED(test, plain);
	NEED(test, upstream);
	WRITE_ONCE(p2pmem_assume_bare_metal, false);
	snprintf(ov, sizeof(ov), "%s,%s=bus", pci_name(p2pmem_kunit_topo.cmb),
		 pci_name(p2pmem_kunit_topo.plain));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_TRUE(test, v.flags & P2PMEM_VF_OVERRIDE);
	expect_reason(test, &v, "pair forced to route at bus addresses");

	snprintf(ov, sizeof(ov), "%s=bus", pci_name(p2pmem_kunit_topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	expect_reason(test, &v, "forced to route at bus addresses");
	/* A bridge's "bus" gives no bus route between root ports. */
	if (p2pmem_kunit_topo.rp_nvme) {
		verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.rp_nvme, &v);
		KUNIT_EXPECT_NE(test, v.type, P2PMEM_MAP_BUS_ADDR);
	}
	/* Nor does a pair's across host bridges. */
	if (p2pmem_kunit_topo.shm_pxb) {
		snprintf(ov, sizeof(ov), "%s,%s=bus",
			 pci_name(p2pmem_kunit_topo.cmb),
			 pci_name(p2pmem_kunit_topo.shm_pxb));
		KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
		verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.shm_pxb, &v);
		KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
		expect_reason(test, &v, "below different host bridges");
	}
	/* A refusal below the same bridges still wins over "bus". */
	snprintf(ov, sizeof(ov), "%s=bus;%s=none",
		 pci_name(p2pmem_kunit_topo.upstream),
		 pci_name(p2pmem_kunit_topo.cmb->bus->self));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	verdict(p2pmem_kunit_topo.cmb, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	/* Flag first: clearing the overrides recomputes the tables. */
	WRITE_ONCE(p2pmem_assume_bare_metal, true);
	p2pmem_override_set("");
}

static void test_verdict_cache(struct kunit *test)
{
	struct p2pmem_provider *prov;
	struct p2pmem_verdict v;
	char ov[32];

	NEED(test, cmb);
	NEED(test, plain);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	p2pmem_verdict_get(prov, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_NOT_NULL(test, xa_load(&prov->verdicts,
					    p2pmem_dev_key(p2pmem_kunit_topo.plain)));
	/* The cached verdict must not survive an override change. */
	snprintf(ov, sizeof(ov), "%s=none", pci_name(p2pmem_kunit_topo.upstream));
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(ov), 0);
	p2pmem_verdict_get(prov, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	KUNIT_ASSERT_EQ(test, p2pmem_override_set(""), 0);
	p2pmem_verdict_get(prov, p2pmem_kunit_topo.plain, &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_BUS_ADDR);
}

/*
 * The verdict tables follow hot-plug: a device that goes away loses its
 * verdicts, one that comes gets them before any driver could map.
 */
static void test_verdict_cache_hotplug(struct kunit *test)
{
	int gen = p2pmem_topology_generation();
	struct p2pmem_provider *prov;
	struct p2pmem_verdict v;
	unsigned long key;
	struct pci_bus *bus;
	struct pci_dev *pdev;

	NEED(test, shm_pxb);
	NEED(test, cmb);
	prov = p2pmem_kunit_prov_of(p2pmem_kunit_topo.cmb);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_pxb);
	key = p2pmem_dev_key(p2pmem_kunit_topo.shm_pxb);
	KUNIT_EXPECT_NOT_NULL(test, xa_load(&prov->verdicts, key));
	bus = p2pmem_kunit_topo.shm_pxb->bus;
	pci_lock_rescan_remove();
	pci_stop_and_remove_bus_device(p2pmem_kunit_topo.shm_pxb);
	p2pmem_kunit_topo.shm_pxb = NULL;
	KUNIT_EXPECT_NE(test, p2pmem_topology_generation(), gen);
	KUNIT_EXPECT_NULL(test, xa_load(&prov->verdicts, key));
	gen = p2pmem_topology_generation();
	pci_rescan_bus(bus);
	pci_unlock_rescan_remove();
	KUNIT_EXPECT_NE(test, p2pmem_topology_generation(), gen);
	pdev = pci_get_slot(bus, PCI_DEVFN(0, 0));
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	p2pmem_kunit_topo.shm_pxb = pdev;
	pci_dev_put(pdev);
	KUNIT_EXPECT_TRUE(test, p2pmem_verdict_lookup(prov, pdev, &v));
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	expect_reason(test, &v, "not known to route between host bridges");
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

/* QEMU q35's MCH at 00.0 and its generic root port: known to nothing. */
#define Q35_MCH		0x29c0
#define QEMU_RP		0x000c

/* A host bridge the test machine does not have. */
static struct p2pmem_hb_desc fake_hb(u16 fn0_vendor, u16 fn0_device,
				     u16 top_vendor, u16 top_device)
{
	struct p2pmem_hb_desc d = {
		.fn0_vendor = fn0_vendor, .fn0_device = fn0_device,
		.top_vendor = top_vendor, .top_device = top_device,
		.cpu_vendor = P2PMEM_CPU_OTHER, .cpu_family = 6,
	};

	return d;
}

/*
 * Every host bridge the guide lists, stated here independently of the
 * table: the IDs, where the ID sits, the flags and the platform named.
 */
static const struct {
	u16 vendor, device;
	bool fn0;		/* at 00.0 of the root bus, else on the way */
	unsigned int flags;
	const char *name;
} known_hbs[] = {
	{ 0x8086, 0x3c00, true, P2PMEM_HB_SAME_BRIDGE_ONLY, "Sandy Bridge-EP" },
	{ 0x8086, 0x3c01, true, P2PMEM_HB_SAME_BRIDGE_ONLY, "Sandy Bridge-EP" },
	{ 0x8086, 0x2f00, true, P2PMEM_HB_SAME_BRIDGE_ONLY, "Haswell-EP" },
	{ 0x8086, 0x2f01, true, P2PMEM_HB_SAME_BRIDGE_ONLY, "Haswell-EP" },
	{ 0x8086, 0x2020, true, 0, "Skylake-SP" },
	{ 0x8086, 0x2030, false, 0, "Skylake-SP" },
	{ 0x8086, 0x2031, false, 0, "Skylake-SP" },
	{ 0x8086, 0x2032, false, 0, "Skylake-SP" },
	{ 0x8086, 0x2033, false, 0, "Skylake-SP" },
	{ 0x8086, 0x09a2, true, 0, "Ice Lake-SP" },
	{ 0x8086, 0x0b25, false, 0, "4th gen" },
	{ 0x8086, 0x0cfe, false, 0, "4th gen" },
	{ 0x8086, 0x11fb, false, 0, "4th gen" },
	{ 0x8086, 0x1212, false, 0, "4th gen" },
	{ 0x8086, 0x1216, false, 0, "4th gen" },
	{ 0x8086, 0x4940, false, 0, "4th gen" },
	{ 0x8086, 0x4942, false, 0, "4th gen" },
	{ 0x8086, 0x4944, false, 0, "4th gen" },
	{ 0x8086, 0x4946, false, 0, "4th gen" },
	{ 0x8086, 0x4948, false, 0, "4th gen" },
	{ 0x1ae0, 0x0001, true, 0, "Google" },
	{ 0x1ae0, 0xabcd, false, 0, "Google" },
	{ 0x10de, 0x2f95, true, 0, "Vera Rubin" },
	{ 0x10de, 0x2f96, true, 0, "Vera Rubin" },
	{ 0x10de, 0x2f97, false, 0, "Vera Rubin" },
	{ 0x10de, 0x2f98, false, 0, "Vera Rubin" },
	{ 0x1d17, 0x1003, true, P2PMEM_HB_SAME_BRIDGE_ONLY, "Zhaoxin" },
	{ 0x1d17, 0x1005, true, P2PMEM_HB_SAME_BRIDGE_ONLY, "Zhaoxin" },
	{ 0x1d17, 0x1006, false, P2PMEM_HB_SAME_BRIDGE_ONLY, "Zhaoxin" },
	{ 0x1d17, 0x1007, false, P2PMEM_HB_SAME_BRIDGE_ONLY, "KX-7000" },
	{ 0x1d17, 0x1008, true, 0, "Zhaoxin" },
};

static void test_hb_known_list(struct kunit *test)
{
	const struct p2pmem_hb_id *e;
	struct p2pmem_hb_desc d;
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(known_hbs); i++) {
		if (known_hbs[i].fn0)
			d = fake_hb(known_hbs[i].vendor, known_hbs[i].device,
				    0x1b36, QEMU_RP);
		else
			d = fake_hb(0x8086, Q35_MCH, known_hbs[i].vendor,
				    known_hbs[i].device);
		e = p2pmem_hb_match(&d);
		KUNIT_EXPECT_NOT_NULL_MSG(test, e, "%04x:%04x not known",
					  known_hbs[i].vendor,
					  known_hbs[i].device);
		if (!e)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, e->flags, known_hbs[i].flags,
				    "%04x:%04x", known_hbs[i].vendor,
				    known_hbs[i].device);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(e->name, known_hbs[i].name),
					  "%04x:%04x is '%s'", known_hbs[i].vendor,
					  known_hbs[i].device, e->name);
	}
	/* Nothing in the table that this list does not state. */
	for (e = p2pmem_hb_table; e->vendor; e++) {
		for (i = 0; i < ARRAY_SIZE(known_hbs); i++)
			if (known_hbs[i].vendor == e->vendor &&
			    (e->device == PCI_ANY_ID ||
			     known_hbs[i].device == e->device))
				break;
		KUNIT_EXPECT_LT_MSG(test, i, (int)ARRAY_SIZE(known_hbs),
				    "%04x:%04x of the table is not tested",
				    e->vendor, e->device);
		n++;
	}
	KUNIT_EXPECT_GT(test, n, 29);

	/* QEMU's own parts and a near miss are not known. */
	d = fake_hb(0x8086, Q35_MCH, 0x1b36, QEMU_RP);
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
	d = fake_hb(0x8086, 0x2021, 0x8086, 0x2034);
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
	d = fake_hb(0, 0, 0, 0);
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
}

static void test_hb_amd_by_cpu_family(struct kunit *test)
{
	struct p2pmem_hb_desc d = fake_hb(0x1022, 0x1480, 0x1022, 0x1483);
	const struct p2pmem_hb_id *e;

	/* The IDs of an AMD host bridge alone decide nothing. */
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
	d.cpu_vendor = P2PMEM_CPU_AMD;
	d.cpu_family = 0x16;
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
	d.cpu_family = 0x15;
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
	d.cpu_family = 0x17;
	e = p2pmem_hb_match(&d);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->flags, 0U);
	KUNIT_EXPECT_NOT_NULL(test, strstr(e->name, "Zen"));
	/* Any IDs at all, on Zen 3 and Zen 5. */
	d = fake_hb(0x8086, Q35_MCH, 0x1b36, QEMU_RP);
	d.cpu_vendor = P2PMEM_CPU_AMD;
	d.cpu_family = 0x19;
	KUNIT_EXPECT_PTR_EQ(test, p2pmem_hb_match(&d), e);
	d.cpu_family = 0x1a;
	KUNIT_EXPECT_PTR_EQ(test, p2pmem_hb_match(&d), e);
	/* Family 19h of another vendor is not AMD's. */
	d.cpu_vendor = P2PMEM_CPU_OTHER;
	KUNIT_EXPECT_NULL(test, p2pmem_hb_match(&d));
}

static void test_hb_verdict_names_rule(struct kunit *test)
{
	struct p2pmem_hb_desc d = fake_hb(0x8086, 0x2020, 0x8086, 0x2030);
	struct p2pmem_verdict v = { };

	p2pmem_hb_verdict(&d, "pci0000:00", 2, "no common switch", &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	KUNIT_EXPECT_EQ(test, v.distance, 2 + P2PMEM_HOST_BRIDGE_PENALTY);
	KUNIT_EXPECT_EQ(test, v.flags, 0U);
	expect_reason(test, &v, "pci0000:00 (8086:2020) is known");
	expect_reason(test, &v, "Skylake-SP");

	memset(&v, 0, sizeof(v));
	d = fake_hb(0x8086, Q35_MCH, 0x1b36, QEMU_RP);
	d.cpu_vendor = P2PMEM_CPU_AMD;
	d.cpu_family = 0x19;
	p2pmem_hb_verdict(&d, "pci0000:00", 2, "no common switch", &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	expect_reason(test, &v, "family 17h (Zen) or later");

	memset(&v, 0, sizeof(v));
	d.cpu_vendor = P2PMEM_CPU_OTHER;
	p2pmem_hb_verdict(&d, "pci0000:00", 2, "no common switch", &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_NOT_SUPPORTED);
	KUNIT_EXPECT_EQ(test, v.distance, -1);
	expect_reason(test, &v, "(8086:29c0) is not known");

	memset(&v, 0, sizeof(v));
	d = fake_hb(0, 0, 0x1ae0, 0x0042);
	p2pmem_hb_verdict(&d, "pci0001:00", 1, "no common switch", &v);
	KUNIT_EXPECT_EQ(test, v.type, P2PMEM_MAP_THRU_HOST_BRIDGE);
	expect_reason(test, &v, "(no function at 00.0) is known");
	expect_reason(test, &v, "Google");
}

static void test_find(struct kunit *test)
{
	struct device *clients[2];
	struct pci_dev *found;

	NEED(test, cmb);
	NEED(test, plain);
	clients[0] = &p2pmem_kunit_topo.plain->dev;
	found = p2pmem_find(clients, 1);
	KUNIT_EXPECT_PTR_EQ(test, found, p2pmem_kunit_topo.cmb);
	p2pmem_put(found);
	if (p2pmem_kunit_topo.rp_nvme) {
		clients[1] = &p2pmem_kunit_topo.rp_nvme->dev;
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
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	KUNIT_ASSERT_EQ(test, p2pmem_add_resource(p2pmem_kunit_topo.shm_sw, SHM_BAR, 0, 0), 0);
	KUNIT_ASSERT_EQ(test, p2pmem_publish(p2pmem_kunit_topo.shm_sw, true), 0);
	KUNIT_ASSERT_EQ(test, p2pmem_distance(p2pmem_kunit_topo.shm_sw, &client, 0, false),
			-EINVAL);
	client = &p2pmem_kunit_topo.plain->dev;
	KUNIT_ASSERT_EQ(test, p2pmem_distance(p2pmem_kunit_topo.shm_sw, &client, 1, false),
			p2pmem_distance(p2pmem_kunit_topo.cmb, &client, 1, false));
	lower = p2pmem_dev_key(p2pmem_kunit_topo.shm_sw) < p2pmem_dev_key(p2pmem_kunit_topo.cmb) ?
		p2pmem_kunit_topo.shm_sw : p2pmem_kunit_topo.cmb;
	found = p2pmem_find(&client, 1);
	KUNIT_EXPECT_PTR_EQ(test, found, lower);
	p2pmem_put(found);
	/* The same question gets the same answer. */
	found = p2pmem_find(&client, 1);
	KUNIT_EXPECT_PTR_EQ(test, found, lower);
	p2pmem_put(found);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
}

static void test_distance_and_map_type(struct kunit *test)
{
	struct device *clients[2];

	NEED(test, cmb);
	NEED(test, plain);
	clients[0] = &p2pmem_kunit_topo.plain->dev;
	KUNIT_EXPECT_EQ(test, p2pmem_distance(p2pmem_kunit_topo.cmb, clients, 1, false), 4);
	KUNIT_EXPECT_EQ(test, p2pmem_map_type(p2pmem_kunit_topo.cmb, &p2pmem_kunit_topo.plain->dev),
			P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, p2pmem_distance(NULL, clients, 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_distance(p2pmem_kunit_topo.cmb, NULL, 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pmem_map_type(p2pmem_kunit_topo.cmb, NULL),
			P2PMEM_MAP_NOT_SUPPORTED);
	if (p2pmem_kunit_topo.rp_nvme) {
		clients[1] = &p2pmem_kunit_topo.rp_nvme->dev;
		KUNIT_EXPECT_EQ(test, p2pmem_distance(p2pmem_kunit_topo.cmb, clients, 2, true),
				-EREMOTEIO);
		KUNIT_EXPECT_EQ(test, p2pmem_map_type(p2pmem_kunit_topo.cmb, clients[1]),
				P2PMEM_MAP_NOT_SUPPORTED);
	}
}

/* A client below a PCI function (a class device) resolves to it. */
static void test_client_below_pci(struct kunit *test)
{
	struct device *child;

	NEED(test, cmb);
	NEED(test, plain);
	child = device_find_any_child(&p2pmem_kunit_topo.plain->dev);
	if (!child)
		kunit_skip(test, "%s has no child device", pci_name(p2pmem_kunit_topo.plain));
	KUNIT_EXPECT_EQ(test, p2pmem_map_type(p2pmem_kunit_topo.cmb, child),
			P2PMEM_MAP_BUS_ADDR);
	KUNIT_EXPECT_EQ(test, p2pmem_distance(p2pmem_kunit_topo.cmb, &child, 1, false), 4);
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
	KUNIT_CASE(test_verdict_override_bus),
	KUNIT_CASE(test_verdict_vm_iommu),
	KUNIT_CASE(test_verdict_cache),
	KUNIT_CASE(test_verdict_cache_hotplug),
	KUNIT_CASE(test_hb_table_flags),
	KUNIT_CASE(test_hb_known_list),
	KUNIT_CASE(test_hb_amd_by_cpu_family),
	KUNIT_CASE(test_hb_verdict_names_rule),
	KUNIT_CASE(test_find),
	KUNIT_CASE(test_find_tie_break),
	KUNIT_CASE(test_distance_and_map_type),
	KUNIT_CASE(test_client_below_pci),
	{}
};

static struct kunit_suite topology_suite = {
	.name = "p2pmem_topology",
	.init = p2pmem_kunit_no_override_init,
	.exit = p2pmem_kunit_no_override_exit,
	.test_cases = topology_cases,
};

kunit_test_suite(topology_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the p2pmem topology verdicts");
