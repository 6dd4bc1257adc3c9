// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of what the block layer does with p2pmem pages: they are
 * P2PDMA pages to it, and a bio holds peer-to-peer memory of one page map
 * or host memory, never both ("block: keep peer-to-peer memory apart from
 * host memory").
 */
#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/gfp.h>

#include "p2pmem_kunit.h"

struct block_fix {
	struct page *host;
	void *p2p;		/* two pages of the CMB */
};

static struct block_fix *bfix;

static int block_init(struct kunit *test)
{
	p2pmem_kunit_find_topology();
	bfix = kunit_kzalloc(test, sizeof(*bfix), GFP_KERNEL);
	if (!bfix)
		return -ENOMEM;
	bfix->host = alloc_page(GFP_KERNEL);
	if (!bfix->host)
		return -ENOMEM;
	if (p2pmem_kunit_topo.cmb)
		bfix->p2p = p2pmem_alloc(p2pmem_kunit_topo.cmb, 2 * PAGE_SIZE);
	return 0;
}

static void block_exit(struct kunit *test)
{
	if (bfix->p2p)
		p2pmem_free(p2pmem_kunit_topo.cmb, bfix->p2p, 2 * PAGE_SIZE);
	__free_page(bfix->host);
}

static struct page *p2p_page(int i)
{
	return virt_to_page(bfix->p2p + i * PAGE_SIZE);
}

static struct bio *new_bio(struct kunit *test)
{
	struct bio *bio = bio_kmalloc(4, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, bio);
	bio_init(bio, NULL, bio->bi_inline_vecs, 4, REQ_OP_READ);
	return bio;
}

static void free_bio(struct bio *bio)
{
	bio_uninit(bio);
	kfree(bio);
}

/* Skip without the CMB; fail if it is there but gave no memory. */
static void need_p2p(struct kunit *test)
{
	NEED(test, cmb);
	KUNIT_ASSERT_NOT_NULL_MSG(test, bfix->p2p, "no CMB memory for the test");
}

static void test_block_p2pdma_page(struct kunit *test)
{
	need_p2p(test);
	KUNIT_EXPECT_TRUE(test, is_pci_p2pdma_page(p2p_page(0)));
	KUNIT_EXPECT_FALSE(test, is_pci_p2pdma_page(bfix->host));
	KUNIT_EXPECT_PTR_EQ(test, p2pmem_page_provider(p2p_page(1)),
			    p2pmem_kunit_topo.cmb);
	KUNIT_EXPECT_NULL(test, p2pmem_page_provider(bfix->host));
}

static void test_block_host_then_p2p(struct kunit *test)
{
	struct bio *bio;

	need_p2p(test);
	bio = new_bio(test);
	KUNIT_EXPECT_EQ(test, bio_add_page(bio, bfix->host, PAGE_SIZE, 0),
			(int)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, bio_add_page(bio, p2p_page(0), PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, bio->bi_vcnt, 1);
	KUNIT_EXPECT_EQ(test, bio->bi_iter.bi_size, (unsigned int)PAGE_SIZE);
	free_bio(bio);
}

static void test_block_p2p_then_host(struct kunit *test)
{
	struct bio *bio;

	need_p2p(test);
	bio = new_bio(test);
	KUNIT_EXPECT_EQ(test, bio_add_page(bio, p2p_page(0), PAGE_SIZE, 0),
			(int)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, bio_add_page(bio, bfix->host, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, bio->bi_vcnt, 1);
	free_bio(bio);
}

/* Contiguous pages of one page map still merge into one bio vector. */
static void test_block_p2p_merge(struct kunit *test)
{
	struct bio *bio;

	need_p2p(test);
	bio = new_bio(test);
	KUNIT_EXPECT_EQ(test, bio_add_page(bio, p2p_page(0), PAGE_SIZE, 0),
			(int)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, bio_add_page(bio, p2p_page(1), PAGE_SIZE, 0),
			(int)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, bio->bi_vcnt, 1);
	KUNIT_EXPECT_EQ(test, bio->bi_iter.bi_size, (unsigned int)(2 * PAGE_SIZE));
	free_bio(bio);
}

/* Requests whose bios differ are not merged. */
static void test_block_bios_compatible(struct kunit *test)
{
	struct bio *h, *p, *q, *empty;

	need_p2p(test);
	h = new_bio(test);
	p = new_bio(test);
	q = new_bio(test);
	empty = new_bio(test);
	bio_add_page(h, bfix->host, PAGE_SIZE, 0);
	bio_add_page(p, p2p_page(0), PAGE_SIZE, 0);
	bio_add_page(q, p2p_page(1), PAGE_SIZE, 0);
	KUNIT_EXPECT_FALSE(test, bio_p2p_compatible(h, p));
	KUNIT_EXPECT_FALSE(test, bio_p2p_compatible(p, h));
	KUNIT_EXPECT_TRUE(test, bio_p2p_compatible(p, q));
	KUNIT_EXPECT_TRUE(test, bio_p2p_compatible(h, h));
	/* A bio without data merges by the other rules only. */
	KUNIT_EXPECT_TRUE(test, bio_p2p_compatible(empty, p));
	free_bio(h);
	free_bio(p);
	free_bio(q);
	free_bio(empty);
}

static struct kunit_case block_cases[] = {
	KUNIT_CASE(test_block_p2pdma_page),
	KUNIT_CASE(test_block_host_then_p2p),
	KUNIT_CASE(test_block_p2p_then_host),
	KUNIT_CASE(test_block_p2p_merge),
	KUNIT_CASE(test_block_bios_compatible),
	{}
};

static struct kunit_suite block_suite = {
	.name = "p2pmem_block",
	.init = block_init,
	.exit = block_exit,
	.test_cases = block_cases,
};

kunit_test_suite(block_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of p2pmem pages in the block layer");
