// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem_hold PCI SIZE READY GO: map SIZE bytes of PCI's p2pmem/allocate,
 * fill them, create the file READY, wait until the file GO exists, then
 * touch the mapping again. For the scenario that removes the provider
 * while the mapping exists: the second touch must raise SIGBUS.
 *
 * Exit status: 0 SIGBUS on the second touch, 1 the touch worked, 2 setup
 * failed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	siglongjmp(jb, 1);
}

int main(int argc, char **argv)
{
	char path[128];
	size_t size, i;
	char *p;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: p2pmem_hold PCI SIZE READY GO\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate", argv[1]);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	close(fd);
	for (i = 0; i < size; i++)
		p[i] = (char)i;
	fd = open(argv[3], O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return 2;
	close(fd);
	while (access(argv[4], F_OK))
		usleep(20000);

	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(jb, 1)) {
		printf("p2pmem_hold: SIGBUS on the mapping after the provider went\n");
		return 0;
	}
	__atomic_store_n(p, 1, __ATOMIC_RELAXED);
	printf("p2pmem_hold: the mapping still worked\n");
	return 1;
}
