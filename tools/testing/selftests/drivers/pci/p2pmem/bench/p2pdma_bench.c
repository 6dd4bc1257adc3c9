// SPDX-License-Identifier: GPL-2.0
/*
 * Baseline for p2pmem's DMA mapping benchmark (drivers/pci/p2pmem/bench.c):
 * the same measurements on the base kernel without the p2pmem series, with
 * its own CONFIG_PCI_P2PDMA, whose DMA backends map P2PDMA pages
 * themselves. For host pages this is the unpatched base's DMA API.
 * Built as an external module by harness/bench.sh; not for production.
 *
 *   echo "<provider> <client> <iterations>" > /sys/kernel/debug/p2pdma_bench/bench
 *   cat /sys/kernel/debug/p2pdma_bench/bench
 *
 * The provider's BAR 2 is registered with pci_p2pdma_add_resource() on the
 * first run (P2PDMA cannot unregister it without unbinding a driver). Each
 * result line reads "p2pdma api <op> <kind> <nents> <ns>": the best of
 * BENCH_REPS runs of op (sg: dma_map_sg() plus dma_unmap_sg(); page:
 * dma_map_page() plus dma_unmap_page(); sync: dma_sync_sg_for_cpu() plus
 * dma_sync_sg_for_device()), in nanoseconds, for kind host, p2p or half
 * (host and P2PDMA pages interleaved). The cases, the loop counts, the
 * order of the runs and the layout of the host pages (every other page of
 * one block) are those of p2pmem's benchmark.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define BENCH_BAR		2	/* ivshmem-plain's shared memory */
#define BENCH_REPS		7
#define BENCH_MAX_NENTS		256
#define BENCH_MIN_LOOPS		16
#define BENCH_OUT_SIZE		8192
/* Host pages: every other page of a block of this order. */
#define BENCH_HOST_ORDER	get_order(2 * BENCH_MAX_NENTS * PAGE_SIZE)

enum bench_op {
	BENCH_OP_SG,
	BENCH_OP_PAGE,
	BENCH_OP_SYNC,
};

static const char * const bench_op_name[] = {
	[BENCH_OP_SG] = "sg",
	[BENCH_OP_PAGE] = "page",
	[BENCH_OP_SYNC] = "sync",
};

enum bench_kind {
	BENCH_HOST,
	BENCH_P2P,
	BENCH_HALF,
};

static const char * const bench_kind_name[] = {
	[BENCH_HOST] = "host",
	[BENCH_P2P] = "p2p",
	[BENCH_HALF] = "half",
};

/* One measured configuration. */
struct bench_case {
	enum bench_op op;
	enum bench_kind kind;
	int nents;
};

/* The cases of p2pmem's benchmark, in its order. */
static const struct bench_case bench_cases[] = {
	{ BENCH_OP_SG, BENCH_HOST, 1 }, { BENCH_OP_SG, BENCH_HOST, 16 },
	{ BENCH_OP_SG, BENCH_HOST, 256 }, { BENCH_OP_SG, BENCH_P2P, 1 },
	{ BENCH_OP_SG, BENCH_P2P, 16 }, { BENCH_OP_SG, BENCH_P2P, 256 },
	{ BENCH_OP_SG, BENCH_HALF, 1 }, { BENCH_OP_SG, BENCH_HALF, 16 },
	{ BENCH_OP_SG, BENCH_HALF, 256 },
	{ BENCH_OP_PAGE, BENCH_HOST, 1 }, { BENCH_OP_PAGE, BENCH_P2P, 1 },
	{ BENCH_OP_SYNC, BENCH_HOST, 16 }, { BENCH_OP_SYNC, BENCH_P2P, 16 },
	{ BENCH_OP_SYNC, BENCH_HALF, 16 },
};

#define BENCH_NR_CASES	ARRAY_SIZE(bench_cases)

/**
 * struct bench_ctx - one benchmark run
 * @provider: the device whose BAR is registered
 * @client: the device the scatterlists are mapped for
 * @block: the block the host pages come from
 * @host: host pages
 * @p2p: start of BENCH_MAX_NENTS P2PDMA pages
 * @sgl: the scatterlist, BENCH_MAX_NENTS entries
 * @iters: loop count for one-entry scatterlists
 * @best: best time of each case
 */
struct bench_ctx {
	struct pci_dev *provider;
	struct device *client;
	struct page *block;
	struct page *host[BENCH_MAX_NENTS];
	void *p2p;
	struct scatterlist *sgl;
	unsigned long iters;
	u64 best[BENCH_NR_CASES];
};

static DEFINE_MUTEX(bench_mutex);
static struct dentry *bench_dir;
static struct pci_dev *bench_registered;
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
 * bench_page() - the page of entry @i for a kind
 * @ctx: the run
 * @kind: which pages go in
 * @i: index of the entry
 *
 * Entry i holds host page i or P2PDMA page i; for BENCH_HALF the even
 * entries are host pages and the odd ones P2PDMA pages.
 *
 * Return: the page.
 */
