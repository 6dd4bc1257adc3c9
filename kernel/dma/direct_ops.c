// SPDX-License-Identifier: GPL-2.0
/*
 * The direct mapping as a dma_map_ops table.
 *
 * The DMA API reaches dma-direct by testing for a NULL dev->dma_ops, so code
 * that stacks its own operations on top of a device's (p2pmem's per host
 * bridge shim) has nothing to call when the device uses dma-direct. This
 * table gives it one: every operation is the dma-direct function the DMA API
 * itself would have used.
 */
#include <linux/dma-map-ops.h>
#include <linux/export.h>

#include "direct.h"

static dma_addr_t dma_direct_ops_map_page(struct device *dev, struct page *page,
					  unsigned long offset, size_t size,
					  enum dma_data_direction dir,
					  unsigned long attrs)
{
	return dma_direct_map_page(dev, page, offset, size, dir, attrs);
}

static void dma_direct_ops_unmap_page(struct device *dev, dma_addr_t addr,
				      size_t size, enum dma_data_direction dir,
				      unsigned long attrs)
{
	dma_direct_unmap_page(dev, addr, size, dir, attrs);
}

static void dma_direct_ops_unmap_sg(struct device *dev, struct scatterlist *sgl,
				    int nents, enum dma_data_direction dir,
				    unsigned long attrs)
{
	dma_direct_unmap_sg(dev, sgl, nents, dir, attrs);
}

static void dma_direct_ops_sync_single_for_cpu(struct device *dev,
					       dma_addr_t addr, size_t size,
					       enum dma_data_direction dir)
{
	dma_direct_sync_single_for_cpu(dev, addr, size, dir);
}

static void dma_direct_ops_sync_single_for_device(struct device *dev,
						  dma_addr_t addr, size_t size,
						  enum dma_data_direction dir)
{
	dma_direct_sync_single_for_device(dev, addr, size, dir);
}

static void dma_direct_ops_sync_sg_for_cpu(struct device *dev,
					   struct scatterlist *sgl, int nents,
					   enum dma_data_direction dir)
{
	dma_direct_sync_sg_for_cpu(dev, sgl, nents, dir);
}

static void dma_direct_ops_sync_sg_for_device(struct device *dev,
					      struct scatterlist *sgl,
					      int nents,
					      enum dma_data_direction dir)
{
	dma_direct_sync_sg_for_device(dev, sgl, nents, dir);
}

/*
 * dma_direct_ops - dma-direct behind the dma_map_ops interface
 *
 * Calling an operation of this table has the effect the DMA API has for a
 * device whose dma_ops is NULL. Installing it as a device's dma_ops gives
 * the same mappings, only through an indirect call.
 */
const struct dma_map_ops dma_direct_ops = {
	.alloc			= dma_direct_alloc,
	.free			= dma_direct_free,
	.alloc_pages		= dma_direct_alloc_pages,
	.free_pages		= dma_direct_free_pages,
	.mmap			= dma_direct_mmap,
	.get_sgtable		= dma_direct_get_sgtable,
	.map_page		= dma_direct_ops_map_page,
	.unmap_page		= dma_direct_ops_unmap_page,
	.map_sg			= dma_direct_map_sg,
	.unmap_sg		= dma_direct_ops_unmap_sg,
	.map_resource		= dma_direct_map_resource,
	.sync_single_for_cpu	= dma_direct_ops_sync_single_for_cpu,
	.sync_single_for_device	= dma_direct_ops_sync_single_for_device,
	.sync_sg_for_cpu	= dma_direct_ops_sync_sg_for_cpu,
	.sync_sg_for_device	= dma_direct_ops_sync_sg_for_device,
	.dma_supported		= dma_direct_supported,
	.get_required_mask	= dma_direct_get_required_mask,
	.max_mapping_size	= dma_direct_max_mapping_size,
};
EXPORT_SYMBOL_GPL(dma_direct_ops);
