// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem-copy: copy between two block devices with O_DIRECT through a
 * buffer of peer-to-peer memory (mmap of a provider's p2pmem/allocate) or,
 * for comparison, of host memory.
 *
 *   p2pmem-copy [options] SRC DST
 *     -p PCI      buffer in the p2pmem of PCI device PCI (0000:03:00.0)
 *     -H          buffer in host memory (the default without -p)
 *     -c SIZE     chunk size (default 64k; k and m suffixes)
 *     -n COUNT    number of chunks (default 16)
 *     -t THREADS  threads, each with its own chunk of the buffer (default 1)
 *     -s OFFSET   byte offset in SRC (default 0)
 *     -d OFFSET   byte offset in DST (default 0)
 *     -C          afterwards read back both ranges into host memory and
 *                 compare every byte
 *
 * The buffer is mapped MAP_SHARED at offset 0, chunk size times threads
 * long, as existing tools written for the upstream ABI do. Prints the
 * throughput, the CPU time and where the buffer lived; exits 1 on any I/O
 * error or mismatch, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct job {
	int src, dst;
	char *buf;		/* this thread's chunk */
	size_t chunk;
	unsigned long count, threads, first;
	off_t soff, doff;
	int err;		/* errno of the first failure */
	unsigned long failed_at;
};

static size_t parse_size(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		goto bad;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end)
		goto bad;
	return v;
bad:
	fprintf(stderr, "p2pmem-copy: bad %s '%s'\n", what, s);
	exit(2);
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: p2pmem-copy [-p PCI | -H] [-c SIZE] [-n COUNT] [-t THREADS]\n"
		"                   [-s OFFSET] [-d OFFSET] [-C] SRC DST\n");
	exit(2);
}

/* pread or pwrite all of @len, or fail with errno set. */
static int full_io(bool wr, int fd, char *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len) {
		n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
}

static void *copy_thread(void *arg)
{
	struct job *j = arg;
	unsigned long i;
	off_t at;

	for (i = j->first; i < j->count; i += j->threads) {
		at = (off_t)i * j->chunk;
		if (full_io(false, j->src, j->buf, j->chunk, j->soff + at) ||
		    full_io(true, j->dst, j->buf, j->chunk, j->doff + at)) {
			j->err = errno;
			j->failed_at = i;
			break;
		}
	}
	return NULL;
}

