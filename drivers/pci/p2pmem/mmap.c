// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem for userspace: /sys/bus/pci/devices/.../p2pmem/allocate.
 *
 * mmap(MAP_SHARED) of the file at offset 0 allocates that many bytes of
 * the provider's memory, one page at a time, zeroes them and maps them. A
 * mapped page is owned by its page table entries and by whoever pins it:
 * when its reference count drops to zero (munmap, exit, the last O_DIRECT
 * transfer into it completing) the page map's page_free() gives it back
 * to the provider. A process may hand the buffer to O_DIRECT I/O on a
 * queue that takes peer-to-peer memory (FOLL_PCI_P2PDMA); any other
 * pinning of it is refused.
 *
 * Provider removal takes the file away first: sysfs unmaps every mapping
 * of it (later accesses get SIGBUS), unpinned pages come back at once and
 * pinned ones when their transfer completes, while the removal waits (and
 * logs) as it does for any allocation.
 */
#include <linux/mm.h>
#include <linux/sysfs.h>

#include "p2pmem.h"

/*
 * Called when a page's last reference is gone. Only pages handed to
 * userspace ever get there: the kernel's own allocations keep the
 * reference every p2pmem page starts with.
 */
static void p2pmem_page_free(struct page *page)
{
	struct p2pmem_range *range = container_of(page->pgmap,
						  struct p2pmem_range, pgmap);

	/* Every free p2pmem page has the one reference it started with. */
	set_page_count(page, 1);
	p2pmem_free(range->prov->pdev, page_address(page), PAGE_SIZE);
}

const struct dev_pagemap_ops p2pmem_pgmap_ops = {
	.page_free = p2pmem_page_free,
};

/* A page whose table entry is gone is not faulted back in. */
static vm_fault_t p2pmem_allocate_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct p2pmem_allocate_vm_ops = {
	.fault = p2pmem_allocate_fault,
};

/* Zero with plain 8-byte stores: a BAR may not take wide vector ones. */
static void p2pmem_zero_page(void *va)
{
	u64 *p = va;
	size_t i;

	for (i = 0; i < PAGE_SIZE / sizeof(*p); i++)
		WRITE_ONCE(p[i], 0);
}

static int p2pmem_allocate_mmap(struct file *filp, struct kobject *kobj,
				struct bin_attribute *attr,
				struct vm_area_struct *vma)
{
	struct pci_dev *pdev = to_pci_dev(kobj_to_dev(kobj));
	unsigned long addr;
	void *va;
	int ret;

	/*
	 * VM_MAYSHARE: a shared mapping of a file opened read-only has no
	 * VM_SHARED, and is no private copy either.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE)) {
		pci_info_ratelimited(pdev, "p2pmem: %s: allocate must be mapped MAP_SHARED\n",
				     current->comm);
		return -EINVAL;
	}
	if (vma->vm_pgoff) {
		pci_info_ratelimited(pdev, "p2pmem: %s: allocate must be mapped at offset 0\n",
				     current->comm);
		return -EINVAL;
	}

	vma->vm_ops = &p2pmem_allocate_vm_ops;
	vma->vm_flags |= VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP;
	/* As the kernel maps the BAR: uncached. */
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);

	for (addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
		va = p2pmem_alloc(pdev, PAGE_SIZE);
		if (!va) {
			ret = -ENOMEM;
			goto err;
		}
		p2pmem_zero_page(va);
		ret = vm_insert_page(vma, addr, virt_to_page(va));
		if (ret) {
			p2pmem_free(pdev, va, PAGE_SIZE);
			goto err;
		}
		/* The table entry holds the page now; drop the first ref. */
		put_page(virt_to_page(va));
	}
	return 0;

err:
	/* Pages already mapped come back through p2pmem_page_free(). */
	zap_vma_ptes(vma, vma->vm_start, addr - vma->vm_start);
	return ret;
}

/* The file existing userspace opens; its size means nothing. */
struct bin_attribute p2pmem_bin_attr_allocate = {
	.attr = { .name = "allocate", .mode = 0660 },
	.mmap = p2pmem_allocate_mmap,
};
