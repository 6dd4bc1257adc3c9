// SPDX-License-Identifier: GPL-2.0
/*
 * The consumer API of <linux/pci-p2pdma.h>, provided by p2pmem.
 *
 * With CONFIG_PCI_P2PMEM the base's P2PDMA implementation is not built,
 * but its users are: the NVMe-oF target's p2pmem attribute and buffers,
 * nvme-pci's submission queues in the CMB, and the P2PDMA branches of
 * dma-direct and dma-iommu. Each function here is the p2pmem operation
 * with the same meaning, so those users build and work unchanged, and
 * p2pmem's verdicts decide every route they ask for.
 */
#include <linux/dma-map-ops.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>

#include "p2pmem.h"

/**
 * pci_p2pdma_add_resource() - hand part of a BAR to p2pmem
 * @pdev: the providing device
 * @bar: BAR index
 * @size: bytes to register, 0 for the rest of the BAR after @offset
 * @offset: offset into the BAR
 *
 * Same as p2pmem_add_resource().
 *
 * Return: 0 or a negative errno.
 */
int pci_p2pdma_add_resource(struct pci_dev *pdev, int bar, size_t size,
			    u64 offset)
{
	return p2pmem_add_resource(pdev, bar, size, offset);
}
EXPORT_SYMBOL_GPL(pci_p2pdma_add_resource);

/**
 * pci_p2pdma_distance_many() - summed distance from a provider to clients
 * @provider: the provider
 * @clients: the devices that will DMA to or from its memory
 * @num_clients: number of entries in @clients
 * @verbose: log why a client cannot reach the provider
 *
 * Same as p2pmem_distance().
 *
 * Return: the distance, or a negative value when any client cannot reach
 * the provider.
 */
int pci_p2pdma_distance_many(struct pci_dev *provider, struct device **clients,
			     int num_clients, bool verbose)
{
	return p2pmem_distance(provider, clients, num_clients, verbose);
}
EXPORT_SYMBOL_GPL(pci_p2pdma_distance_many);

/**
 * pci_has_p2pmem() - whether a device provides published p2pmem
 * @pdev: the device
 *
 * Return: true when @pdev is a live provider whose memory is published.
 */