static struct page *bench_page(struct bench_ctx *ctx, enum bench_kind kind,
			       int i)
{
	if (kind == BENCH_HOST || (kind == BENCH_HALF && !(i & 1)))
		return ctx->host[i];
	return virt_to_page(ctx->p2p + i * PAGE_SIZE);
}

/**
 * bench_fill() - lay out the scatterlist for one kind
 * @ctx: the run
 * @kind: which pages go in
 * @nents: number of entries
 */
static void bench_fill(struct bench_ctx *ctx, enum bench_kind kind, int nents)
{
	struct scatterlist *sg;
	int i;

	sg_init_table(ctx->sgl, nents);
	for_each_sg(ctx->sgl, sg, nents, i)
		sg_set_page(sg, bench_page(ctx, kind, i), PAGE_SIZE, 0);
}

/**
 * bench_loops() - how often to run a case
 * @ctx: the run
 * @c: the case
 *
 * Return: the loop count.
 */
static unsigned long bench_loops(struct bench_ctx *ctx,
				 const struct bench_case *c)
{
	return max_t(unsigned long, ctx->iters / c->nents, BENCH_MIN_LOOPS);
}

/**
 * bench_sg() - time @loops dma_map_sg() and dma_unmap_sg() calls
 * @ctx: the run, its scatterlist filled
 * @nents: number of entries
 * @loops: number of map and unmap pairs
 *
 * Return: elapsed nanoseconds, or 0 when a mapping failed.
 */
static u64 bench_sg(struct bench_ctx *ctx, int nents, unsigned long loops)
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
 * bench_single() - time @loops dma_map_page() and dma_unmap_page() calls
 * @ctx: the run
 * @page: the page
 * @loops: number of map and unmap pairs
 *
 * Return: elapsed nanoseconds, or 0 when a mapping failed.
 */
static u64 bench_single(struct bench_ctx *ctx, struct page *page,
			unsigned long loops)
{
	struct device *dev = ctx->client;
	unsigned long i;
	dma_addr_t addr;
	u64 start;

	start = ktime_get_ns();
	for (i = 0; i < loops; i++) {
		addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
		if (unlikely(dma_mapping_error(dev, addr)))
			return 0;
		dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	}
	return ktime_get_ns() - start;
}

/**
 * bench_sync() - time @loops syncs of a scatterlist for the CPU and back
 * @ctx: the run, its scatterlist filled
 * @nents: number of entries
 * @loops: number of sync pairs
 *
 * Return: elapsed nanoseconds, or 0 when the mapping failed.
 */
static u64 bench_sync(struct bench_ctx *ctx, int nents, unsigned long loops)
{
	struct device *dev = ctx->client;
	unsigned long i;
	u64 start, t;

	if (!dma_map_sg(dev, ctx->sgl, nents, DMA_TO_DEVICE))
		return 0;
	start = ktime_get_ns();
	for (i = 0; i < loops; i++) {
		dma_sync_sg_for_cpu(dev, ctx->sgl, nents, DMA_TO_DEVICE);
		dma_sync_sg_for_device(dev, ctx->sgl, nents, DMA_TO_DEVICE);
	}
	t = ktime_get_ns() - start;
	dma_unmap_sg(dev, ctx->sgl, nents, DMA_TO_DEVICE);
	return t;
}

/**
 * bench_phase() - measure every case through the DMA API
 * @ctx: the run
 *
 * Every case is timed once per round, in turn; the first round is not
 * counted.
 *
 * Return: 0, or -EIO when a mapping failed.
 */
static int bench_phase(struct bench_ctx *ctx)
{
	const struct bench_case *c;
	unsigned long loops;
	int rep, ci;
	u64 t, centi;

	memset(ctx->best, 0xff, sizeof(ctx->best));
	for (rep = 0; rep <= BENCH_REPS; rep++) {
		for (ci = 0; ci < BENCH_NR_CASES; ci++) {
			c = &bench_cases[ci];
			loops = bench_loops(ctx, c);
			if (c->op != BENCH_OP_PAGE)
				bench_fill(ctx, c->kind, c->nents);
			if (c->op == BENCH_OP_PAGE)
				t = bench_single(ctx, bench_page(ctx, c->kind, 1),
						 loops);
			else if (c->op == BENCH_OP_SYNC)
				t = bench_sync(ctx, c->nents, loops);
			else
				t = bench_sg(ctx, c->nents, loops);
			if (!t)
				return -EIO;
			if (rep)
				ctx->best[ci] = min(ctx->best[ci], t);
			cond_resched();
		}
	}
	for (ci = 0; ci < BENCH_NR_CASES; ci++) {
		c = &bench_cases[ci];
		centi = div64_u64(ctx->best[ci] * 100, bench_loops(ctx, c));
		bench_print("p2pdma api %s %s %d %llu.%02llu\n",
			    bench_op_name[c->op], bench_kind_name[c->kind],
			    c->nents, div_u64(centi, 100), centi % 100);
	}
	return 0;
}

