/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmem: peer-to-peer PCI memory, consumer API.
 *
 * A PCI driver hands a BAR (or part of one) to p2pmem with
 * p2pmem_add_resource(); other drivers then allocate from it and have
 * peer devices DMA straight into it.  See
 * Documentation/driver-api/pci/p2pmem.rst.
 */
#ifndef _LINUX_P2PMEM_H
#define _LINUX_P2PMEM_H

#include <linux/pci.h>

struct scatterlist;

/**
 * enum p2pmem_map_type - how a client reaches a provider's memory
 * @P2PMEM_MAP_NOT_SUPPORTED: no safe route; DMA must not be attempted
 * @P2PMEM_MAP_BUS_ADDR: below a common switch, use the PCI bus address
 * @P2PMEM_MAP_THRU_HOST_BRIDGE: the TLPs cross the host bridge, which is
 *	known (or forced by the administrator) to route peer-to-peer
 */
enum p2pmem_map_type {
	P2PMEM_MAP_NOT_SUPPORTED,
	P2PMEM_MAP_BUS_ADDR,
	P2PMEM_MAP_THRU_HOST_BRIDGE,
};

#ifdef CONFIG_PCI_P2PMEM
int p2pmem_add_resource(struct pci_dev *pdev, int bar, size_t size,
			u64 offset);
void *p2pmem_alloc(struct pci_dev *pdev, size_t size);
void p2pmem_free(struct pci_dev *pdev, void *addr, size_t size);
int p2pmem_virt_to_bus(struct pci_dev *pdev, void *addr,
		       pci_bus_addr_t *bus);
struct scatterlist *p2pmem_alloc_sgl(struct pci_dev *pdev, u32 length,
				     unsigned int *nents);
void p2pmem_free_sgl(struct pci_dev *pdev, struct scatterlist *sgl);
int p2pmem_publish(struct pci_dev *pdev, bool publish);
struct pci_dev *p2pmem_get(struct pci_dev *pdev);
void p2pmem_put(struct pci_dev *pdev);
struct pci_dev *p2pmem_find(struct device **clients, int num_clients);
int p2pmem_explain(struct device **clients, int num_clients);
int p2pmem_distance(struct pci_dev *provider, struct device **clients,
		    int num_clients, bool verbose);
enum p2pmem_map_type p2pmem_map_type(struct pci_dev *provider,
				     struct device *client);
bool p2pmem_is_p2p_page(struct page *page);
struct pci_dev *p2pmem_page_provider(struct page *page);
#else /* CONFIG_PCI_P2PMEM */
static inline int p2pmem_add_resource(struct pci_dev *pdev, int bar,
				      size_t size, u64 offset)
{
	return -EOPNOTSUPP;
}

static inline void *p2pmem_alloc(struct pci_dev *pdev, size_t size)
{
	return NULL;
}

static inline void p2pmem_free(struct pci_dev *pdev, void *addr, size_t size)
{
}

static inline int p2pmem_virt_to_bus(struct pci_dev *pdev, void *addr,
				     pci_bus_addr_t *bus)
{
	return -EOPNOTSUPP;
}

static inline struct scatterlist *p2pmem_alloc_sgl(struct pci_dev *pdev,
						   u32 length,
						   unsigned int *nents)
{
	return NULL;
}

static inline void p2pmem_free_sgl(struct pci_dev *pdev,
				   struct scatterlist *sgl)
{
}

static inline int p2pmem_publish(struct pci_dev *pdev, bool publish)
{
	return -EOPNOTSUPP;
}

static inline struct pci_dev *p2pmem_get(struct pci_dev *pdev)
{
	return NULL;
}

static inline void p2pmem_put(struct pci_dev *pdev)
{
}

static inline struct pci_dev *p2pmem_find(struct device **clients,
					  int num_clients)
{
	return NULL;
}

static inline int p2pmem_explain(struct device **clients, int num_clients)
{
	return 0;
}

static inline int p2pmem_distance(struct pci_dev *provider,
				  struct device **clients, int num_clients,
				  bool verbose)
{
	return -EOPNOTSUPP;
}

static inline enum p2pmem_map_type p2pmem_map_type(struct pci_dev *provider,
						   struct device *client)
{
	return P2PMEM_MAP_NOT_SUPPORTED;
}

static inline bool p2pmem_is_p2p_page(struct page *page)
{
	return false;
}

static inline struct pci_dev *p2pmem_page_provider(struct page *page)
{
	return NULL;
}
#endif /* CONFIG_PCI_P2PMEM */

/**
 * p2pmem_find_one - find the nearest published provider for one client
 * @client: the device that will DMA to or from the memory
 *
 * Return: a referenced provider (release it with p2pmem_put()) or %NULL.
 */
static inline struct pci_dev *p2pmem_find_one(struct device *client)
{
	return p2pmem_find(&client, 1);
}

#endif /* _LINUX_P2PMEM_H */