bool pci_has_p2pmem(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov;
	bool ret;

	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	ret = prov && READ_ONCE(prov->published) && !READ_ONCE(prov->dying);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(pci_has_p2pmem);

/**
 * pci_p2pmem_find_many() - the nearest published provider for clients
 * @clients: the devices that will DMA to or from the memory
 * @num_clients: number of entries in @clients
 *
 * Same as p2pmem_find().
 *
 * Return: the provider with a reference held (drop it with pci_dev_put()),
 * or %NULL.
 */
struct pci_dev *pci_p2pmem_find_many(struct device **clients, int num_clients)
{
	return p2pmem_find(clients, num_clients);
}
EXPORT_SYMBOL_GPL(pci_p2pmem_find_many);

/**
 * pci_alloc_p2pmem() - allocate peer-to-peer memory
 * @pdev: the provider
 * @size: bytes wanted
 *
 * Same as p2pmem_alloc().
 *
 * Return: the kernel virtual address, or %NULL.
 */
void *pci_alloc_p2pmem(struct pci_dev *pdev, size_t size)
{
	return p2pmem_alloc(pdev, size);
}
EXPORT_SYMBOL_GPL(pci_alloc_p2pmem);

/**
 * pci_free_p2pmem() - free memory from pci_alloc_p2pmem()
 * @pdev: the provider
 * @addr: the address pci_alloc_p2pmem() returned
 * @size: the size that was asked for
 */
void pci_free_p2pmem(struct pci_dev *pdev, void *addr, size_t size)
{
	p2pmem_free(pdev, addr, size);
}
EXPORT_SYMBOL_GPL(pci_free_p2pmem);

/**
 * pci_p2pmem_virt_to_bus() - the PCI bus address of p2pmem
 * @pdev: the provider
 * @addr: an address inside one of its allocations
 *
 * Return: the bus address, or 0 when @addr is not @pdev's p2pmem.
 */
pci_bus_addr_t pci_p2pmem_virt_to_bus(struct pci_dev *pdev, void *addr)
{
	pci_bus_addr_t bus;

	if (p2pmem_virt_to_bus(pdev, addr, &bus))
		return 0;
	return bus;
}
EXPORT_SYMBOL_GPL(pci_p2pmem_virt_to_bus);

/**
 * pci_p2pmem_alloc_sgl() - allocate peer-to-peer memory as a scatterlist
 * @pdev: the provider
 * @nents: set to the number of entries of the list
 * @length: bytes wanted
 *
 * Return: the list, to be freed with pci_p2pmem_free_sgl(), or %NULL.
 */
struct scatterlist *pci_p2pmem_alloc_sgl(struct pci_dev *pdev,
					 unsigned int *nents, u32 length)
{
	return p2pmem_alloc_sgl(pdev, length, nents);
}
EXPORT_SYMBOL_GPL(pci_p2pmem_alloc_sgl);

/**
 * pci_p2pmem_free_sgl() - free a list from pci_p2pmem_alloc_sgl()
 * @pdev: the provider
 * @sgl: the list
 */
void pci_p2pmem_free_sgl(struct pci_dev *pdev, struct scatterlist *sgl)
{
	p2pmem_free_sgl(pdev, sgl);
}
EXPORT_SYMBOL_GPL(pci_p2pmem_free_sgl);

/**
 * pci_p2pmem_publish() - make a provider visible to pci_p2pmem_find_many()
 * @pdev: the provider
 * @publish: true to publish, false to withdraw
 */
void pci_p2pmem_publish(struct pci_dev *pdev, bool publish)
{
	if (p2pmem_publish(pdev, publish))
		pci_warn(pdev, "p2pmem: cannot %s: not a live provider\n",
			 publish ? "publish" : "withdraw");
}
EXPORT_SYMBOL_GPL(pci_p2pmem_publish);

/* The words pci_p2pdma_enable_store() takes for "no" and "any provider". */
static const char * const p2pmem_setting_words[] = {
	"0", "n", "N", "no", "off", "false",
	"1", "y", "Y", "yes", "on", "true",
};

/* Whether @name has the shape of a PCI device name: [DDDD:]BB:DD.F. */
static bool p2pmem_pci_name_like(const char *name)
{
	unsigned int dom, bus, dev, fn;
	char tail;

	return sscanf(name, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn,
		      &tail) == 4 ||
	       sscanf(name, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) == 3;
}

/* The PCI device of a provider named by its class device, p2pmemN. */
static struct pci_dev *p2pmem_class_provider(const char *name)
{
	struct p2pmem_provider *prov;
	struct pci_dev *pdev;
	struct device *dev;

	dev = class_find_device_by_name(&p2pmem_class, name);
	if (!dev)
		return NULL;
	prov = container_of(dev, struct p2pmem_provider, dev);
	pdev = pci_dev_get(prov->pdev);
	put_device(dev);
	return pdev;
}

/**
 * pci_p2pdma_enable_store() - parse a "use p2pmem" setting
 * @page: the text written: a boolean (0, 1, y, n, on, off, ...), the name
 *	of a PCI device or the name of a provider's class device (p2pmemN)
 * @p2p_dev: set to the named provider (with a reference) or %NULL
 * @use_p2pdma: set to whether p2pmem is to be used
 *
 * A boolean means "no" or "any provider that suits"; a name means that
 * provider, which must have published p2pmem. A trailing newline is
 * ignored. Nothing is set on error, and every error is logged.
 *
 * Context: process context, may sleep.
 * Return: 0; -ENODEV for a name of no device, or of a device without
 * published p2pmem; -EINVAL for anything else.
 */
int pci_p2pdma_enable_store(const char *page, struct pci_dev **p2p_dev,
			    bool *use_p2pdma)
{
	char name[32];
	size_t len = strcspn(page, "\n");
	struct pci_dev *pdev = NULL;
	struct device *dev;
	int i;

	if (!len || len >= sizeof(name)) {
		pr_err("p2pmem: '%.*s' is not a setting: 0, 1 or a provider's name\n",
		       (int)min_t(size_t, len, 64), page);
		return -EINVAL;
	}
	memcpy(name, page, len);
	name[len] = '\0';

	for (i = 0; i < ARRAY_SIZE(p2pmem_setting_words); i++) {
		if (!strcmp(name, p2pmem_setting_words[i])) {
			*p2p_dev = NULL;
			*use_p2pdma = i >= ARRAY_SIZE(p2pmem_setting_words) / 2;
			return 0;
		}
	}

	if (!strncmp(name, "p2pmem", 6) && name[6] &&
	    strspn(name + 6, "0123456789") == len - 6) {
		pdev = p2pmem_class_provider(name);
		if (!pdev) {
			pr_err("p2pmem: there is no provider %s\n", name);
			return -ENODEV;
		}
	} else if (p2pmem_pci_name_like(name)) {
		dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
		if (!dev) {
			pr_err("p2pmem: there is no PCI device %s\n", name);
			return -ENODEV;
		}
		pdev = to_pci_dev(dev);
	} else {
		pr_err("p2pmem: '%s' is neither a boolean nor a provider's name\n",
		       name);
		return -EINVAL;
	}

	if (!pci_has_p2pmem(pdev)) {
		pci_err(pdev, "p2pmem: %s has no published peer-to-peer memory\n",
			pci_name(pdev));
		pci_dev_put(pdev);
		return -ENODEV;
	}
	*p2p_dev = pdev;
	*use_p2pdma = true;
	return 0;
}
EXPORT_SYMBOL_GPL(pci_p2pdma_enable_store);

/**
 * pci_p2pdma_enable_show() - show a setting parsed by pci_p2pdma_enable_store()
 * @page: a buffer of PAGE_SIZE bytes
 * @p2p_dev: the provider chosen, or %NULL
 * @use_p2pdma: whether p2pmem is used
 *
 * Return: the number of bytes written.
 */
ssize_t pci_p2pdma_enable_show(char *page, struct pci_dev *p2p_dev,
			       bool use_p2pdma)
{
	if (!use_p2pdma)
		return scnprintf(page, PAGE_SIZE, "0\n");
	if (!p2p_dev)
		return scnprintf(page, PAGE_SIZE, "1\n");
	return scnprintf(page, PAGE_SIZE, "%s\n", pci_name(p2p_dev));
}
EXPORT_SYMBOL_GPL(pci_p2pdma_enable_show);

/**
 * pci_p2pdma_map_segment() - route one P2PDMA segment for a DMA backend
 * @state: the caller's state for one scatterlist, zeroed before the first
 *	call; it keeps the last page map's route
 * @dev: the device that will do the DMA
 * @sg: an entry whose page is p2pmem
 *
 * dma-direct and dma-iommu ask this for every p2pmem entry they are given.
 * On the bus address route the entry gets its bus address and the bus
 * address mark, and the backend leaves it alone; through the host bridge
 * the backend maps it like host memory; otherwise it must fail the list.
 *
 * Return: the route, %PCI_P2PDMA_MAP_NOT_SUPPORTED for a refused one.
 */
enum pci_p2pdma_map_type
pci_p2pdma_map_segment(struct pci_p2pdma_map_state *state, struct device *dev,
		       struct scatterlist *sg)
{
	struct p2pmem_range *range = p2pmem_page_range(sg_page(sg));
	struct pci_dev *client;

	if (WARN_ON_ONCE(!range))
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	if (state->pgmap != &range->pgmap) {
		client = p2pmem_client_pci(dev);
		state->pgmap = &range->pgmap;
		state->map = client ? p2pmem_route(range->prov, client) :
				      P2PMEM_MAP_NOT_SUPPORTED;
		state->bus_off = range->bus - range->phys;
	}
	switch (state->map) {
	case P2PMEM_MAP_BUS_ADDR:
		sg->dma_address = sg_phys(sg) + state->bus_off;
		sg_dma_len(sg) = sg->length;
		sg_dma_mark_bus_address(sg);
		return PCI_P2PDMA_MAP_BUS_ADDR;
	case P2PMEM_MAP_THRU_HOST_BRIDGE:
		return PCI_P2PDMA_MAP_THRU_HOST_BRIDGE;
	default:
		p2pmem_dma_refused(range->prov, dev, !!p2pmem_dma_shim_of(dev));
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	}
}
EXPORT_SYMBOL_GPL(pci_p2pdma_map_segment);
