// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit stress of p2pmem: for a bounded time and a bounded number of
 * operations, threads allocate, fill, check and free memory of two
 * providers and map and unmap it (with a host page) for DMA, while one
 * thread keeps rewriting the overrides that decide the route, one binds
 * and unbinds a driver of the mapping client, and the test removes one
 * provider halfway through. Nothing may be lost or corrupted; the debug
 * kernel's run is the lockdep and KASAN check.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/scatterlist.h>

#include "p2pmem_kunit.h"

#define STRESS_MS		3000
#define STRESS_MAX_OPS		100000	/* per thread */
#define STRESS_PAGES		4

enum {
	ST_ALLOC, ST_ALLOC_FAIL, ST_MAP, ST_MAP_REFUSED, ST_OVERRIDE, ST_BIND,
	ST_AFTER_REMOVAL, ST_KINDS
};

struct stress {
	struct pci_dev *prov[2];	/* [1] goes away halfway */
	struct pci_dev *client[2];	/* [1] is bound and unbound */
	atomic_long_t ops[ST_KINDS];
	atomic_t errors;
	bool removed;
	bool stop;
	unsigned long deadline;
};

struct stress_thread {
	struct stress *s;
	int which;
	struct completion done;
};

static bool stress_over(struct stress *s, unsigned long n)
{
	return READ_ONCE(s->stop) || n >= STRESS_MAX_OPS ||
	       time_after(jiffies, s->deadline);
}

static void stress_fail(struct stress *s, const char *what)
{
	if (atomic_inc_return(&s->errors) <= 5)
		pr_err("p2pmem stress: %s\n", what);
}

static int stress_alloc_fn(void *data)
{
	struct stress_thread *t = data;
	struct stress *s = t->s;
	struct pci_dev *pdev = s->prov[t->which];
	unsigned long n;

	for (n = 0; !stress_over(s, n); n++) {
		size_t size = (1 + n % STRESS_PAGES) * PAGE_SIZE;
		bool gone = t->which == 1 && READ_ONCE(s->removed);
		u32 *va = p2pmem_alloc(pdev, size);

		if (!va) {
			/* The removed provider: fail, but leave the CPU to others. */
			atomic_long_inc(&s->ops[ST_ALLOC_FAIL]);
			usleep_range(100, 200);
			continue;
		}
		if (gone)
			atomic_long_inc(&s->ops[ST_AFTER_REMOVAL]);
		WRITE_ONCE(va[0], n);
		WRITE_ONCE(va[size / 4 - 1], ~n);
		cond_resched();
		if (READ_ONCE(va[0]) != (u32)n || READ_ONCE(va[size / 4 - 1]) != (u32)~n)
			stress_fail(s, "an allocation did not keep its data");
		p2pmem_free(pdev, va, size);
		atomic_long_inc(&s->ops[ST_ALLOC]);
	}
	complete(&t->done);
	return 0;
}

static int stress_map_fn(void *data)
{
	struct stress_thread *t = data;
	struct stress *s = t->s;
	struct pci_dev *pdev = s->prov[t->which];
	struct device *dev = &s->client[t->which]->dev;
	struct scatterlist sg[3];
	struct page *host;
	unsigned long n;
	int i, nents;

	host = alloc_page(GFP_KERNEL);
	if (!host) {
		stress_fail(s, "no host page");
		complete(&t->done);
		return 0;
	}
	for (n = 0; !stress_over(s, n); n++) {
		bool gone = t->which == 1 && READ_ONCE(s->removed);
		void *va = p2pmem_alloc(pdev, 2 * PAGE_SIZE);

		if (!va) {
			/* The removed provider: fail, but leave the CPU to others. */
			atomic_long_inc(&s->ops[ST_ALLOC_FAIL]);
			usleep_range(100, 200);
			continue;
		}
		if (gone)
			atomic_long_inc(&s->ops[ST_AFTER_REMOVAL]);
		sg_init_table(sg, 3);
		sg_set_page(&sg[0], host, PAGE_SIZE, 0);
		sg_set_buf(&sg[1], va, PAGE_SIZE);
		sg_set_buf(&sg[2], va + PAGE_SIZE, PAGE_SIZE);
		nents = dma_map_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
		if (nents > 0) {
			for (i = 0; i < nents; i++)
				if (sg_dma_address(&sg[i]) == DMA_MAPPING_ERROR ||
				    !sg_dma_len(&sg[i]))
					stress_fail(s, "a mapped entry has no DMA address");
			dma_unmap_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
			atomic_long_inc(&s->ops[ST_MAP]);
		} else {
			atomic_long_inc(&s->ops[ST_MAP_REFUSED]);
		}
		p2pmem_free(pdev, va, 2 * PAGE_SIZE);
		cond_resched();
	}
	__free_page(host);
	complete(&t->done);
	return 0;
}