static double seconds(struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

/* Read both ranges back into host memory; return the mismatching chunks. */
static long compare_ranges(int src, int dst, size_t chunk,
			   unsigned long count, off_t soff, off_t doff)
{
	char *a, *b;
	unsigned long i;
	long bad = 0;
	size_t k;

	if (posix_memalign((void **)&a, 4096, chunk) ||
	    posix_memalign((void **)&b, 4096, chunk)) {
		fprintf(stderr, "p2pmem-copy: no memory for the check\n");
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (full_io(false, src, a, chunk, soff + (off_t)i * chunk) ||
		    full_io(false, dst, b, chunk, doff + (off_t)i * chunk)) {
			fprintf(stderr, "p2pmem-copy: compare: reading chunk %lu: %s\n",
				i, strerror(errno));
			bad = -1;
			break;
		}
		if (memcmp(a, b, chunk)) {
			for (k = 0; k < chunk && a[k] == b[k]; k++)
				;
			if (!bad)
				fprintf(stderr, "p2pmem-copy: chunk %lu differs at byte %zu\n",
					i, k);
			bad++;
		}
	}
	free(a);
	free(b);
	return bad;
}

int main(int argc, char **argv)
{
	size_t chunk = 65536, len;
	unsigned long count = 16, threads = 1, t;
	off_t soff = 0, doff = 0;
	const char *pci = NULL;
	bool do_check = false;
	struct rusage ru0, ru1;
	struct timespec t0, t1;
	struct job *jobs;
	pthread_t *tids;
	char path[128];
	double secs, mib, cpu;
	int opt, src, dst, fd = -1, ret = 0;
	char *buf;
	long bad;

	while ((opt = getopt(argc, argv, "p:Hc:n:t:s:d:C")) != -1) {
		switch (opt) {
		case 'p':
			pci = optarg;
			break;
		case 'H':
			pci = NULL;
			break;
		case 'c':
			chunk = parse_size(optarg, "chunk size");
			break;
		case 'n':
			count = parse_size(optarg, "chunk count");
			break;
		case 't':
			threads = parse_size(optarg, "thread count");
			break;
		case 's':
			soff = parse_size(optarg, "source offset");
			break;
		case 'd':
			doff = parse_size(optarg, "destination offset");
			break;
		case 'C':
			do_check = true;
			break;
		default:
			bad_usage();
		}
	}
	if (argc - optind != 2)
		bad_usage();
	if (!chunk || chunk % 4096 || !count || !threads || threads > 64 ||
	    soff % 4096 || doff % 4096) {
		fprintf(stderr, "p2pmem-copy: %s\n",
			"chunk and offsets must be multiples of 4096; 1 to 64 threads");
		return 2;
	}

	src = open(argv[optind], O_RDONLY | O_DIRECT);
	dst = open(argv[optind + 1], (do_check ? O_RDWR : O_WRONLY) | O_DIRECT);
	if (src < 0 || dst < 0) {
		fprintf(stderr, "p2pmem-copy: cannot open %s: %s\n",
			argv[optind + (src >= 0)], strerror(errno));
		return 1;
	}

	len = chunk * threads;
	if (pci) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate", pci);
		fd = open(path, O_RDWR);
		if (fd < 0) {
			fprintf(stderr, "p2pmem-copy: cannot open %s: %s\n", path, strerror(errno));
			return 1;
		}
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	} else {
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (buf == MAP_FAILED) {
		fprintf(stderr, "p2pmem-copy: cannot map a %zu byte buffer%s%s: %s\n",
			len, pci ? " of " : "", pci ? path : "", strerror(errno));
		return 1;
	}

	jobs = calloc(threads, sizeof(*jobs));
	tids = calloc(threads, sizeof(*tids));
	if (!jobs || !tids)
		return 1;
	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (t = 0; t < threads; t++) {
		jobs[t] = (struct job){ .src = src, .dst = dst,
			.buf = buf + t * chunk, .chunk = chunk, .count = count,
			.threads = threads, .first = t, .soff = soff,
			.doff = doff };
		if (pthread_create(&tids[t], NULL, copy_thread, &jobs[t])) {
			fprintf(stderr, "p2pmem-copy: cannot start thread %lu\n", t);
			return 1;
		}
	}
	for (t = 0; t < threads; t++) {
		pthread_join(tids[t], NULL);
		if (jobs[t].err) {
			fprintf(stderr, "p2pmem-copy: thread %lu: chunk %lu: %s\n",
				t, jobs[t].failed_at, strerror(jobs[t].err));
			ret = 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru1);

	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	mib = (double)chunk * count / (1 << 20);
	cpu = seconds(&ru1.ru_utime) - seconds(&ru0.ru_utime) +
	      seconds(&ru1.ru_stime) - seconds(&ru0.ru_stime);
	printf("p2pmem-copy: %s %s -> %s: %.2f MiB in %.3f s, %.2f MiB/s, ",
	       ret ? "FAILED" : "copied", argv[optind], argv[optind + 1], mib,
	       secs, secs > 0 ? mib / secs : 0);
	printf("CPU %.3f s (%.2f ms per MiB), %lu thread%s, buffer %s%s\n",
	       cpu, cpu * 1000 / mib, threads, threads == 1 ? "" : "s",
	       pci ? "p2pmem of " : "host memory", pci ? pci : "");

	if (!ret && do_check) {
		bad = compare_ranges(src, dst, chunk, count, soff, doff);
		if (bad < 0) {
			printf("p2pmem-copy: check FAILED: could not read the ranges back\n");
			ret = 1;
		} else if (bad) {
			printf("p2pmem-copy: check FAILED: %ld of %lu chunks differ\n",
			       bad, count);
			ret = 1;
		} else {
			printf("p2pmem-copy: check ok: all %lu chunks equal\n", count);
		}
	}
	munmap(buf, len);
	if (fd >= 0)
		close(fd);
	return ret;
}
