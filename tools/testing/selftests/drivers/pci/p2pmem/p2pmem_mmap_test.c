// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem/allocate from userspace: what mmap of the file gives, what it
 * refuses (each refusal with its errno, and nothing changed afterwards:
 * the provider's "available" is what it was), and what may pin the pages.
 *
 * Environment: P2PMEM_PCI the provider (0000:03:00.0), P2PMEM_NVME a block
 * device whose queue takes peer-to-peer memory, P2PMEM_LOOP one whose
 * queue does not (both at least 1 MiB; their first MiB is overwritten).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../kselftest_harness.h"

#define SZ	(64 * 1024)

static char path[128];

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "%s is not set\n", name);
		exit(1);
	}
	return v;
}

static long avail_now(void)
{
	char p[128], buf[32] = "";
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/p2pmem/available",
		 env("P2PMEM_PCI"));
	f = fopen(p, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		return -1;
	fclose(f);
	return atol(buf);
}

FIXTURE(p2pmem) {
	int fd;
	long avail;
};

FIXTURE_SETUP(p2pmem)
{
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate",
		 env("P2PMEM_PCI"));
	self->fd = open(path, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", path, strerror(errno));
	self->avail = avail_now();
	ASSERT_LT(SZ, self->avail);
}

FIXTURE_TEARDOWN(p2pmem)
{
	close(self->fd);
	/* Whatever a case did, the provider has all its memory back. */
	EXPECT_EQ(self->avail, avail_now());
}

TEST_F(p2pmem, shared_zeroed_and_returned)
{
	unsigned char *p;
	int i;

	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(self->avail - SZ, avail_now());
	for (i = 0; i < SZ; i++)
		if (p[i])
			break;
	EXPECT_EQ(SZ, i) TH_LOG("byte %d is not zero", i);
	for (i = 0; i < SZ; i++)
		p[i] = i * 7;
	for (i = 0; i < SZ; i++)
		if (p[i] != (unsigned char)(i * 7))
			break;
	EXPECT_EQ(SZ, i) TH_LOG("byte %d reads back wrong", i);
	EXPECT_EQ(0, munmap(p, SZ));
	EXPECT_EQ(self->avail, avail_now());

	/* The allocator hands the same pages out again: zeroed. */
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < SZ; i++)
		if (p[i])
			break;
	EXPECT_EQ(SZ, i) TH_LOG("reused byte %d is not zero", i);
	EXPECT_EQ(0, munmap(p, SZ));
}

