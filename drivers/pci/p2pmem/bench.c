// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem DMA mapping benchmark, for developers; not for production kernels.
 *
 * Measures dma_map_sg() plus dma_unmap_sg() of scatterlists of 1, 16 and
 * 256 entries of PAGE_SIZE each, made of host pages, of p2pmem pages, or
 * of both interleaved (host, p2pmem, host, ...), for one client device:
 *
 *   echo "<provider> <client> <iterations>" > /sys/kernel/debug/p2pmem/bench
 *   cat /sys/kernel/debug/p2pmem/bench
 *
 * <provider> and <client> are PCI names (0000:03:00.0). The provider's
 * BAR 2 (the shared memory of QEMU's ivshmem-plain) is registered by the
 * benchmark itself and removed when it is done, so no other provider may
 * exist. <iterations> is the loop count for one-entry scatterlists; an
 * n-entry one runs iterations / n times (at least BENCH_MIN_LOOPS). Each
 * figure is the best of BENCH_REPS runs, in nanoseconds per map and unmap;
 * the runs of all configurations take turns, after one untimed round, so
 * that a slow spell of the machine does not spoil all runs of one.
 * Every result line reads "p2pmem <path> <kind> <nents> <ns>", where path
 * is one of
 *
 *   noprov-api     the DMA API, before any provider exists (host pages)
 *   noprov-direct  the device's DMA operations called directly, then
 *   shim           the DMA API once the provider exists: the client then
 *                  goes through p2pmem's shim
 *   orig           the operations the shim stacks on, called directly
 *                  while the shim is installed (host pages)
 *
 * and kind is host, p2p or half.
 */
#define pr_fmt(fmt) "p2pmem bench: " fmt

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pmem.h"

#define BENCH_BAR		2	/* ivshmem-plain's shared memory */
#define BENCH_REPS		7
#define BENCH_MAX_NENTS		256
#define BENCH_MIN_LOOPS		16
#define BENCH_OUT_SIZE		8192

static const int bench_nents[] = { 1, 16, BENCH_MAX_NENTS };

enum bench_kind {
	BENCH_HOST,
	BENCH_P2P,
	BENCH_HALF,
	BENCH_NR_KINDS,
};

static const char * const bench_kind_name[] = {
	[BENCH_HOST] = "host",
	[BENCH_P2P] = "p2p",
	[BENCH_HALF] = "half",
};

enum bench_path {
	BENCH_NOPROV_API,
	BENCH_NOPROV_DIRECT,
	BENCH_SHIM,
	BENCH_ORIG,
	BENCH_NR_PATHS,
};

static const char * const bench_path_name[] = {
	[BENCH_NOPROV_API] = "noprov-api",
	[BENCH_NOPROV_DIRECT] = "noprov-direct",
	[BENCH_SHIM] = "shim",
	[BENCH_ORIG] = "orig",
};

/**
 * struct bench_ctx - one benchmark run
 * @provider: the device whose BAR is registered
 * @client: the device the scatterlists are mapped for
 * @host: host pages
 * @p2p: start of BENCH_MAX_NENTS p2pmem pages
 * @sgl: the scatterlist, BENCH_MAX_NENTS entries
 * @iters: loop count for one-entry scatterlists
 * @best: best time of each path, kind and index in bench_nents
 */
struct bench_ctx {
	struct pci_dev *provider;
	struct device *client;
	struct page *host[BENCH_MAX_NENTS];
	void *p2p;
	struct scatterlist *sgl;
	unsigned long iters;
	u64 best[BENCH_NR_PATHS][BENCH_NR_KINDS][ARRAY_SIZE(bench_nents)];
};

/* Results of the last run, and serialisation of runs. */
static DEFINE_MUTEX(bench_mutex);
static char *bench_out;
static size_t bench_out_len;

/**
 * bench_print() - append to the results of the current run
 * @fmt: printf format
 *
 * Output that does not fit in BENCH_OUT_SIZE is dropped.
 */
static __printf(1, 2) void bench_print(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	bench_out_len += vscnprintf(bench_out + bench_out_len,
				    BENCH_OUT_SIZE - bench_out_len, fmt, args);
	va_end(args);
}

/**
 * bench_fill() - lay out the scatterlist for one kind
 * @ctx: the run
 * @kind: which pages go in
 * @nents: number of entries
 *
 * Entry i holds host page i or p2pmem page i; for BENCH_HALF the even
 * entries are host pages and the odd ones p2pmem pages.
 */
static void bench_fill(struct bench_ctx *ctx, enum bench_kind kind, int nents)
{
	struct scatterlist *sg;
	struct page *page;
	int i;

	sg_init_table(ctx->sgl, nents);
	for_each_sg(ctx->sgl, sg, nents, i) {
		if (kind == BENCH_HOST || (kind == BENCH_HALF && !(i & 1)))
			page = ctx->host[i];
		else
			page = virt_to_page(ctx->p2p + i * PAGE_SIZE);
		sg_set_page(sg, page, PAGE_SIZE, 0);
	}
}

/**
 * bench_loops() - how often to map an sgl of @nents entries
 * @ctx: the run
 * @nents: number of entries
 *
 * Return: the loop count.
 */
static unsigned long bench_loops(struct bench_ctx *ctx, int nents)
{
	return max_t(unsigned long, ctx->iters / nents, BENCH_MIN_LOOPS);
}

/**
 * bench_api() - time @loops dma_map_sg() and dma_unmap_sg() calls
 * @ctx: the run, its scatterlist filled
 * @nents: number of entries
 * @loops: number of map and unmap pairs
 *
 * Return: elapsed nanoseconds, or 0 when a mapping failed.
 */
static u64 bench_api(struct bench_ctx *ctx, int nents, unsigned long loops)
{
	struct device *dev = ctx->client;
	unsigned long i;
	u64 start;

	start = ktime_get_ns();
	for (i = 0; i < loops; i++) {
		if (unlikely(!dma_map_sg(dev, ctx->sgl, nents, DMA_TO_DEVICE)))
			return 0;
		dma_unmap_sg(dev, ctx->sgl, nents, DMA_TO_DEVICE);
	}
	return ktime_get_ns() - start;
}

/**
 * bench_ops() - time @loops map_sg and unmap_sg calls of the original ops
 * @ctx: the run, its scatterlist filled
 * @nents: number of entries
 * @loops: number of map and unmap pairs
 *
 * The operations are those p2pmem_dma_orig_ops() gives for the client:
 * what its shim stacks on, or its own when it has no shim.
 *
 * Return: elapsed nanoseconds, or 0 when a mapping failed.
 */
static u64 bench_ops(struct bench_ctx *ctx, int nents, unsigned long loops)
{
	const struct dma_map_ops *ops = p2pmem_dma_orig_ops(ctx->client);
	struct device *dev = ctx->client;
	unsigned long i;
	u64 start;

	start = ktime_get_ns();
	for (i = 0; i < loops; i++) {
		if (unlikely(ops->map_sg(dev, ctx->sgl, nents, DMA_TO_DEVICE,
					 0) <= 0))
			return 0;
		ops->unmap_sg(dev, ctx->sgl, nents, DMA_TO_DEVICE, 0);
	}
	return ktime_get_ns() - start;
}

/**
 * bench_report() - add the result lines of one path
 * @ctx: the run
 * @path: the path
 * @kinds: the kinds measured, a mask of BIT(enum bench_kind)
 */
static void bench_report(struct bench_ctx *ctx, enum bench_path path,
			 unsigned int kinds)
{
	unsigned long loops;
	int i, kind;
	u64 centi;

	for (i = 0; i < ARRAY_SIZE(bench_nents); i++) {
		loops = bench_loops(ctx, bench_nents[i]);
		for (kind = 0; kind < BENCH_NR_KINDS; kind++) {
			if (!(kinds & BIT(kind)))
				continue;
			centi = div64_u64(ctx->best[path][kind][i] * 100, loops);
			bench_print("p2pmem %s %s %d %llu.%02llu\n",
				    bench_path_name[path], bench_kind_name[kind],
				    bench_nents[i], div_u64(centi, 100),
				    centi % 100);
		}
	}
}

/**
 * bench_one() - time one path for one kind and size
 * @ctx: the run, its scatterlist filled
 * @path: the path
 * @kind: kind of scatterlist
 * @i: index of the size in bench_nents
 * @count: whether the time counts, or the round is a warm-up
 *
 * Return: 0, or -EIO when a mapping failed.
 */
static int bench_one(struct bench_ctx *ctx, enum bench_path path,
		     enum bench_kind kind, int i, bool count)
{
	unsigned long loops = bench_loops(ctx, bench_nents[i]);
	u64 t;

	if (path == BENCH_NOPROV_API || path == BENCH_SHIM)
		t = bench_api(ctx, bench_nents[i], loops);
	else
		t = bench_ops(ctx, bench_nents[i], loops);
	cond_resched();
	if (!t)
		return -EIO;
	if (count)
		ctx->best[path][kind][i] = min(ctx->best[path][kind][i], t);
	return 0;
}

/**
 * bench_phase() - measure a path through the DMA API and one through the ops
 * @ctx: the run
 * @api: the path through the DMA API
 * @ops: the path that calls the original operations directly
 * @kinds: the kinds to measure through the DMA API, a mask of
 *	BIT(enum bench_kind); @ops is measured for host pages only
 *
 * Every configuration is timed once per round, in turn, @api and @ops
 * taking turns at going first; the first round is not counted. The best
 * time of each goes to @ctx->best.
 *
 * Return: 0, or -EIO when a mapping failed.
 */
static int bench_phase(struct bench_ctx *ctx, enum bench_path api,
		       enum bench_path ops, unsigned int kinds)
{
	enum bench_path first, second;
	int rep, i, kind, ret;

	memset(ctx->best[api], 0xff, sizeof(ctx->best[api]));
	memset(ctx->best[ops], 0xff, sizeof(ctx->best[ops]));
	for (rep = 0; rep <= BENCH_REPS; rep++) {
		first = rep & 1 ? ops : api;
		second = rep & 1 ? api : ops;
		for (i = 0; i < ARRAY_SIZE(bench_nents); i++) {
			for (kind = 0; kind < BENCH_NR_KINDS; kind++) {
				if (!(kinds & BIT(kind)))
					continue;
				bench_fill(ctx, kind, bench_nents[i]);
				if (kind != BENCH_HOST) {
					ret = bench_one(ctx, api, kind, i, rep);
					if (ret)
						return ret;
					continue;
				}
				ret = bench_one(ctx, first, kind, i, rep);
				if (!ret)
					ret = bench_one(ctx, second, kind, i,
							rep);
				if (ret)
					return ret;
			}
		}
	}
	bench_report(ctx, api, kinds);
	bench_report(ctx, ops, BIT(BENCH_HOST));
	return 0;
}

/**
 * bench_check_bus() - check that p2pmem entries are mapped at bus addresses
 * @ctx: the run
 *
 * Maps an interleaved scatterlist once through the DMA API.
 *
 * Return: 0, -EIO when the mapping fails, -EXDEV when a p2pmem entry was
 * not given a bus address.
 */
static int bench_check_bus(struct bench_ctx *ctx)
{
	struct scatterlist *sg;
	int i, ret = 0;

	bench_fill(ctx, BENCH_HALF, BENCH_MAX_NENTS);
	if (!dma_map_sg(ctx->client, ctx->sgl, BENCH_MAX_NENTS, DMA_TO_DEVICE))
		return -EIO;
	for_each_sg(ctx->sgl, sg, BENCH_MAX_NENTS, i)
		if ((i & 1) && !sg_is_dma_bus_address(sg))
			ret = -EXDEV;
	dma_unmap_sg(ctx->client, ctx->sgl, BENCH_MAX_NENTS, DMA_TO_DEVICE);
	return ret;
}

/**
 * bench_remove_provider() - remove the provider the benchmark registered
 * @pdev: the provider's device
 */
static void bench_remove_provider(struct pci_dev *pdev)
{
	struct p2pmem_provider *prov;

	mutex_lock(&p2pmem_lock);
	prov = p2pmem_provider_of(pdev);
	mutex_unlock(&p2pmem_lock);
	/*
	 * Removal takes p2pmem_lock itself. The provider cannot go away in
	 * between: it is the benchmark's, on a device it holds a reference
	 * to, and runs are serialised by bench_mutex.
	 */
	if (prov)
		p2pmem_remove_provider(prov);
}

/**
 * bench_with_provider() - the measurements that need the provider
 * @ctx: the run
 *
 * Registers the provider, allocates its pages, measures the shim and the
 * original operations, and removes the provider again.
 *
 * Return: 0 or a negative errno.
 */
static int bench_with_provider(struct bench_ctx *ctx)
{
	const size_t size = BENCH_MAX_NENTS * PAGE_SIZE;
	enum p2pmem_map_type type;
	int ret;

	ret = p2pmem_add_resource(ctx->provider, BENCH_BAR, 0, 0);
	if (ret) {
		pr_err("cannot register BAR %d of %s: %d\n", BENCH_BAR,
		       pci_name(ctx->provider), ret);
		return ret;
	}
	type = p2pmem_map_type(ctx->provider, ctx->client);
	if (type != P2PMEM_MAP_BUS_ADDR) {
		pr_err("route from %s to %s is %s, not bus address\n",
		       dev_name(ctx->client), pci_name(ctx->provider),
		       p2pmem_map_type_name(type));
		ret = -EXDEV;
		goto out_remove;
	}
	if (!p2pmem_dma_shim_of(ctx->client)) {
		pr_err("%s did not get the DMA shim\n", dev_name(ctx->client));
		ret = -ENXIO;
		goto out_remove;
	}
	ctx->p2p = p2pmem_alloc(ctx->provider, size);
	if (!ctx->p2p) {
		ret = -ENOMEM;
		goto out_remove;
	}
	ret = bench_check_bus(ctx);
	if (ret) {
		pr_err("p2pmem pages were not mapped at bus addresses: %d\n",
		       ret);
		goto out_free;
	}
	bench_print("# shim on %ps\n", p2pmem_dma_orig_ops(ctx->client)->map_sg);
	ret = bench_phase(ctx, BENCH_SHIM, BENCH_ORIG,
			  BIT(BENCH_HOST) | BIT(BENCH_P2P) | BIT(BENCH_HALF));
out_free:
	p2pmem_free(ctx->provider, ctx->p2p, size);
	ctx->p2p = NULL;
out_remove:
	bench_remove_provider(ctx->provider);
	return ret;
}

/**
 * bench_run() - the whole benchmark
 * @ctx: the run, with provider, client and iterations set
 *
 * Return: 0 or a negative errno.
 */
static int bench_run(struct bench_ctx *ctx)
{
	bool busy;
	int i, ret = -ENOMEM;

	mutex_lock(&p2pmem_lock);
	busy = !xa_empty(&p2pmem_providers) ||
	       p2pmem_dma_shim_of(ctx->client);
	mutex_unlock(&p2pmem_lock);
	if (busy) {
		pr_err("a provider or a DMA shim exists; the benchmark needs none\n");
		return -EBUSY;
	}

	ctx->sgl = kcalloc(BENCH_MAX_NENTS, sizeof(*ctx->sgl), GFP_KERNEL);
	if (!ctx->sgl)
		return -ENOMEM;
	for (i = 0; i < BENCH_MAX_NENTS; i++) {
		ctx->host[i] = alloc_page(GFP_KERNEL);
		if (!ctx->host[i])
			goto out;
	}

	bench_print("# provider %s client %s iterations %lu reps %d\n",
		    pci_name(ctx->provider), dev_name(ctx->client), ctx->iters,
		    BENCH_REPS);
	bench_print("# noprov on %ps\n",
		    p2pmem_dma_orig_ops(ctx->client)->map_sg);
	/* No provider: the DMA API's guard is off, the client has no shim. */
	ret = bench_phase(ctx, BENCH_NOPROV_API, BENCH_NOPROV_DIRECT,
			  BIT(BENCH_HOST));
	if (ret)
		goto out;
	ret = bench_with_provider(ctx);
out:
	for (i = 0; i < BENCH_MAX_NENTS && ctx->host[i]; i++)
		__free_page(ctx->host[i]);
	kfree(ctx->sgl);
	return ret;
}

/**
 * bench_get_pci() - look a PCI device up by name
 * @name: domain:bus:device.function
 *
 * Return: a referenced device, or %NULL.
 */
static struct pci_dev *bench_get_pci(const char *name)
{
	unsigned int domain, bus, slot, fn;
	char junk;

	if (sscanf(name, "%x:%x:%x.%x%c", &domain, &bus, &slot, &fn,
		   &junk) != 4)
		return NULL;
	return pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
}

/**
 * bench_write() - run the benchmark
 * @file: the debugfs file
 * @ubuf: "<provider> <client> <iterations>"
 * @count: length of @ubuf
 * @ppos: file position, unused
 *
 * Return: @count, or a negative errno when the run failed (the results
 * then end with a "# failed" line).
 */
static ssize_t bench_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	char buf[80], prov_name[32], client_name[32];
	struct pci_dev *client = NULL;
	struct bench_ctx *ctx;
	ssize_t ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ret = -EINVAL;
	if (sscanf(buf, "%31s %31s %lu", prov_name, client_name,
		   &ctx->iters) != 3 || !ctx->iters)
		goto out;
	ret = -ENODEV;
	ctx->provider = bench_get_pci(prov_name);
	client = bench_get_pci(client_name);
	if (!ctx->provider || !client)
		goto out;
	ctx->client = &client->dev;

	mutex_lock(&bench_mutex);
	bench_out_len = 0;
	bench_out[0] = '\0';
	if (!ctx->client->driver)
		pr_err("%s has no driver\n", pci_name(client));
	else
		ret = bench_run(ctx);
	if (ret)
		bench_print("# failed: %zd\n", ret);
	mutex_unlock(&bench_mutex);
out:
	pci_dev_put(client);
	pci_dev_put(ctx->provider);
	kfree(ctx);
	return ret ? ret : count;
}