/**
 * bench_host_pages() - take the host pages, and say how the old way fell
 * @ctx: the run
 *
 * As in p2pmem's benchmark: every other page of one block, and a count of
 * how many of 256 alloc_page() pages physically follow the one before.
 *
 * Return: 0, or -ENOMEM.
 */
static int bench_host_pages(struct bench_ctx *ctx)
{
	int i, adjacent = 0;

	for (i = 0; i < BENCH_MAX_NENTS; i++) {
		ctx->host[i] = alloc_page(GFP_KERNEL);
		if (!ctx->host[i])
			break;
		if (i && page_to_pfn(ctx->host[i]) ==
			 page_to_pfn(ctx->host[i - 1]) + 1)
			adjacent++;
	}
	bench_print("# alloc_page() x%d: %d pages physically follow the one before\n",
		    i, adjacent);
	while (i--)
		__free_page(ctx->host[i]);
	ctx->block = alloc_pages(GFP_KERNEL, BENCH_HOST_ORDER);
	if (!ctx->block)
		return -ENOMEM;
	for (i = 0; i < BENCH_MAX_NENTS; i++)
		ctx->host[i] = nth_page(ctx->block, 2 * i);
	bench_print("# host pages: every other page of an order-%d block\n",
		    BENCH_HOST_ORDER);
	return 0;
}

/**
 * bench_check_bus() - check that P2PDMA entries are mapped at bus addresses
 * @ctx: the run
 *
 * Return: 0, -EIO when the mapping fails, -EXDEV when a P2PDMA entry was
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
 * bench_run() - the whole benchmark
 * @ctx: the run, with provider, client and iterations set
 *
 * Return: 0 or a negative errno.
 */
static int bench_run(struct bench_ctx *ctx)
{
	const size_t size = BENCH_MAX_NENTS * PAGE_SIZE;
	const struct dma_map_ops *ops;
	int ret;

	if (bench_registered && bench_registered != ctx->provider)
		return -EBUSY;
	if (!bench_registered) {
		ret = pci_p2pdma_add_resource(ctx->provider, BENCH_BAR, 0, 0);
		if (ret) {
			pr_err("cannot register BAR %d of %s: %d\n", BENCH_BAR,
			       pci_name(ctx->provider), ret);
			return ret;
		}
		bench_registered = pci_dev_get(ctx->provider);
	}
	if (pci_p2pdma_distance(ctx->provider, ctx->client, true) < 0)
		return -EXDEV;

	ctx->sgl = kcalloc(BENCH_MAX_NENTS, sizeof(*ctx->sgl), GFP_KERNEL);
	if (!ctx->sgl)
		return -ENOMEM;
	ret = -ENOMEM;
	ctx->p2p = pci_alloc_p2pmem(ctx->provider, size);
	if (!ctx->p2p)
		goto out;
	ret = bench_host_pages(ctx);
	if (ret)
		goto out;
	ret = bench_check_bus(ctx);
	if (ret) {
		pr_err("P2PDMA pages were not mapped at bus addresses: %d\n",
		       ret);
		goto out;
	}

	ops = get_dma_ops(ctx->client);
	bench_print("# provider %s client %s iterations %lu reps %d\n",
		    pci_name(ctx->provider), dev_name(ctx->client), ctx->iters,
		    BENCH_REPS);
	if (ops)
		bench_print("# p2pdma on %ps\n", ops->map_sg);
	else
		bench_print("# p2pdma on dma-direct\n");
	ret = bench_phase(ctx);
out:
	if (ctx->block)
		__free_pages(ctx->block, BENCH_HOST_ORDER);
	if (ctx->p2p)
		pci_free_p2pmem(ctx->provider, ctx->p2p, size);
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

static int __init p2pdma_bench_init(void)
{
	bench_out = kzalloc(BENCH_OUT_SIZE, GFP_KERNEL);
	if (!bench_out)
		return -ENOMEM;
	bench_dir = debugfs_create_dir("p2pdma_bench", NULL);
	debugfs_create_file("bench", 0600, bench_dir, NULL, &bench_fops);
	return 0;
}
module_init(p2pdma_bench_init);

static void __exit p2pdma_bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
	pci_dev_put(bench_registered);
	kfree(bench_out);
}
module_exit(p2pdma_bench_exit);

MODULE_DESCRIPTION("P2PDMA dma_map_sg baseline for the p2pmem benchmark");
MODULE_LICENSE("GPL");
