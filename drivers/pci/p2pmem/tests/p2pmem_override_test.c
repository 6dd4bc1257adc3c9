// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the parser of p2pmem.override= (topology.c): what it
 * accepts, how it prints it back, and that a bad list changes nothing.
 */
#include <kunit/test.h>
#include <linux/kernel.h>

#include "p2pmem_kunit.h"

/* ---- overrides -------------------------------------------------------- */

static void expect_overrides(struct kunit *test, const char *want)
{
	char buf[512];

	p2pmem_override_show(buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf, want);
}

static void test_override_roundtrip(struct kunit *test)
{
	static const char in[] =
		"0000:00:1C.0=host; pci0000:00=none ;0000:01:00.0,0000:02:00.0=host\n";
	static const char out[] =
		"0000:00:1c.0=host;pci0000:00=none;0000:01:00.0,0000:02:00.0=host\n";

	KUNIT_EXPECT_EQ(test, p2pmem_override_set(in), 0);
	expect_overrides(test, out);
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(""), 0);
	expect_overrides(test, "\n");
}

static void test_override_rejects(struct kunit *test)
{
	static const char * const bad[] = {
		"0000:00:1c.0",			/* no route */
		"0000:00:1c.0=maybe",		/* unknown route */
		"pci0000:00=bus",		/* no bus route across a host bridge */
		"0000:01:00.0,pci0000:00=bus",	/* nor for a pair with one */
		"00:1c.0=host",			/* no domain */
		"0000:00:20.0=host",		/* slot out of range */
		"0000:00:1c.8=host",		/* function out of range */
		"0000:00:1c.0x=host",		/* trailing junk */
		"pci0000=host",			/* bad host bridge name */
		"pci0000:00,0000:01:00.0=host",	/* host bridge in a pair */
		"0000:01:00.0,=none",		/* half a pair */
		"=host",
		"0000:00:1c.0=host;garbage",	/* one bad entry spoils all */
		"0000: 0:1c.0=none",		/* spaces inside a name */
		"0x00:00:1c.0=none",		/* 0x prefix */
		"0000:00:1c.0 ,0000:01:00.0=none",
	};
	int i;

	KUNIT_ASSERT_EQ(test, p2pmem_override_set("0000:00:02.0=none"), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, p2pmem_override_set(bad[i]), -EINVAL,
				    "accepted '%s'", bad[i]);
		expect_overrides(test, "0000:00:02.0=none\n");
	}
	p2pmem_override_set("");
}

static void test_override_bus(struct kunit *test)
{
	static const char in[] = "0000:00:1c.0=bus;0000:01:00.0,0000:02:00.0=BUS";
	static const char out[] = "0000:00:1c.0=bus;0000:01:00.0,0000:02:00.0=bus\n";

	/* Routes are lower case; "BUS" is not one. */
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(in), -EINVAL);
	expect_overrides(test, "\n");
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(out), 0);
	expect_overrides(test, out);
	p2pmem_override_set("");
}

static void test_override_too_many(struct kunit *test)
{
	char *buf = kunit_kzalloc(test, 1024, GFP_KERNEL);
	int i, n = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < 17; i++)
		n += scnprintf(buf + n, 1024 - n, "0000:00:%02x.0=none;", i);
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(buf), -EINVAL);
	expect_overrides(test, "\n");
	/* Sixteen is fine. */
	buf[strlen(buf) - strlen("0000:00:10.0=none;")] = '\0';
	KUNIT_EXPECT_EQ(test, p2pmem_override_set(buf), 0);
	p2pmem_override_set("");
}

static struct kunit_case override_cases[] = {
	KUNIT_CASE(test_override_roundtrip),
	KUNIT_CASE(test_override_rejects),
	KUNIT_CASE(test_override_bus),
	KUNIT_CASE(test_override_too_many),
	{}
};

static struct kunit_suite override_suite = {
	.name = "p2pmem_override",
	.init = p2pmem_kunit_no_override_init,
	.exit = p2pmem_kunit_no_override_exit,
	.test_cases = override_cases,
};

kunit_test_suite(override_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the p2pmem override parser");
