// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem-verify: does peer-to-peer DMA really land where it should?
 *
 * For each p2pmem provider and each NVMe namespace, read the same blocks
 * with O_DIRECT into host memory and into the provider's memory (mapped
 * from its p2pmem/allocate, filled with a pattern first, so that a DMA
 * that went elsewhere shows) and compare them. Prints one line per pair:
 * provider, client (the NVMe's PCI device), the route p2pmem chose, and
 * ok, MISMATCH or refused.
 *
 *   p2pmem-verify [-b BYTES] [--fix]
 *     -b BYTES  bytes read per pair (default 64k, a multiple of 4096)
 *     --fix     set the override of every mismatching pair to "none"
 *               (replacing an override of that pair, keeping the others)
 *               and say so
 *
 * Exits 1 when any pair mismatched (even with --fix), 2 on setup errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define OVERRIDE "/sys/module/p2pmem/parameters/override"
#define VERDICTS "/sys/kernel/debug/p2pmem/verdicts"
#define MAX_FIX 16

static char fixes[MAX_FIX][140];	/* "PROV,DEV=none" */
static char fix_rev[MAX_FIX][140];	/* "DEV,PROV" */
static int nfix;

/* Is @ent ("A,B=ROUTE") an override of a pair --fix is about to set? */
static bool replaced(const char *ent)
{
	size_t len = strcspn(ent, "=");
	int i;

	for (i = 0; i < nfix; i++)
		if ((len == strcspn(fixes[i], "=") && !strncmp(ent, fixes[i], len)) ||
		    (len == strlen(fix_rev[i]) && !strncmp(ent, fix_rev[i], len)))
			return true;
	return false;
}

/* The PCI name a sysfs link ends in, e.g. 0000:03:00.0. */
static int link_name(const char *link, char *out, size_t len)
{
	char buf[512];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	snprintf(out, len, "%s", basename(buf));
	return 0;
}

static void route_of(const char *prov, const char *client, char *out,
		     size_t len)
{
	char line[512], p[64], c[64], r[64];
	FILE *f = fopen(VERDICTS, "r");

	snprintf(out, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %63s %63s", p, c, r) == 3 &&
		    !strcmp(p, prov) && !strcmp(c, client)) {
			snprintf(out, len, "%s", r);
			break;
		}
	fclose(f);
}

/* 0 equal, 1 mismatch, -errno refused or failed. */
static int verify_pair(const char *prov, const char *dev, size_t bytes)
{
	char path[300], *p2p, *host;
	int fd, ns, ret;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate", prov);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	p2p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p2p == MAP_FAILED)
		return -errno;
	if (posix_memalign((void **)&host, 4096, bytes)) {
		munmap(p2p, bytes);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "/dev/%s", dev);
	ns = open(path, O_RDONLY | O_DIRECT);
	if (ns < 0) {
		ret = -errno;
		goto out;
	}
	memset(host, 0x5a, bytes);
	memset(p2p, 0xa5, bytes);
	n = pread(ns, host, bytes, 0);
	if (n != (ssize_t)bytes) {
		ret = n < 0 ? -errno : -EIO;
		goto out_close;
	}
	n = pread(ns, p2p, bytes, 0);
	if (n != (ssize_t)bytes) {
		ret = n < 0 ? -errno : -EIO;
		goto out_close;
	}
	ret = memcmp(host, p2p, bytes) ? 1 : 0;
out_close:
	close(ns);
out:
	munmap(p2p, bytes);
	free(host);
	return ret;
}

static int apply_fixes(void)
{
	char cur[1024] = "", buf[2048], *ent;
	FILE *f;
	int i;

	f = fopen(OVERRIDE, "r");
	if (f) {
		if (!fgets(cur, sizeof(cur), f))
			cur[0] = '\0';
		fclose(f);
	}
	cur[strcspn(cur, "\n")] = '\0';
	buf[0] = '\0';
	for (ent = strtok(cur, ";"); ent; ent = strtok(NULL, ";")) {
		if (replaced(ent))
			continue;
		if (strlen(buf) + strlen(ent) + 2 >= sizeof(buf))
			return -1;
		if (buf[0])
			strcat(buf, ";");
		strcat(buf, ent);
	}
	for (i = 0; i < nfix; i++) {
		if (strlen(buf) + strlen(fixes[i]) + 2 >= sizeof(buf))
			return -1;
		if (buf[0])
			strcat(buf, ";");
		strcat(buf, fixes[i]);
	}
	f = fopen(OVERRIDE, "w");
	if (!f || fprintf(f, "%s\n", buf) < 0 || fclose(f)) {
		fprintf(stderr, "p2pmem-verify: writing %s: %s\n", OVERRIDE, strerror(errno));
		return -1;
	}
	for (i = 0; i < nfix; i++)
		printf("p2pmem-verify: --fix: set %s\n", fixes[i]);
	return 0;
}

int main(int argc, char **argv)
{
	char prov[64], dev[64], route[64], link[512];
	struct dirent *pe, *be;
	bool fix = false;
	size_t bytes = 65536;
	int i, ret, bad = 0, pairs = 0;
	DIR *pd, *bd;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fix")) {
			fix = true;
		} else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
			bytes = strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: p2pmem-verify [-b BYTES] [--fix]\n");
			return 2;
		}
	}
	if (!bytes || bytes % 4096) {
		fprintf(stderr, "p2pmem-verify: -b must be a multiple of 4096\n");
		return 2;
	}
	pd = opendir("/sys/class/p2pmem");
	if (!pd) {
		fprintf(stderr, "p2pmem-verify: no /sys/class/p2pmem: %s\n", strerror(errno));
		return 2;
	}
	printf("%-14s %-14s %-10s %-14s %s\n", "provider", "client", "namespace",
	       "route", "result");
	while ((pe = readdir(pd))) {
		if (pe->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/sys/class/p2pmem/%s/device", pe->d_name);
		if (link_name(link, prov, sizeof(prov)))
			continue;
		bd = opendir("/sys/block");
		if (!bd)
			return 2;
		while ((be = readdir(bd))) {
			if (strncmp(be->d_name, "nvme", 4))
				continue;
			snprintf(link, sizeof(link), "/sys/block/%s/device/device",
				 be->d_name);
			if (link_name(link, dev, sizeof(dev)))
				continue;
			route_of(prov, dev, route, sizeof(route));
			ret = verify_pair(prov, be->d_name, bytes);
			pairs++;
			if (ret == 1) {
				bad++;
				printf("%-14s %-14s %-10s %-14s MISMATCH\n", prov, dev,
				       be->d_name, route);
				if (nfix < MAX_FIX) {
					snprintf(fix_rev[nfix], sizeof(fix_rev[0]),
						 "%s,%s", dev, prov);
					snprintf(fixes[nfix++], sizeof(fixes[0]),
						 "%s,%s=none", prov, dev);
				}
			} else if (ret < 0) {
				printf("%-14s %-14s %-10s %-14s refused (%s)\n", prov, dev,
				       be->d_name, route, strerror(-ret));
			} else {
				printf("%-14s %-14s %-10s %-14s ok\n", prov, dev,
				       be->d_name, route);
			}
		}
		closedir(bd);
	}
	closedir(pd);
	printf("p2pmem-verify: %d pairs, %d mismatching\n", pairs, bad);
	if (fix && nfix && apply_fixes())
		return 2;
	return bad ? 1 : 0;
}