static int stress_override_fn(void *data)
{
	struct stress_thread *t = data;
	struct stress *s = t->s;
	char val[3][64];
	unsigned long n;

	snprintf(val[0], sizeof(val[0]), "%s,%s=host", pci_name(s->prov[0]),
		 pci_name(s->client[1]));
	snprintf(val[1], sizeof(val[1]), "%s,%s=none;%s,%s=host",
		 pci_name(s->prov[0]), pci_name(s->client[0]),
		 pci_name(s->prov[1]), pci_name(s->client[1]));
	val[2][0] = '\0';
	for (n = 0; !stress_over(s, n); n++) {
		if (p2pmem_override_set(val[n % 3]))
			stress_fail(s, "an override was refused");
		atomic_long_inc(&s->ops[ST_OVERRIDE]);
		usleep_range(200, 400);
	}
	complete(&t->done);
	return 0;
}

static struct pci_dev *stress_bind_target;

static int stress_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return pdev == READ_ONCE(stress_bind_target) ? 0 : -ENODEV;
}

static void stress_remove(struct pci_dev *pdev)
{
}

static const struct pci_device_id stress_ids[] = {
	{ PCI_DEVICE(SHM_VENDOR, SHM_DEVICE) },
	{ }
};

static struct pci_driver stress_driver = {
	.name = "p2pmem-stress",
	.id_table = stress_ids,
	.probe = stress_probe,
	.remove = stress_remove,
};

static int stress_bind_fn(void *data)
{
	struct stress_thread *t = data;
	struct stress *s = t->s;
	struct device *dev = &s->client[1]->dev;
	unsigned long n;

	for (n = 0; !stress_over(s, n); n++) {
		if (device_attach(dev) != 1)
			stress_fail(s, "the client did not bind");
		usleep_range(500, 1000);
		device_release_driver(dev);
		atomic_long_inc(&s->ops[ST_BIND]);
		usleep_range(500, 1000);
	}
	complete(&t->done);
	return 0;
}

static int stress_init(struct kunit *test)
{
	return p2pmem_kunit_no_override_init(test);
}

static void stress_exit(struct kunit *test)
{
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.shm_sw);
	p2pmem_kunit_remove_provider(p2pmem_kunit_topo.mf0);
	p2pmem_kunit_no_override_exit(test);
}

