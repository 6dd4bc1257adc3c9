// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem test client: lets the QEMU scenarios and `make demo` drive the
 * in-kernel allocation API from userspace, through
 * /sys/kernel/debug/p2pmem/client:
 *
 *   roundtrip BDF SIZE	allocate SIZE bytes from provider BDF, write and
 *			read back a pattern through the CPU, translate to a
 *			bus address and free
 *   hold BDF SIZE	allocate and keep the memory
 *   release		free everything held
 *   register BDF BAR	register the whole of BAR of BDF as a provider
 *			(for devices no driver registers, such as QEMU's
 *			ivshmem-plain)
 *   unregister BDF	remove a provider this client registered
 *   map BDF CLIENT SIZE	allocate SIZE bytes (whole pages, at most 16) from
 *			provider BDF and map them, after one host page, for
 *			DMA by the PCI device CLIENT through the DMA API;
 *			report the route, the DMA and physical address of
 *			the host page, the DMA address of the first p2pmem
 *			segment, and check each p2pmem segment against the
 *			provider's bus address on that route
 *   copy SRC DST BUF OFF LEN
 *			read LEN bytes (whole pages, at most 1 MiB) at byte
 *			offset OFF of block device SRC into a buffer, then
 *			write them at the same offset of block device DST,
 *			with one bio each way; BUF is a provider BDF (the
 *			buffer is its p2pmem) or "host" (host memory, the
 *			baseline); report both statuses
 *
 * Reading the file shows the result of the last command and what is held.
 * For testing only.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/init.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pmem.h"

#define CLIENT_MAX_HELD	16
#define CLIENT_MAX_PAGES	16
#define CLIENT_COPY_MAX		SZ_1M
#define CLIENT_MAX_REG		4

struct client_held {
	struct pci_dev *pdev;
	void *va;
	size_t size;
};

static DEFINE_MUTEX(client_lock);
static struct client_held client_held[CLIENT_MAX_HELD];
/* Providers registered through the client, each holding its device. */
static struct pci_dev *client_reg[CLIENT_MAX_REG];
static char client_result[320] = "none\n";

static int client_parse(char *args, struct pci_dev **pdev, size_t *size)
{
	unsigned int dom, bus, slot, fn;
	unsigned long long sz;
	char name[16], tail;

	/* Nothing may follow the size, or the function number. */
	if (sscanf(args, "%15s %llu %c", name, &sz, &tail) != 2 ||
	    sscanf(name, "%x:%x:%x.%1x%c", &dom, &bus, &slot, &fn, &tail) != 4 ||
	    !sz || sz > SZ_1G)
		return -EINVAL;
	*pdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	if (!*pdev)
		return -ENODEV;
	*size = sz;
	return 0;
}

static int client_roundtrip(struct pci_dev *pdev, size_t size)
{
	pci_bus_addr_t bus;
	size_t i, bad = 0;
	u32 *va;

	va = p2pmem_alloc(pdev, size);
	if (!va)
		return -ENOMEM;
	for (i = 0; i < size / 4; i++)
		WRITE_ONCE(va[i], 0xc0de0000 ^ i);
	for (i = 0; i < size / 4; i++)
		bad += READ_ONCE(va[i]) != (0xc0de0000 ^ i);
	if (p2pmem_virt_to_bus(pdev, va, &bus))
		bus = 0;
	p2pmem_free(pdev, va, size);
	snprintf(client_result, sizeof(client_result),
		 "roundtrip %s size %zu bus %#llx mismatches %zu\n",
		 pci_name(pdev), size, (unsigned long long)bus, bad);
	return bad ? -EIO : 0;
}

static struct pci_dev *client_dev(const char *name)
{
	unsigned int dom, bus, slot, fn;
	char tail;

	if (sscanf(name, "%x:%x:%x.%1x%c", &dom, &bus, &slot, &fn, &tail) != 4)
		return NULL;
	return pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
}

