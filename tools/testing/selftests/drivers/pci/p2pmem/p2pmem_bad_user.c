// SPDX-License-Identifier: GPL-2.0
/*
 * One misuse of a p2pmem interface per run, for the bad-input scenario:
 * prints the name of the errno it got, "SIGBUS", or "ok" when the kernel
 * let it through; "CHANGED" when data that must not change did (the
 * buffer's contents before the misuse, a block device's first 64 KiB);
 * "short:N" for an O_DIRECT transfer of only N bytes.
 *
 *   p2pmem_bad_user write FILE DATA	write DATA (\0, \n, \\ escapes) in
 *					one write(); the errno of open or
 *					write
 *   p2pmem_bad_user read FILE		one read() of 4 KiB
 *   p2pmem_bad_user CASE PCI [DEV]	a misuse of PCI's p2pmem/allocate;
 *					DEV is a block device for the
 *					O_DIRECT cases (its first 64 KiB
 *					may be rewritten with what it held)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif

#define SZ	(64 * 1024)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	int err;
	const char *name;
} names[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
	{ ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
	{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
	{ EFAULT, "EFAULT" }, { ENOTBLK, "ENOTBLK" }, { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" }, { EINVAL, "EINVAL" },
	{ ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { ERANGE, "ERANGE" },
	{ ENAMETOOLONG, "ENAMETOOLONG" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { EREMOTEIO, "EREMOTEIO" },
};

static const char *pci, *dev;
static char path[256];
static sigjmp_buf jb;

static void say(const char *what)
{
	printf("%s\n", what);
	exit(0);
}

static void say_errno(int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			say(names[i].name);
	printf("errno%d\n", err);
	exit(0);
}

static void fail(const char *what)
{
	printf("SETUP-FAILED %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_sigbus(int sig)
{
	siglongjmp(jb, 1);
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

static int intact(const unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 31 + seed))
			return 0;
	return 1;
}

static int allocate_fd(int flags)
{
	int fd;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/p2pmem/allocate", pci);
	fd = open(path, flags);
	if (fd < 0)
		fail(path);
	return fd;
}

/*
 * A shared mapping of @len bytes of p2pmem holding the pattern @seed,
 * followed by 64 KiB that are reserved and inaccessible.
 */
static unsigned char *mapped(int fd, size_t len, unsigned int seed)
{
	unsigned char *p;

	p = mmap(NULL, len + SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (p == MAP_FAILED)
		fail("mmap");
	p = mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 0);
	if (p == MAP_FAILED)
		fail("mmap");
	fill(p, len, seed);
	return p;
}

static long avail_now(void)
{
	char p[256], buf[32] = "";
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/p2pmem/available",
		 pci);
	f = fopen(p, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		fail(p);
	fclose(f);
	return atol(buf);
}

/* The mmap() errno, or "ok" (and the mapping undone) when it maps. */
static void try_mmap(size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		say_errno(errno);
	munmap(p, len);
	say("ok");
}

/* After a call that failed with @err: the errno if the data is intact. */
static void say_if_intact(int err, const unsigned char *p, size_t n,
			  unsigned int seed)
{
	if (!intact(p, n, seed))
		say("CHANGED");
	if (err)
		say_errno(err);
	say("ok");
}

static unsigned char *host_buf(size_t len)
{
	void *h;

	if (posix_memalign(&h, 4096, len))
		fail("posix_memalign");
	return h;
}

/* The first 64 KiB of @fd, read into host memory. */
static unsigned char *dev_contents(int fd)
{
	unsigned char *h = host_buf(SZ);

	if (pread(fd, h, SZ, 0) != SZ)
		fail("pread of the device");
	return h;
}

/*
 * One O_DIRECT transfer of @len bytes at device offset @off from or into
 * p2pmem at @boff into the buffer: prints its errno when neither the
 * buffer nor the device changed, "ok" when it moved data.
 */