/**
 * bench_read() - read the results of the last run
 * @file: the debugfs file
 * @ubuf: user buffer
 * @count: size of @ubuf
 * @ppos: file position
 *
 * Return: bytes read, or a negative errno.
 */
static ssize_t bench_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_mutex);
	ret = simple_read_from_buffer(ubuf, count, ppos, bench_out,
				      bench_out_len);
	mutex_unlock(&bench_mutex);
	return ret;
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.read = bench_read,
	.write = bench_write,
	.llseek = default_llseek,
};

/**
 * p2pmem_bench_init() - create /sys/kernel/debug/p2pmem/bench
 *
 * Return: 0, or -ENOMEM.
 */
static int __init p2pmem_bench_init(void)
{
	struct dentry *dir;

	bench_out = kzalloc(BENCH_OUT_SIZE, GFP_KERNEL);
	if (!bench_out)
		return -ENOMEM;
	/* p2pmem's own directory, made at subsys_initcall time. */
	dir = debugfs_lookup("p2pmem", NULL);
	if (!IS_ERR_OR_NULL(dir)) {
		debugfs_create_file("bench", 0600, dir, NULL, &bench_fops);
		dput(dir);
	} else {
		dir = debugfs_create_dir("p2pmem_bench", NULL);
		debugfs_create_file("bench", 0600, dir, NULL, &bench_fops);
	}
	return 0;
}
late_initcall(p2pmem_bench_init);