/* Check the mapped p2pmem segments; returns the number that are wrong. */
static int client_map_check(struct pci_dev *pdev, struct sg_table *sgt,
			    void *va, enum p2pmem_map_type type)
{
	struct scatterlist *sg;
	pci_bus_addr_t bus;
	int i, bad = 0;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i == 0)	/* the host page */
			continue;
		if (type != P2PMEM_MAP_BUS_ADDR) {
			/* Mapped by the original ops: never a bus address. */
			bad += sg_is_dma_bus_address(sg);
			continue;
		}
		if (p2pmem_virt_to_bus(pdev, va + (i - 1) * PAGE_SIZE, &bus))
			bad++;
		else
			bad += sg_dma_address(sg) != bus ||
			       !sg_is_dma_bus_address(sg);
	}
	return bad;
}

static int client_map(struct pci_dev *pdev, struct pci_dev *client,
		      size_t size)
{
	int i, ret, bad, npages = size >> PAGE_SHIFT;
	struct scatterlist *sg, *p2p;
	struct p2pmem_verdict v;
	struct sg_table sgt;
	struct page *host;
	void *va;

	/* Before npages counts: an int, it truncates a huge size. */
	if (!IS_ALIGNED(size, PAGE_SIZE) ||
	    size > CLIENT_MAX_PAGES * PAGE_SIZE)
		return -EINVAL;
	host = alloc_page(GFP_KERNEL);
	if (!host)
		return -ENOMEM;
	va = p2pmem_alloc(pdev, size);
	if (!va) {
		ret = -ENOMEM;
		goto out_host;
	}
	ret = sg_alloc_table(&sgt, npages + 1, GFP_KERNEL);
	if (ret)
		goto out_free;
	for_each_sgtable_sg(&sgt, sg, i) {
		if (i == 0)
			sg_set_page(sg, host, PAGE_SIZE, 0);
		else
			sg_set_buf(sg, va + (i - 1) * PAGE_SIZE, PAGE_SIZE);
	}

	p2pmem_verdict_compute(pdev, client, &v);
	ret = dma_map_sgtable(&client->dev, &sgt, DMA_TO_DEVICE, 0);
	if (ret) {
		snprintf(client_result, sizeof(client_result),
			 "map %s %s refused %d route %s: %s\n", pci_name(pdev),
			 pci_name(client), ret, p2pmem_map_type_name(v.type),
			 v.reason);
		goto out_table;
	}
	bad = client_map_check(pdev, &sgt, va, v.type);
	p2p = sgt.nents > 1 ? sg_next(sgt.sgl) : NULL;
	snprintf(client_result, sizeof(client_result),
		 "map %s %s ok route %s segments %u mismatches %d host dma %#llx phys %#llx p2p dma %#llx\n",
		 pci_name(pdev), pci_name(client),
		 p2pmem_map_type_name(v.type), sgt.nents, bad,
		 (unsigned long long)sg_dma_address(sgt.sgl),
		 (unsigned long long)page_to_phys(host),
		 p2p ? (unsigned long long)sg_dma_address(p2p) : 0ULL);
	dma_unmap_sgtable(&client->dev, &sgt, DMA_TO_DEVICE, 0);
	for_each_sgtable_sg(&sgt, sg, i)
		bad += sg_is_dma_bus_address(sg);
	ret = bad ? -EIO : 0;
out_table:
	sg_free_table(&sgt);
out_free:
	p2pmem_free(pdev, va, size);
out_host:
	__free_page(host);
	return ret;
}

static int client_map_cmd(char *args)
{
	struct pci_dev *pdev = NULL, *client = NULL;
	char prov[16], cli[16], tail;
	unsigned long long sz;
	int ret = -ENODEV;

	if (sscanf(args, "%15s %15s %llu %c", prov, cli, &sz, &tail) != 3 ||
	    !sz)
		return -EINVAL;
	pdev = client_dev(prov);
	client = client_dev(cli);
	if (pdev && client)
		ret = client_map(pdev, client, sz);
	pci_dev_put(pdev);
	pci_dev_put(client);
	return ret;
}