static void o_direct(int write, size_t boff, size_t len, off_t off)
{
	unsigned char *p, *before, *after;
	int fd, dfd, err = 0;
	ssize_t n;

	fd = allocate_fd(O_RDWR);
	dfd = open(dev, O_RDWR | O_DIRECT);
	if (dfd < 0)
		fail(dev);
	before = dev_contents(dfd);
	p = mapped(fd, 2 * SZ, 7);
	n = write ? pwrite(dfd, p + boff, len, off) :
		    pread(dfd, p + boff, len, off);
	if (n < 0)
		err = errno;
	after = dev_contents(dfd);
	if (memcmp(before, after, SZ))
		say("CHANGED");
	if (n >= 0 && (size_t)n < len) {
		printf("short:%zd\n", n);
		exit(0);
	}
	if (n >= 0)
		say("ok");
	say_if_intact(err, p, 2 * SZ, 7);
}

static void write_file(const char *file, const char *data)
{
	char *buf = malloc(strlen(data) + 1);
	size_t n = 0;
	ssize_t ret;
	int fd;

	if (!buf)
		fail("malloc");
	for (; *data; data++) {
		if (*data == '\\' && data[1]) {
			data++;
			buf[n++] = *data == '0' ? '\0' : *data == 'n' ? '\n' :
				   *data;
		} else {
			buf[n++] = *data;
		}
	}
	fd = open(file, O_WRONLY);
	if (fd < 0)
		say_errno(errno);
	ret = write(fd, buf, n);
	if (ret < 0)
		say_errno(errno);
	say((size_t)ret == n ? "ok" : "short");
}

static void read_file(const char *file)
{
	char buf[4096];
	int fd = open(file, O_RDONLY);

	if (fd < 0)
		say_errno(errno);
	if (read(fd, buf, sizeof(buf)) < 0)
		say_errno(errno);
	say("ok");
}

