/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the p2pmem KUnit tests share: the PCI devices of the QEMU machine
 * they run on (tools/testing/kunit/qemu_configs/x86_64_p2pmem.py), found
 * once and kept in one place so that a test which removes and re-adds a
 * device leaves the others a valid pointer, and the helpers that look up
 * and clean up providers.
 *
 *   pcie.0 - root port - switch - downstream port - NVMe with a CMB
 *                               - downstream port - NVMe
 *                               - downstream port - ivshmem-plain
 *          - root port - NVMe
 *          - generic root port (has ACS) - ivshmem-plain 00.0 and 00.1
 *          - pxb-pcie (second host bridge) - root port - ivshmem-plain
 */
#ifndef _P2PMEM_KUNIT_H
#define _P2PMEM_KUNIT_H

#include <kunit/test.h>
#include <linux/dma-map-ops.h>
#include <linux/pci.h>

#include "../p2pmem.h"

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

extern struct p2pmem_topo p2pmem_kunit_topo;

void p2pmem_kunit_find_topology(void);
bool p2pmem_kunit_is_provider(struct pci_dev *pdev);
struct p2pmem_provider *p2pmem_kunit_prov_of(struct pci_dev *pdev);
void p2pmem_kunit_remove_provider(struct pci_dev *pdev);
int p2pmem_kunit_no_override_init(struct kunit *test);
void p2pmem_kunit_no_override_exit(struct kunit *test);

/*
 * The architecture's DMA operations for devices with none of their own,
 * what get_arch_dma_ops() returns: x86 keeps them in dma_ops, which a test
 * may set for a moment. Return: false where the test cannot set them.
 */
#ifdef CONFIG_X86
static inline bool p2pmem_kunit_set_arch_dma_ops(const struct dma_map_ops *ops)
{
	WRITE_ONCE(dma_ops, ops);
	return true;
}
#else
static inline bool p2pmem_kunit_set_arch_dma_ops(const struct dma_map_ops *ops)
{
	return false;
}
#endif

/* Skip, never pass, a case whose device p2pmem_kunit_topo.@dev is missing. */
#define NEED(test, dev)							\
	do {								\
		p2pmem_kunit_find_topology();				\
		if (!p2pmem_kunit_topo.dev)				\
			kunit_skip(test, "no " #dev " device in this VM"); \
	} while (0)

#endif /* _P2PMEM_KUNIT_H */