/* One bio of @len bytes at byte offset @off of @bdev, from or into @buf. */
static int client_bio(struct block_device *bdev, enum req_op op, loff_t off,
		      void *buf, size_t len)
{
	unsigned int i, nr = len >> PAGE_SHIFT;
	struct bio *bio;
	int ret = 0;

	bio = bio_alloc(bdev, nr, op, GFP_KERNEL);
	bio->bi_iter.bi_sector = off >> SECTOR_SHIFT;
	for (i = 0; i < nr; i++) {
		if (bio_add_page(bio, virt_to_page(buf + i * PAGE_SIZE),
				 PAGE_SIZE, 0) != PAGE_SIZE) {
			ret = -EIO;
			break;
		}
	}
	if (!ret)
		ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

static int client_copy(const char *src, const char *dst, const char *bufname,
		       loff_t off, size_t len)
{
	struct block_device *in, *out;
	struct pci_dev *prov = NULL;
	int rd = 0, wr = 0, ret;
	void *buf;

	if (!len || len > CLIENT_COPY_MAX || !IS_ALIGNED(len, PAGE_SIZE) ||
	    off < 0 || !IS_ALIGNED(off, PAGE_SIZE))
		return -EINVAL;
	if (strcmp(bufname, "host")) {
		prov = client_dev(bufname);
		if (!prov)
			return -ENODEV;
	}
	in = blkdev_get_by_path(src, FMODE_READ, NULL);
	if (IS_ERR(in)) {
		ret = PTR_ERR(in);
		goto out_prov;
	}
	out = blkdev_get_by_path(dst, FMODE_WRITE, NULL);
	if (IS_ERR(out)) {
		ret = PTR_ERR(out);
		goto out_in;
	}
	buf = prov ? p2pmem_alloc(prov, len) : alloc_pages_exact(len, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_out;
	}
	rd = client_bio(in, REQ_OP_READ, off, buf, len);
	if (!rd)
		wr = client_bio(out, REQ_OP_WRITE, off, buf, len);
	ret = rd ? rd : wr;
	snprintf(client_result, sizeof(client_result),
		 "copy %s %s buffer %s bytes %zu read %d write %d\n", src, dst,
		 prov ? pci_name(prov) : "host", len, rd, wr);
	if (prov)
		p2pmem_free(prov, buf, len);
	else
		free_pages_exact(buf, len);
out_out:
	blkdev_put(out, FMODE_WRITE);
out_in:
	blkdev_put(in, FMODE_READ);
out_prov:
	pci_dev_put(prov);
	return ret;
}

static int client_copy_cmd(char *args)
{
	char src[32], dst[32], bufname[16], tail;
	unsigned long long off, len;

	if (sscanf(args, "%31s %31s %15s %llu %llu %c", src, dst, bufname,
		   &off, &len, &tail) != 5 || off > LLONG_MAX)
		return -EINVAL;
	return client_copy(src, dst, bufname, off, len);
}

static int client_hold(struct pci_dev *pdev, size_t size)
{
	int i;

	for (i = 0; i < CLIENT_MAX_HELD; i++)
		if (!client_held[i].va)
			break;
	if (i == CLIENT_MAX_HELD)
		return -ENOSPC;
	client_held[i].va = p2pmem_alloc(pdev, size);
	if (!client_held[i].va)
		return -ENOMEM;
	client_held[i].pdev = pci_dev_get(pdev);
	client_held[i].size = size;
	snprintf(client_result, sizeof(client_result), "hold %s size %zu\n",
		 pci_name(pdev), size);
	return 0;
}

static void client_release(void)
{
	int i;

	for (i = 0; i < CLIENT_MAX_HELD; i++) {
		if (!client_held[i].va)
			continue;
		p2pmem_free(client_held[i].pdev, client_held[i].va,
			    client_held[i].size);
		pci_dev_put(client_held[i].pdev);
		client_held[i].va = NULL;
	}
	strscpy(client_result, "released\n", sizeof(client_result));
}

static int client_register_cmd(char *args)
{
	struct pci_dev *pdev;
	char name[16], tail;
	int i, bar, ret;

	if (sscanf(args, "%15s %d %c", name, &bar, &tail) != 2)
		return -EINVAL;
	for (i = 0; i < CLIENT_MAX_REG; i++)
		if (!client_reg[i])
			break;
	if (i == CLIENT_MAX_REG)
		return -ENOSPC;
	pdev = client_dev(name);
	if (!pdev)
		return -ENODEV;
	rcu_read_lock();
	ret = p2pmem_provider_of(pdev) ? -EBUSY : 0;
	rcu_read_unlock();
	if (!ret)
		ret = p2pmem_add_resource(pdev, bar, 0, 0);
	if (ret) {
		pci_dev_put(pdev);
		return ret;
	}
	client_reg[i] = pdev;
	snprintf(client_result, sizeof(client_result), "register %s bar %d\n",
		 pci_name(pdev), bar);
	return 0;
}

/*
 * Runs without client_lock: the removal waits for what is still
 * allocated, which a "release" may have to free meanwhile.
 */
static int client_unregister_cmd(char *args)
{
	struct p2pmem_provider *prov;
	struct pci_dev *pdev;
	int i;

	pdev = client_dev(args);
	if (!pdev)
		return -ENODEV;
	mutex_lock(&client_lock);
	for (i = 0; i < CLIENT_MAX_REG; i++)
		if (client_reg[i] == pdev)
			break;
	if (i < CLIENT_MAX_REG)
		client_reg[i] = NULL;
	mutex_unlock(&client_lock);
	pci_dev_put(pdev);
	if (i == CLIENT_MAX_REG)
		return -ENOENT;
	/* Only this client adds a provider to such a device. */
	rcu_read_lock();
	prov = p2pmem_provider_of(pdev);
	rcu_read_unlock();
	if (prov)
		p2pmem_remove_provider(prov);
	/* The reference client_register_cmd() took. */
	pci_dev_put(pdev);
	return 0;
}

static ssize_t client_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct pci_dev *pdev = NULL;
	char buf[128], *args;
	size_t size;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	args = strim(buf);

	if (!strncmp(args, "unregister ", 11)) {
		ret = client_unregister_cmd(args + 11);
		return ret ? ret : count;
	}

	mutex_lock(&client_lock);
	if (!strcmp(args, "release")) {
		client_release();
		ret = 0;
	} else if (!strncmp(args, "roundtrip ", 10)) {
		ret = client_parse(args + 10, &pdev, &size);
		if (!ret)
			ret = client_roundtrip(pdev, size);
	} else if (!strncmp(args, "map ", 4)) {
		ret = client_map_cmd(args + 4);
	} else if (!strncmp(args, "copy ", 5)) {
		ret = client_copy_cmd(args + 5);
	} else if (!strncmp(args, "register ", 9)) {
		ret = client_register_cmd(args + 9);
	} else if (!strncmp(args, "hold ", 5)) {
		ret = client_parse(args + 5, &pdev, &size);
		if (!ret)
			ret = client_hold(pdev, size);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&client_lock);
	pci_dev_put(pdev);
	return ret ? ret : count;
}

static int client_show(struct seq_file *m, void *unused)
{
	int i;

	mutex_lock(&client_lock);
	seq_puts(m, client_result);
	for (i = 0; i < CLIENT_MAX_HELD; i++)
		if (client_held[i].va)
			seq_printf(m, "held %s size %zu\n",
				   pci_name(client_held[i].pdev),
				   client_held[i].size);
	mutex_unlock(&client_lock);
	return 0;
}

static int client_open(struct inode *inode, struct file *file)
{
	return single_open(file, client_show, NULL);
}

static const struct file_operations client_fops = {
	.owner = THIS_MODULE,
	.open = client_open,
	.read = seq_read,
	.write = client_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init p2pmem_client_init(void)
{
	struct dentry *dir = debugfs_lookup("p2pmem", NULL);

	debugfs_create_file("client", 0600, dir, NULL, &client_fops);
	dput(dir);
	return 0;
}
late_initcall(p2pmem_client_init);