/* The mmap() cases: each is one misuse. */
static void mmap_case(const char *c)
{
	unsigned char *p, *q;
	int fd, st, pfd[2];
	pid_t pid;
	char b;

	if (!strcmp(c, "private"))
		try_mmap(SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 allocate_fd(O_RDWR), 0);
	if (!strcmp(c, "offset"))
		try_mmap(SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
			 allocate_fd(O_RDWR), 4096);
	if (!strcmp(c, "zero-length"))
		try_mmap(0, PROT_READ | PROT_WRITE, MAP_SHARED,
			 allocate_fd(O_RDWR), 0);
	if (!strcmp(c, "beyond-available"))
		try_mmap(avail_now() + 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED, allocate_fd(O_RDWR), 0);
	if (!strcmp(c, "write-on-read-only-open"))
		try_mmap(SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
			 allocate_fd(O_RDONLY), 0);
	if (!strcmp(c, "read-on-write-only-open"))
		try_mmap(SZ, PROT_READ, MAP_SHARED, allocate_fd(O_WRONLY), 0);
	if (!strcmp(c, "map-sync"))
		try_mmap(SZ, PROT_READ | PROT_WRITE,
			 MAP_SHARED_VALIDATE | MAP_SYNC, allocate_fd(O_RDWR),
			 0);

	if (!strcmp(c, "mprotect-write-read-only-open")) {
		fd = allocate_fd(O_RDONLY);
		p = mmap(NULL, SZ, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			fail("mmap");
		if (!mprotect(p, SZ, PROT_READ | PROT_WRITE))
			say("ok");
		say_errno(errno);
	}

	fd = allocate_fd(O_RDWR);
	if (!strcmp(c, "allocate-read") || !strcmp(c, "allocate-write")) {
		p = host_buf(4096);
		memset(p, 0, 4096);
		if ((c[9] == 'r' ? read(fd, p, 4096) : write(fd, p, 4096)) < 0)
			say_errno(errno);
		say("ok");
	}

	p = mapped(fd, SZ, 3);
	if (!strcmp(c, "mremap-grow")) {
		q = mremap(p, SZ, 2 * SZ, MREMAP_MAYMOVE);
		say_if_intact(q == MAP_FAILED ? errno : 0, p, SZ, 3);
	}
	if (!strcmp(c, "mremap-move")) {
		/* Moving the whole mapping keeps its pages: harmless. */
		q = mmap(NULL, SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		if (q == MAP_FAILED)
			fail("mmap");
		q = mremap(p, SZ, SZ, MREMAP_MAYMOVE | MREMAP_FIXED, q);
		if (q == MAP_FAILED)
			say_if_intact(errno, p, SZ, 3);
		say_if_intact(0, q, SZ, 3);
	}
	if (!strcmp(c, "munmap-misaligned"))
		say_if_intact(munmap(p + 1, 4096) ? errno : 0, p, SZ, 3);
	if (!strcmp(c, "munmap-zero-length"))
		say_if_intact(munmap(p, 0) ? errno : 0, p, SZ, 3);
	if (!strcmp(c, "madv-free"))
		say_if_intact(madvise(p, SZ, MADV_FREE) ? errno : 0, p, SZ, 3);
	if (!strcmp(c, "madv-remove"))
		say_if_intact(madvise(p, SZ, MADV_REMOVE) ? errno : 0, p, SZ,
			      3);
	if (!strcmp(c, "madv-pageout"))
		say_if_intact(madvise(p, SZ, MADV_PAGEOUT) ? errno : 0, p, SZ,
			      3);
	if (!strcmp(c, "madv-cold"))
		say_if_intact(madvise(p, SZ, MADV_COLD) ? errno : 0, p, SZ, 3);
	if (!strcmp(c, "mlock"))
		say_if_intact(mlock(p, SZ) ? errno : 0, p, SZ, 3);
	if (!strcmp(c, "dontneed-then-access")) {
		if (madvise(p, SZ, MADV_DONTNEED))
			say_errno(errno);
		signal(SIGBUS, on_sigbus);
		if (sigsetjmp(jb, 1))
			say("SIGBUS");
		__atomic_store_n(p, 1, __ATOMIC_RELAXED);
		say("ok");
	}
	if (!strcmp(c, "fork-parent-unmaps")) {
		/*
		 * The child keeps the pages after the parent's munmap: it
		 * reads the pattern and can write them.
		 */
		if (pipe(pfd))
			fail("pipe");
		pid = fork();
		if (pid < 0)
			fail("fork");
		if (!pid) {
			if (read(pfd[0], &b, 1) != 1)
				_exit(2);
			if (!intact(p, SZ, 3))
				_exit(3);
			p[0] = 0;
			_exit(0);
		}
		munmap(p, SZ);
		if (write(pfd[1], "x", 1) != 1 || waitpid(pid, &st, 0) != pid)
			fail("child");
		say(WIFEXITED(st) && !WEXITSTATUS(st) ? "ok" : "CHANGED");
	}
	say("unknown-case");
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write"))
		write_file(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "read"))
		read_file(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "usage: %s write FILE DATA | read FILE | CASE PCI [DEV]\n",
			argv[0]);
		return 2;
	}
	pci = argv[2];
	dev = argc > 3 ? argv[3] : NULL;
	if (!strncmp(argv[1], "odirect-", 8)) {
		if (!dev)
			fail("no block device");
		if (!strcmp(argv[1], "odirect-read-misaligned-buffer"))
			o_direct(0, 1, 4096, 0);
		if (!strcmp(argv[1], "odirect-write-misaligned-buffer"))
			o_direct(1, 1, 4096, 0);
		if (!strcmp(argv[1], "odirect-read-misaligned-length"))
			o_direct(0, 0, 1000, 0);
		if (!strcmp(argv[1], "odirect-write-misaligned-length"))
			o_direct(1, 0, 1000, 0);
		if (!strcmp(argv[1], "odirect-read-misaligned-offset"))
			o_direct(0, 0, 4096, 1);
		if (!strcmp(argv[1], "odirect-write-misaligned-offset"))
			o_direct(1, 0, 4096, 1);
		if (!strcmp(argv[1], "odirect-read"))
			o_direct(0, 0, SZ, 0);
		if (!strcmp(argv[1], "odirect-write"))
			o_direct(1, 0, SZ, 0);
		if (!strcmp(argv[1], "odirect-read-past-mapping"))
			o_direct(0, 2 * SZ - 4096, 8192, 0);
		say("unknown-case");
	}
	mmap_case(argv[1]);
	return 0;
}