TEST_F(p2pmem, private_refused)
{
	void *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(p2pmem, offset_refused)
{
	void *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 4096);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(p2pmem, beyond_available_refused)
{
	void *p = mmap(NULL, self->avail + 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENOMEM, errno);
}

TEST_F(p2pmem, zero_length_refused)
{
	void *p = mmap(NULL, 0, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(p2pmem, write_map_of_read_only_open_refused)
{
	int fd = open(path, O_RDONLY);
	void *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	close(fd);
}

TEST_F(p2pmem, grow_refused)
{
	void *p, *q;

	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, SZ, 2 * SZ, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(self->avail - SZ, avail_now());
	EXPECT_EQ(0, munmap(p, SZ));
}

TEST_F(p2pmem, partial_munmap_returns_that_part)
{
	char *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, munmap(p, SZ / 2));
	EXPECT_EQ(self->avail - SZ / 2, avail_now());
	EXPECT_EQ(0, munmap(p + SZ / 2, SZ / 2));
}

TEST_F(p2pmem, fork_shares_and_exit_returns)
{
	char *p;
	int st;
	pid_t pid;

	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		p[100] = 42;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	EXPECT_EQ(42, p[100]);
	EXPECT_EQ(self->avail - SZ, avail_now());
	/* A child that maps and exits without munmap gives it all back. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
			 0) == MAP_FAILED)
			_exit(1);
		_exit(avail_now() == self->avail - 2 * SZ ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	EXPECT_EQ(self->avail - SZ, avail_now());
	EXPECT_EQ(0, munmap(p, SZ));
}

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	siglongjmp(jb, 1);
}

TEST_F(p2pmem, dontneed_gives_back_and_sigbus)
{
	char *p;
	int got = 0;

	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, madvise(p, SZ, MADV_DONTNEED));
	EXPECT_EQ(self->avail, avail_now());
	signal(SIGBUS, on_sigbus);
	if (!sigsetjmp(jb, 1))
		__atomic_store_n(p, 1, __ATOMIC_RELAXED);
	else
		got = 1;
	signal(SIGBUS, SIG_DFL);
	EXPECT_EQ(1, got) TH_LOG("no SIGBUS after MADV_DONTNEED");
	EXPECT_EQ(0, munmap(p, SZ));
}

/* O_DIRECT through the buffer: NVMe takes it, a loop device does not. */
TEST_F(p2pmem, o_direct_nvme_and_loop)
{
	char *p, *host;
	int nvme, loop, i;

	nvme = open(env("P2PMEM_NVME"), O_RDWR | O_DIRECT);
	loop = open(env("P2PMEM_LOOP"), O_RDWR | O_DIRECT);
	ASSERT_LE(0, nvme);
	ASSERT_LE(0, loop);
	ASSERT_EQ(0, posix_memalign((void **)&host, 4096, SZ));
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);

	for (i = 0; i < SZ; i++)
		p[i] = i * 13 + 1;
	EXPECT_EQ(SZ, pwrite(nvme, p, SZ, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(SZ, pread(nvme, host, SZ, 0));
	EXPECT_EQ(0, memcmp(p, host, SZ));
	memset(p, 0, SZ);
	EXPECT_EQ(SZ, pread(nvme, p, SZ, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(p, host, SZ));

	memset(host, 0x5a, SZ);
	ASSERT_EQ(SZ, pwrite(loop, host, SZ, 0));
	EXPECT_EQ(-1, pwrite(loop, p, SZ, 0));
	EXPECT_EQ(EREMOTEIO, errno);
	EXPECT_EQ(-1, pread(loop, p, SZ, 0));
	EXPECT_EQ(EREMOTEIO, errno);
	memset(p, 0, SZ);
	ASSERT_EQ(SZ, pread(loop, host, SZ, 0));
	for (i = 0; i < SZ; i++)
		if (host[i] != 0x5a)
			break;
	EXPECT_EQ(SZ, i) TH_LOG("the loop device changed at byte %d", i);

	EXPECT_EQ(0, munmap(p, SZ));
	free(host);
	close(nvme);
	close(loop);
}

/*
 * One O_DIRECT write, and one read, of two pieces of the buffer given in
 * the reverse of their order in memory, to the NVMe whose CMB holds them:
 * a command with two segments of the controller's own CMB (on controllers
 * with SGLs, an SGL with a segment list in host memory, which QEMU's
 * controller fails unless nvme-pci uses PRPs there).
 */
TEST_F(p2pmem, o_direct_two_segments_own_cmb)
{
	struct iovec iov[2];
	char *p, *host;
	int fd, i;

	fd = open(env("P2PMEM_CMB_NVME"), O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, posix_memalign((void **)&host, 4096, 2 * SZ));
	p = mmap(NULL, 3 * SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Faults the pages in, in address order. */
	for (i = 0; i < 3 * SZ; i++)
		p[i] = i * 7 + 3;
	iov[0].iov_base = p + 2 * SZ;
	iov[0].iov_len = SZ;
	iov[1].iov_base = p;
	iov[1].iov_len = SZ;
	EXPECT_EQ(2 * SZ, pwritev(fd, iov, 2, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(2 * SZ, pread(fd, host, 2 * SZ, 0));
	EXPECT_EQ(0, memcmp(host, p + 2 * SZ, SZ));
	EXPECT_EQ(0, memcmp(host + SZ, p, SZ));
	memcpy(host + SZ, p, SZ);
	memcpy(host, p + 2 * SZ, SZ);
	memset(p, 0, 3 * SZ);
	EXPECT_EQ(2 * SZ, preadv(fd, iov, 2, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(host, p + 2 * SZ, SZ));
	EXPECT_EQ(0, memcmp(host + SZ, p, SZ));
	EXPECT_EQ(0, munmap(p, 3 * SZ));
	free(host);
	close(fd);
}

/* Pinning the pages without saying it can take them fails. */
TEST_F(p2pmem, other_pinning_refused)
{
	char *p, dst[4096];
	struct iovec local = { dst, sizeof(dst) }, remote;

	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	remote.iov_base = p;
	remote.iov_len = sizeof(dst);
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, munmap(p, SZ));
}

/*
 * Buffered I/O never pins the pages: the kernel copies with the CPU
 * through the mapping, which gives the right data.
 */
TEST_F(p2pmem, buffered_read_is_a_cpu_copy)
{
	char *p, *host;
	int fd, dfd;

	fd = open(env("P2PMEM_NVME"), O_RDONLY);
	dfd = open(env("P2PMEM_NVME"), O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, posix_memalign((void **)&host, 4096, SZ));
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(SZ, pread(dfd, host, SZ, 0));
	EXPECT_EQ(SZ, pread(fd, p, SZ, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(p, host, SZ));
	EXPECT_EQ(0, munmap(p, SZ));
	free(host);
	close(fd);
	close(dfd);
}

/* A long-term pin (io_uring fixed buffers) of the pages is refused. */
TEST_F(p2pmem, longterm_pin_refused)
{
	struct io_uring_params params = { 0 };
	struct iovec iov;
	int ring, ret;
	char *p;

	ring = syscall(__NR_io_uring_setup, 4, &params);
	ASSERT_LE(0, ring) TH_LOG("io_uring_setup: %s", strerror(errno));
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	iov.iov_base = p;
	iov.iov_len = SZ;
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EREMOTEIO, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, munmap(p, SZ));
	close(ring);
	/* A host buffer registers: the refusal is about p2pmem. */
	ring = syscall(__NR_io_uring_setup, 4, &params);
	ASSERT_LE(0, ring);
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	iov.iov_base = p;
	EXPECT_EQ(0, syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1));
	munmap(p, SZ);
	close(ring);
}

TEST_HARNESS_MAIN
