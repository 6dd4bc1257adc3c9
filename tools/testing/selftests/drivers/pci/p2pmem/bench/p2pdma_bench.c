// SPDX-License-Identifier: GPL-2.0
/*
 * Baseline for p2pmem's DMA mapping benchmark (drivers/pci/p2pmem/bench.c):
 * the same measurements on a kernel without p2pmem, with the base's own
 * CONFIG_PCI_P2PDMA, whose DMA backends map P2PDMA pages themselves.
 * Built as an external module by harness/bench.sh; not for production.
 *
 *   echo "<provider> <client> <iterations>" > /sys/kernel/debug/p2pdma_bench/bench
 *   cat /sys/kernel/debug/p2pdma_bench/bench
 *
 * The provider's BAR 2 is registered with pci_p2pdma_add_resource() on the
 * first run (P2PDMA cannot unregister it without unbinding a driver). Each
 * result line reads "p2pdma api <kind> <nents> <ns>": the best of
 * BENCH_REPS runs of dma_map_sg() plus dma_unmap_sg(), in nanoseconds,
 * for kind host, p2p or half (host and P2PDMA pages interleaved). As in
 * p2pmem's benchmark, <iterations> is the loop count of a one-entry sgl
 * and an n-entry one runs iterations / n times; the runs of all
 * configurations take turns, after one untimed round.
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

/**
 * struct bench_ctx - one benchmark run
 * @provider: the device whose BAR is registered
 * @client: the device the scatterlists are mapped for
 * @host: host pages
 * @p2p: start of BENCH_MAX_NENTS P2PDMA pages
 * @sgl: the scatterlist, BENCH_MAX_NENTS entries
 * @iters: loop count for one-entry scatterlists
 * @best: best time of each kind and index in bench_nents
 */
struct bench_ctx {
	struct pci_dev *provider;
	struct device *client;
	struct page *host[BENCH_MAX_NENTS];
	void *p2p;
	struct scatterlist *sgl;
	unsigned long iters;
	u64 best[BENCH_NR_KINDS][ARRAY_SIZE(bench_nents)];
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
 * bench_fill() - lay out the scatterlist for one kind
 * @ctx: the run
 * @kind: which pages go in
 * @nents: number of entries
 *
 * Entry i holds host page i or P2PDMA page i; for BENCH_HALF the even
 * entries are host pages and the odd ones P2PDMA pages.
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
 * bench_phase() - measure every kind and size through the DMA API
 * @ctx: the run
 *
 * Every configuration is timed once per round, in turn; the first round
 * is not counted.
 *
 * Return: 0, or -EIO when a mapping failed.
 */
static int bench_phase(struct bench_ctx *ctx)
{
	unsigned long loops;
	int rep, i, kind;
	u64 t, centi;

	memset(ctx->best, 0xff, sizeof(ctx->best));
	for (rep = 0; rep <= BENCH_REPS; rep++) {
		for (i = 0; i < ARRAY_SIZE(bench_nents); i++) {
			loops = bench_loops(ctx, bench_nents[i]);
			for (kind = 0; kind < BENCH_NR_KINDS; kind++) {
				bench_fill(ctx, kind, bench_nents[i]);
				t = bench_api(ctx, bench_nents[i], loops);
				if (!t)
					return -EIO;
				if (rep)
					ctx->best[kind][i] =
						min(ctx->best[kind][i], t);
				cond_resched();
			}
		}
	}
	for (i = 0; i < ARRAY_SIZE(bench_nents); i++) {
		loops = bench_loops(ctx, bench_nents[i]);
		for (kind = 0; kind < BENCH_NR_KINDS; kind++) {
			centi = div64_u64(ctx->best[kind][i] * 100, loops);
			bench_print("p2pdma api %s %d %llu.%02llu\n",
				    bench_kind_name[kind], bench_nents[i],
				    div_u64(centi, 100), centi % 100);
		}
	}
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
	int i, ret;

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

	ret = -ENOMEM;
	ctx->sgl = kcalloc(BENCH_MAX_NENTS, sizeof(*ctx->sgl), GFP_KERNEL);
	if (!ctx->sgl)
		return -ENOMEM;
	ctx->p2p = pci_alloc_p2pmem(ctx->provider, size);
	if (!ctx->p2p)
		goto out;
	for (i = 0; i < BENCH_MAX_NENTS; i++) {
		ctx->host[i] = alloc_page(GFP_KERNEL);
		if (!ctx->host[i])
			goto out;
	}
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
	for (i = 0; i < BENCH_MAX_NENTS && ctx->host[i]; i++)
		__free_page(ctx->host[i]);
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
