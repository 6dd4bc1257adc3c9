// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem DMA mapping benchmark, for developers; not for production kernels.
 *
 * Times, for one client device, three operations of the DMA API on lists
 * of 1, 16 and 256 entries of PAGE_SIZE each, made of host pages, of
 * p2pmem pages, or of both interleaved (host, p2pmem, host, ...):
 *
 *   sg    dma_map_sg() + dma_unmap_sg()
 *   page  dma_map_page() + dma_unmap_page() of one page (NVMe's fast path)
 *   sync  dma_sync_sg_for_cpu() + dma_sync_sg_for_device() of a list
 *         mapped once
 *
 *   echo "<provider> <client> <iterations>" > /sys/kernel/debug/p2pmem/bench
 *   cat /sys/kernel/debug/p2pmem/bench
 *
 * <provider> and <client> are PCI names (0000:03:00.0). The provider's
 * BAR 2 (the shared memory of QEMU's ivshmem-plain) is registered by the
 * benchmark itself and removed when it is done, so no other provider may
 * exist. <iterations> is the loop count for one-entry lists; an n-entry
 * one runs iterations / n times (at least BENCH_MIN_LOOPS). Each figure is
 * the best of BENCH_REPS runs, in nanoseconds per operation pair; the
 * runs of all configurations take turns, after one untimed round, so that
 * a slow spell of the machine does not spoil all runs of one.
 *
 * The host pages are every other page of one block of the page allocator:
 * no two entries are physically adjacent, in this kernel and in the
 * baseline module alike (an IOMMU maps adjacent pages in one call, so the
 * layout alone changes its cost; see the "# alloc_page" line).
 *
 * Every result line reads "p2pmem <path> <op> <kind> <nents> <ns>", where
 * path is one of
 *
 *   noprov-api     the DMA API, before any provider exists (host pages)
 *   noprov-direct  the device's DMA operations called directly, then
 *                  (host pages, sg only)
 *   shim           the DMA API once the provider exists: the client then
 *                  goes through p2pmem's shim
 *   orig           the operations the shim stacks on, called directly
 *                  while the shim is installed (host pages, sg only)
 *
 * and kind is host, p2p or half. Lines "p2pmem calls <op> <kind> <nents>
 * <map> <unmap>" give how often one map and one unmap through the shim
 * called the original operations (map_sg, map_page; unmap_sg,
 * unmap_page), counted by a layer put under the shim in the second of
 * two untimed rounds of the case.
 */
#define pr_fmt(fmt) "p2pmem bench: " fmt

#include <linux/debugfs.h>
#include <linux/dma-map-ops.h>
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
#define BENCH_OUT_SIZE		16384
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
 * @block: the block the host pages come from
 * @host: host pages
 * @p2p: start of BENCH_MAX_NENTS p2pmem pages
 * @sgl: the scatterlist, BENCH_MAX_NENTS entries
 * @iters: loop count for one-entry scatterlists
 * @best: best time of each path and case
 */
struct bench_ctx {
	struct pci_dev *provider;
	struct device *client;
	struct page *block;
	struct page *host[BENCH_MAX_NENTS];
	void *p2p;
	struct scatterlist *sgl;
	unsigned long iters;
	u64 best[BENCH_NR_PATHS][BENCH_NR_CASES];
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
 * bench_page() - the page of entry @i for a kind
 * @ctx: the run
 * @kind: which pages go in
 * @i: index of the entry
 *
 * Entry i holds host page i or p2pmem page i; for BENCH_HALF the even
 * entries are host pages and the odd ones p2pmem pages.
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
 * The list is mapped once before and unmapped after the timed loop.
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
 * bench_measured() - does a path measure a case?
 * @path: the path
 * @c: the case
 *
 * Return: true when it does.
 */
static bool bench_measured(enum bench_path path, const struct bench_case *c)
{
	switch (path) {
	case BENCH_SHIM:
		return true;
	case BENCH_NOPROV_API:
		return c->kind == BENCH_HOST;
	default:
		return c->kind == BENCH_HOST && c->op == BENCH_OP_SG;
	}
}

/**
 * bench_one() - time one path for one case
 * @ctx: the run
 * @path: the path
 * @ci: index of the case in bench_cases
 * @count: whether the time counts, or the round is a warm-up
 *
 * Return: 0, or -EIO when a mapping failed.
 */
static int bench_one(struct bench_ctx *ctx, enum bench_path path, int ci,
		     bool count)
{
	const struct bench_case *c = &bench_cases[ci];
	unsigned long loops = bench_loops(ctx, c);
	u64 t;

	if (c->op != BENCH_OP_PAGE)
		bench_fill(ctx, c->kind, c->nents);
	if (c->op == BENCH_OP_PAGE)
		t = bench_single(ctx, bench_page(ctx, c->kind, 1), loops);
	else if (c->op == BENCH_OP_SYNC)
		t = bench_sync(ctx, c->nents, loops);
	else if (path == BENCH_NOPROV_DIRECT || path == BENCH_ORIG)
		t = bench_ops(ctx, c->nents, loops);
	else
		t = bench_sg(ctx, c->nents, loops);
	cond_resched();
	if (!t)
		return -EIO;
	if (count)
		ctx->best[path][ci] = min(ctx->best[path][ci], t);
	return 0;
}

/**
 * bench_report() - add the result lines of one path
 * @ctx: the run
 * @path: the path
 */
static void bench_report(struct bench_ctx *ctx, enum bench_path path)
{
	const struct bench_case *c;
	u64 centi;
	int ci;

	for (ci = 0; ci < BENCH_NR_CASES; ci++) {
		c = &bench_cases[ci];
		if (!bench_measured(path, c))
			continue;
		centi = div64_u64(ctx->best[path][ci] * 100,
				  bench_loops(ctx, c));
		bench_print("p2pmem %s %s %s %d %llu.%02llu\n",
			    bench_path_name[path], bench_op_name[c->op],
			    bench_kind_name[c->kind], c->nents,
			    div_u64(centi, 100), centi % 100);
	}
}

/**
 * bench_phase() - measure a path through the DMA API and one through the ops
 * @ctx: the run
 * @api: the path through the DMA API
 * @ops: the path that calls the original operations directly
 *
 * Every configuration is timed once per round, in turn, @api and @ops
 * taking turns at going first; the first round is not counted. The best
 * time of each goes to @ctx->best.
 *
 * Return: 0, or -EIO when a mapping failed.
 */
static int bench_phase(struct bench_ctx *ctx, enum bench_path api,
		       enum bench_path ops)
{
	enum bench_path first, second;
	int rep, ci, ret;

	memset(ctx->best[api], 0xff, sizeof(ctx->best[api]));
	memset(ctx->best[ops], 0xff, sizeof(ctx->best[ops]));
	for (rep = 0; rep <= BENCH_REPS; rep++) {
		first = rep & 1 ? ops : api;
		second = rep & 1 ? api : ops;
		for (ci = 0; ci < BENCH_NR_CASES; ci++) {
			ret = 0;
			if (bench_measured(first, &bench_cases[ci]))
				ret = bench_one(ctx, first, ci, rep);
			if (!ret && bench_measured(second, &bench_cases[ci]))
				ret = bench_one(ctx, second, ci, rep);
			if (ret)
				return ret;
		}
	}
	bench_report(ctx, api);
	bench_report(ctx, ops);
	return 0;
}

/* The operations under the shim while calls are counted, and the counts. */
static const struct dma_map_ops *bench_real_ops;
static atomic_t bench_map_calls;
static atomic_t bench_unmap_calls;

static int bench_count_map_sg(struct device *dev, struct scatterlist *sgl,
			      int nents, enum dma_data_direction dir,
			      unsigned long attrs)
{
	atomic_inc(&bench_map_calls);
	return bench_real_ops->map_sg(dev, sgl, nents, dir, attrs);
}

static void bench_count_unmap_sg(struct device *dev, struct scatterlist *sgl,
				 int nents, enum dma_data_direction dir,
				 unsigned long attrs)
{
	atomic_inc(&bench_unmap_calls);
	bench_real_ops->unmap_sg(dev, sgl, nents, dir, attrs);
}

static dma_addr_t bench_count_map_page(struct device *dev, struct page *page,
				       unsigned long offset, size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs)
{
	atomic_inc(&bench_map_calls);
	return bench_real_ops->map_page(dev, page, offset, size, dir, attrs);
}

static void bench_count_unmap_page(struct device *dev, dma_addr_t addr,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs)
{
	atomic_inc(&bench_unmap_calls);
	bench_real_ops->unmap_page(dev, addr, size, dir, attrs);
}

/**
 * bench_restack() - put the shim of the client on other operations
 * @ctx: the run
 * @ops: the operations the shim is to stack on (%NULL: dma-direct)
 * @prev: if not %NULL, set to the operations the client had under the shim
 *
 * Return: 0 or a negative errno.
 */
static int bench_restack(struct bench_ctx *ctx, const struct dma_map_ops *ops,
			 const struct dma_map_ops **prev)
{
	struct pci_dev *pdev = to_pci_dev(ctx->client);
	int ret;

	mutex_lock(&p2pmem_lock);
	ret = p2pmem_dma_restore(pdev);
	if (!ret) {
		if (prev)
			*prev = READ_ONCE(ctx->client->dma_ops);
		WRITE_ONCE(ctx->client->dma_ops, ops);
		ret = p2pmem_dma_inject(pdev);
	}
	mutex_unlock(&p2pmem_lock);
	if (!ret && !p2pmem_dma_shim_of(ctx->client))
		ret = -ENXIO;
	return ret;
}

/**
 * bench_count_calls() - count the original operations' calls per mapping
 * @ctx: the run, the client with its shim on its own operations
 *
 * Puts a counting layer between the shim and the client's operations,
 * maps and unmaps every case once through the DMA API, and puts the shim
 * back on the client's own operations.
 *
 * Return: 0 or a negative errno.
 */
static int bench_count_calls(struct bench_ctx *ctx)
{
	const struct dma_map_ops *real = p2pmem_dma_orig_ops(ctx->client);
	/* The real operations, but for the four that count. */
	const struct dma_map_ops counting = {
		.flags			= real->flags,
		.alloc			= real->alloc,
		.free			= real->free,
		.alloc_pages		= real->alloc_pages,
		.free_pages		= real->free_pages,
		.alloc_noncontiguous	= real->alloc_noncontiguous,
		.free_noncontiguous	= real->free_noncontiguous,
		.mmap			= real->mmap,
		.get_sgtable		= real->get_sgtable,
		.map_page		= bench_count_map_page,
		.unmap_page		= bench_count_unmap_page,
		.map_sg			= bench_count_map_sg,
		.unmap_sg		= bench_count_unmap_sg,
		.map_resource		= real->map_resource,
		.unmap_resource		= real->unmap_resource,
		.sync_single_for_cpu	= real->sync_single_for_cpu,
		.sync_single_for_device	= real->sync_single_for_device,
		.sync_sg_for_cpu	= real->sync_sg_for_cpu,
		.sync_sg_for_device	= real->sync_sg_for_device,
		.need_sync		= real->need_sync,
		.cache_sync		= real->cache_sync,
		.dma_supported		= real->dma_supported,
		.get_required_mask	= real->get_required_mask,
		.max_mapping_size	= real->max_mapping_size,
		.opt_mapping_size	= real->opt_mapping_size,
		.get_merge_boundary	= real->get_merge_boundary,
	};
	const struct dma_map_ops *own = NULL, *ops;
	const struct bench_case *c;
	int ci, round, ret;

	ops = kmemdup(&counting, sizeof(counting), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	bench_real_ops = real;
	ret = bench_restack(ctx, ops, &own);
	if (ret) {
		/* Not under the shim: nothing can call it. */
		if (p2pmem_dma_orig_ops(ctx->client) != ops)
			kfree(ops);
		return ret;
	}
	for (ci = 0; !ret && ci < BENCH_NR_CASES; ci++) {
		c = &bench_cases[ci];
		if (c->op == BENCH_OP_SYNC)
			continue;
		/*
		 * The second of two rounds counts: the device's last list is
		 * then of the same kind, as in a run of them. (The first list
		 * with p2pmem after one without costs one more map_sg call,
		 * which maps nothing: see p2pmem_shim_map_sg().)
		 */
		for (round = 0; !ret && round < 2; round++) {
			atomic_set(&bench_map_calls, 0);
			atomic_set(&bench_unmap_calls, 0);
			if (c->op == BENCH_OP_PAGE) {
				ret = bench_single(ctx,
						   bench_page(ctx, c->kind, 1),
						   1) ? 0 : -EIO;
			} else {
				bench_fill(ctx, c->kind, c->nents);
				ret = bench_sg(ctx, c->nents, 1) ? 0 : -EIO;
			}
		}
		if (ret)
			break;
		bench_print("p2pmem calls %s %s %d %d %d\n",
			    bench_op_name[c->op], bench_kind_name[c->kind],
			    c->nents, atomic_read(&bench_map_calls),
			    atomic_read(&bench_unmap_calls));
	}
	/* The shim goes back on the client's own operations in any case. */
	if (bench_restack(ctx, own, NULL)) {
		/* Still under the client's shim: keep the counting layer. */
		return ret ?: -ENXIO;
	}
	kfree(ops);
	return ret;
}

/**
 * bench_host_pages() - take the host pages, and say how the old way fell
 * @ctx: the run
 *
 * The host pages are every other page of one block, so no two entries
 * are physically adjacent. The benchmark used to take 256 pages with
 * alloc_page(); how many of those happen to follow their predecessor
 * physically is printed, because an IOMMU maps adjacent pages in one
 * call and the count differs between kernels.
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
	ret = bench_phase(ctx, BENCH_SHIM, BENCH_ORIG);
	if (!ret)
		ret = bench_count_calls(ctx);
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
	int ret;

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
	ret = bench_host_pages(ctx);
	if (ret)
		goto out;

	bench_print("# provider %s client %s iterations %lu reps %d\n",
		    pci_name(ctx->provider), dev_name(ctx->client), ctx->iters,
		    BENCH_REPS);
	bench_print("# noprov on %ps\n",
		    p2pmem_dma_orig_ops(ctx->client)->map_sg);
	/* No provider: the DMA API's guard is off, the client has no shim. */
	ret = bench_phase(ctx, BENCH_NOPROV_API, BENCH_NOPROV_DIRECT);
	if (ret)
		goto out;
	ret = bench_with_provider(ctx);
out:
	if (ctx->block)
		__free_pages(ctx->block, BENCH_HOST_ORDER);
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
