// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the p2pmem KUnit tests: find the devices of the QEMU test
 * machine and handle the providers the tests register on them.
 */
#include <linux/delay.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/xarray.h>

#include "p2pmem_kunit.h"

struct p2pmem_topo p2pmem_kunit_topo;
static bool topo_scanned;

static struct pci_dev *switch_of(struct pci_dev *pdev)
{
	for (pdev = pci_upstream_bridge(pdev); pdev;
	     pdev = pci_upstream_bridge(pdev))
		if (pci_pcie_type(pdev) == PCI_EXP_TYPE_UPSTREAM)
			return pdev;
	return NULL;
}

bool p2pmem_kunit_is_provider(struct pci_dev *pdev)
{
	bool ret;

	rcu_read_lock();
	ret = !!p2pmem_provider_of(pdev);
	rcu_read_unlock();
	return ret;
}

/*
 * Fill @p2pmem_kunit_topo once; the NVMe driver registers its CMB
 * asynchronously.
 */
void p2pmem_kunit_find_topology(void)
{
	struct pci_dev *pdev = NULL, *hb0 = NULL;
	int waited;

	if (topo_scanned)
		return;
	topo_scanned = true;
	for (waited = 0; waited < CMB_WAIT_MS; waited += 100) {
		bool found = false;

		for_each_pci_dev(pdev)
			if (pdev->class == NVME_CLASS && p2pmem_kunit_is_provider(pdev))
				found = true;
		if (found)
			break;
		msleep(100);
	}

	for_each_pci_dev(pdev) {
		struct pci_dev *sw = switch_of(pdev);

		if (pdev->class == NVME_CLASS) {
			if (sw && p2pmem_kunit_is_provider(pdev))
				p2pmem_kunit_topo.cmb = pdev;
			else if (sw)
				p2pmem_kunit_topo.plain = pdev;
			else
				p2pmem_kunit_topo.rp_nvme = pdev;
			if (sw)
				p2pmem_kunit_topo.upstream = sw;
		}
	}
	if (p2pmem_kunit_topo.cmb)
		hb0 = p2pmem_kunit_topo.cmb;
	for_each_pci_dev(pdev) {
		if (pdev->vendor != SHM_VENDOR || pdev->device != SHM_DEVICE)
			continue;
		if (switch_of(pdev))
			p2pmem_kunit_topo.shm_sw = pdev;
		else if (hb0 && pci_find_host_bridge(pdev->bus) !=
			 pci_find_host_bridge(hb0->bus))
			p2pmem_kunit_topo.shm_pxb = pdev;
		else if (PCI_FUNC(pdev->devfn) == 0)
			p2pmem_kunit_topo.mf0 = pdev;
		else if (PCI_FUNC(pdev->devfn) == 1)
			p2pmem_kunit_topo.mf1 = pdev;
	}
}

struct p2pmem_provider *p2pmem_kunit_prov_of(struct pci_dev *pdev)
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
void p2pmem_kunit_remove_provider(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov = p2pmem_kunit_prov_of(pdev);
	struct p2pmem_alloc_rec *rec;
	unsigned long idx;

	if (!prov)
		return;
	xa_for_each(&prov->allocs, idx, rec)
		p2pmem_free(pdev, (void *)(idx << PAGE_SHIFT), rec->size);
	p2pmem_remove_provider(prov);
}

/* Init and exit of the suites that start and end without overrides. */
/*
 * No overrides, and verdicts as on bare metal even when the test machine
 * runs under a hypervisor with an IOMMU (test_verdict_vm_iommu turns that
 * rule back on).
 */
int p2pmem_kunit_no_override_init(struct kunit *test)
{
	p2pmem_kunit_find_topology();
	WRITE_ONCE(p2pmem_assume_bare_metal, true);
	return p2pmem_override_set("");
}

void p2pmem_kunit_no_override_exit(struct kunit *test)
{
	WRITE_ONCE(p2pmem_assume_bare_metal, false);
	p2pmem_override_set("");
}