static void test_stress(struct kunit *test)
{
	static int (*const fns[])(void *) = {
		stress_alloc_fn, stress_alloc_fn, stress_map_fn, stress_map_fn,
		stress_override_fn, stress_bind_fn,
	};
	static const int which[] = { 0, 1, 0, 1, 0, 0 };
	struct stress_thread th[ARRAY_SIZE(fns)];
	struct p2pmem_provider *prov;
	struct task_struct *task;
	struct stress *s;
	int i, started;

	NEED(test, shm_sw);
	NEED(test, mf0);
	NEED(test, mf1);
	NEED(test, plain);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->prov[0] = p2pmem_kunit_topo.shm_sw;
	s->prov[1] = p2pmem_kunit_topo.mf0;
	s->client[0] = p2pmem_kunit_topo.plain;
	s->client[1] = p2pmem_kunit_topo.mf1;
	/*
	 * The driver first: its probe of the other ivshmem devices fails,
	 * and a failed probe releases the device's devres, which would take
	 * a provider registered on it away.
	 */
	WRITE_ONCE(stress_bind_target, s->client[1]);
	KUNIT_ASSERT_EQ(test, pci_register_driver(&stress_driver), 0);
	KUNIT_EXPECT_PTR_EQ(test, s->client[1]->dev.driver, &stress_driver.driver);
	if (p2pmem_add_resource(s->prov[0], SHM_BAR, 0, 0) ||
	    p2pmem_add_resource(s->prov[1], SHM_BAR, 0, 0)) {
		pci_unregister_driver(&stress_driver);
		KUNIT_FAIL(test, "cannot register the providers");
		return;
	}

	s->deadline = jiffies + msecs_to_jiffies(STRESS_MS);
	for (started = 0; started < ARRAY_SIZE(fns); started++) {
		th[started].s = s;
		th[started].which = which[started];
		init_completion(&th[started].done);
		task = kthread_run(fns[started], &th[started], "p2pmem-stress/%d",
				   started);
		if (IS_ERR(task)) {
			KUNIT_FAIL(test, "cannot start thread %d", started);
			break;
		}
	}

	/* Halfway, provider 1 goes while its memory is in use. */
	msleep(STRESS_MS / 2);
	prov = p2pmem_kunit_prov_of(s->prov[1]);
	KUNIT_EXPECT_NOT_NULL(test, prov);
	if (prov)
		p2pmem_remove_provider(prov);
	WRITE_ONCE(s->removed, true);
	KUNIT_EXPECT_FALSE(test, p2pmem_kunit_is_provider(s->prov[1]));

	for (i = 0; i < started; i++)
		if (!wait_for_completion_timeout(&th[i].done,
						 msecs_to_jiffies(10 * STRESS_MS))) {
			WRITE_ONCE(s->stop, true);
			wait_for_completion(&th[i].done);
			KUNIT_FAIL(test, "thread %d ran past its time", i);
		}
	pci_unregister_driver(&stress_driver);

	kunit_info(test,
		   "%ld allocations (%ld failed), %ld mappings (%ld refused), %ld override changes, %ld binds\n",
		   atomic_long_read(&s->ops[ST_ALLOC]),
		   atomic_long_read(&s->ops[ST_ALLOC_FAIL]),
		   atomic_long_read(&s->ops[ST_MAP]),
		   atomic_long_read(&s->ops[ST_MAP_REFUSED]),
		   atomic_long_read(&s->ops[ST_OVERRIDE]),
		   atomic_long_read(&s->ops[ST_BIND]));
	KUNIT_EXPECT_EQ(test, started, (int)ARRAY_SIZE(fns));
	KUNIT_EXPECT_EQ(test, atomic_read(&s->errors), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->ops[ST_ALLOC]), 0L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->ops[ST_MAP]), 0L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->ops[ST_OVERRIDE]), 2L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->ops[ST_BIND]), 0L);
	/* Once removal began, nothing came from the removed provider. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->ops[ST_AFTER_REMOVAL]), 0L);

	/* Everything went back to the provider that stayed. */
	prov = p2pmem_kunit_prov_of(s->prov[0]);
	KUNIT_ASSERT_NOT_NULL(test, prov);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.in_use), 0L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.mappings), 0L);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(prov->pool), (size_t)SHM_SIZE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&prov->stats.allocs),
			atomic_long_read(&prov->stats.frees));
}

static struct kunit_case stress_cases[] = {
	KUNIT_CASE(test_stress),
	{}
};

static struct kunit_suite stress_suite = {
	.name = "p2pmem_stress",
	.init = stress_init,
	.exit = stress_exit,
	.test_cases = stress_cases,
};

kunit_test_suite(stress_suite);
