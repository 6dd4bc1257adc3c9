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

extern struct p2pmem_topo topo;

void find_topology(void);
bool is_provider(struct pci_dev *pdev);
struct p2pmem_provider *prov_of(struct pci_dev *pdev);
void remove_if_provider(struct pci_dev *pdev);
int topology_init(struct kunit *test);
void topology_exit(struct kunit *test);

/* Skip, never pass, a case whose device topo.@dev this machine lacks. */
#define NEED(test, dev)							\
	do {								\
		find_topology();					\
		if (!topo.dev)						\
			kunit_skip(test, "no " #dev " device in this VM"); \
	} while (0)

#endif /* _P2PMEM_KUNIT_H */
