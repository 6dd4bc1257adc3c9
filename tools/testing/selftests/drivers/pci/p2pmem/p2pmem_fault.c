// SPDX-License-Identifier: GPL-2.0
/*
 * Fail every allocation of one operation in turn, through the calling
 * thread's /proc/thread-self/fail-nth (failslab, fail_page_alloc and
 * fail_p2pmem all count for it), and check each failure:
 *
 *   p2pmem_fault [-s STATE] [-u FILE=DATA] [-e ERRNO,...] write FILE DATA
 *   p2pmem_fault [-s STATE] [-e ERRNO,...] mmap FILE BYTES
 *
 * For N = 1, 2, ... the operation (one write() of DATA to FILE, or an
 * mmap() of BYTES of FILE whose pages are then checked to read zero and
 * hold what is written, and unmapped) runs with its Nth fault site
 * failing. When the fault was injected the operation must fail with one
 * of the given errnos (default ENOMEM) or succeed anyway (a failure the
 * kernel absorbs, then undone by writing DATA to FILE of -u); either way
 * the output of the shell command STATE must be what it was before. The
 * sweep ends when the operation completes without reaching its Nth site;
 * that last run must succeed. One line sums it up:
 *
 *   sweep: SITES sites, REFUSED refused, ABSORBED absorbed, state kept
 *
 * With -1 the operation runs once, without fail-nth: the caller has armed
 * another fault attribute (fail_p2pmem with probability 100, times 1 and
 * task-filter, say), and the run is judged like a site of the sweep whose
 * fault was injected. The sweep alone cannot promise to reach a given
 * site: on a debug kernel, allocations of KASAN's stack depot or of
 * kmemleak come and go between runs and shift the sites' numbers. One line:
 *
 *   once: refused|absorbed, state kept
 *
 * The exit status is 0 only if every run was as described.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_SITES	20000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define STATE_MAX	65536

static const char *state_cmd;
static char state0[STATE_MAX];
static int failnth_fd = -1;
static int allowed[16] = { ENOMEM };
static int nallowed = 1;
static sigjmp_buf bus_jmp;

static int state(char *buf)
{
	size_t len = 0, r;
	FILE *f;

	buf[0] = '\0';
	if (!state_cmd)
		return 0;
	f = popen(state_cmd, "r");
	if (!f)
		return -1;
	while (len < STATE_MAX - 1 &&
	       (r = fread(buf + len, 1, STATE_MAX - 1 - len, f)) > 0)
		len += r;
	buf[len] = '\0';
	return pclose(f) ? -1 : 0;
}

static int set_failnth(unsigned int n)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%u", n);

	return pwrite(failnth_fd, num, len, 0) == len ? 0 : -1;
}

/* Sites left of the last setting: 0 when the fault was injected. */
static long left_failnth(void)
{
	char num[16] = "";
	ssize_t r = pread(failnth_fd, num, sizeof(num) - 1, 0);

	if (r <= 0)
		return -1;
	num[r] = '\0';
	return strtol(num, NULL, 10);
}

static int errno_allowed(int e)
{
	int i;

	for (i = 0; i < nallowed; i++)
		if (allowed[i] == e)
			return 1;
	return 0;
}

static int write_file(const char *path, const char *data, int fail_at,
		      int *err)
{
	size_t len = strlen(data);
	ssize_t r;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (fail_at && set_failnth(fail_at)) {
		close(fd);
		*err = errno;
		return -1;
	}
	r = write(fd, data, len);
	*err = errno;
	close(fd);
	return r == (ssize_t)len ? 0 : -1;
}

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/*
 * mmap and check BYTES of PATH, then unmap them. The faults stop before
 * munmap(), which may fail for want of memory itself and keep the
 * mapping: *left is what fail-nth had left at that point.
 */
static int mmap_file(const char *path, size_t bytes, int fail_at, int *err,
		     long *left)
{
	unsigned long *p;
	size_t i, words = bytes / sizeof(*p);
	int fd, ret = 0;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (fail_at && set_failnth(fail_at)) {
		*err = errno;
		close(fd);
		return -1;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*err = errno;
	close(fd);
	if (p == MAP_FAILED) {
		*left = left_failnth();
		return -1;
	}
	if (sigsetjmp(bus_jmp, 1)) {
		fprintf(stderr, "SIGBUS on a page mmap() returned\n");
		ret = -2;
		goto out;
	}
	for (i = 0; i < words; i++)
		if (p[i]) {
			fprintf(stderr, "word %zu reads %#lx, not 0\n", i, p[i]);
			ret = -2;
			goto out;
		}
	for (i = 0; i < words; i++)
		p[i] = i ^ 0x5a5a5a5aUL;
	for (i = 0; i < words; i++)
		if (p[i] != (i ^ 0x5a5a5a5aUL)) {
			fprintf(stderr, "word %zu did not keep what was written\n", i);
			ret = -2;
			goto out;
		}
out:
	*left = left_failnth();
	if (set_failnth(0) || munmap(p, bytes)) {
		perror("munmap");
		return -2;
	}
	return ret;
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: p2pmem_fault [-1] [-s STATE] [-u FILE=DATA] [-e ERRNO,...] write FILE DATA\n"
		"       p2pmem_fault [-1] [-s STATE] [-e ERRNO,...] mmap FILE BYTES\n");
	exit(2);
}

/*
 * After a run: undo a write that went through (-u), then compare the state
 * with state0. Returns 1 if it is unchanged, 0 if it changed (reported;
 * state0 takes the new state, so the next runs are judged against what is
 * there now), -1 if the undo or the state command failed.
 */
static int undo_and_compare(const char *what, int ret, int is_mmap,
			    const char *undo_file, const char *undo_data)
{
	static char now[STATE_MAX];
	int err;

	if (!ret && !is_mmap && undo_file &&
	    write_file(undo_file, undo_data, 0, &err)) {
		fprintf(stderr, "%s: undo failed: %s\n", what, strerror(err));
		return -1;
	}
	if (state(now)) {
		fprintf(stderr, "state command failed: %s\n", state_cmd);
		return -1;
	}
	if (!strcmp(now, state0))
		return 1;
	fprintf(stderr, "%s: state changed\nbefore:\n%s\nafter:\n%s\n",
		what, state0, now);
	strcpy(state0, now);
	return 0;
}

/* -1: one run, its fault injected by an attribute the caller armed. */
static int run_once(const char *file, const char *arg, int is_mmap,
		    size_t bytes, const char *undo_file, const char *undo_data)
{
	int ret, err = 0, bad = 0, kept;
	long left;

	if (is_mmap)
		ret = mmap_file(file, bytes, 0, &err, &left);
	else
		ret = write_file(file, arg, 0, &err);
	if (ret == -2) {
		fprintf(stderr, "once: the mapping was wrong\n");
		bad++;
	} else if (ret && !errno_allowed(err)) {
		fprintf(stderr, "once: failed with %s\n", strerror(err));
		bad++;
	}
	kept = undo_and_compare("once", ret, is_mmap, undo_file, undo_data);
	if (kept < 0)
		return 1;
	if (!kept)
		bad++;
	printf("once: %s, %s\n", ret ? "refused" : "absorbed",
	       bad ? "FAILED" : "state kept");
	return bad ? 1 : 0;
}

static void parse_errnos(char *list)
{
	static const struct { const char *name; int e; } names[] = {
		{ "ENOMEM", ENOMEM }, { "ENOSPC", ENOSPC }, { "EIO", EIO },
		{ "ENODEV", ENODEV }, { "EAGAIN", EAGAIN }, { "EBUSY", EBUSY },
		{ "EINVAL", EINVAL }, { "ENXIO", ENXIO }, { "EFAULT", EFAULT },
	};
	char *tok;
	size_t i;

	nallowed = 0;
	for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(tok, names[i].name))
				break;
		if (i == ARRAY_SIZE(names) ||
		    nallowed == (int)ARRAY_SIZE(allowed)) {
			fprintf(stderr, "unknown errno %s\n", tok);
			exit(2);
		}
		allowed[nallowed++] = names[i].e;
	}
}

int main(int argc, char **argv)
{
	char *undo_file = NULL, *undo_data = NULL, what[32];
	int opt, n, err, ret, kept, bad = 0, refused = 0, absorbed = 0;
	int is_mmap, once = 0;
	size_t bytes = 0;

	while ((opt = getopt(argc, argv, "1s:u:e:")) != -1) {
		switch (opt) {
		case '1':
			once = 1;
			break;
		case 's':
			state_cmd = optarg;
			break;
		case 'u':
			undo_file = optarg;
			undo_data = strchr(optarg, '=');
			if (!undo_data)
				bad_usage();
			*undo_data++ = '\0';
			break;
		case 'e':
			parse_errnos(optarg);
			break;
		default:
			bad_usage();
		}
	}
	if (argc - optind != 3)
		bad_usage();
	is_mmap = !strcmp(argv[optind], "mmap");
	if (!is_mmap && strcmp(argv[optind], "write"))
		bad_usage();
	if (is_mmap) {
		bytes = strtoul(argv[optind + 2], NULL, 0);
		if (!bytes || bytes % sysconf(_SC_PAGESIZE))
			bad_usage();
	}
	signal(SIGBUS, on_sigbus);
	failnth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (failnth_fd < 0) {
		perror("/proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
		return 1;
	}
	if (state(state0)) {
		fprintf(stderr, "state command failed: %s\n", state_cmd);
		return 1;
	}
	if (once)
		return run_once(argv[optind + 1], argv[optind + 2], is_mmap,
				bytes, undo_file, undo_data);

	for (n = 1; n <= MAX_SITES; n++) {
		long left;

		if (is_mmap) {
			ret = mmap_file(argv[optind + 1], bytes, n, &err, &left);
		} else {
			ret = write_file(argv[optind + 1], argv[optind + 2], n,
					 &err);
			left = left_failnth();
		}
		if (set_failnth(0) || left < 0) {
			perror("fail-nth");
			return 1;
		}
		if (ret == -2) {
			fprintf(stderr, "site %d: the mapping was wrong\n", n);
			bad++;
		} else if (left > 0) {
			/* Fewer than n sites: the run that went through. */
			if (ret) {
				fprintf(stderr, "the run without a fault failed: %s\n",
					strerror(err));
				bad++;
			}
		} else if (ret) {
			refused++;
			if (!errno_allowed(err)) {
				fprintf(stderr, "site %d: failed with %s\n", n,
					strerror(err));
				bad++;
			}
		} else {
			absorbed++;
		}
		snprintf(what, sizeof(what), "site %d", n);
		kept = undo_and_compare(what, ret, is_mmap, undo_file,
					undo_data);
		if (kept < 0)
			return 1;
		if (!kept)
			bad++;
		if (left > 0)
			break;
	}
	if (n > MAX_SITES) {
		fprintf(stderr, "no end after %d sites\n", MAX_SITES);
		return 1;
	}
	printf("sweep: %d sites, %d refused, %d absorbed, %s\n", n - 1,
	       refused, absorbed, bad ? "FAILED" : "state kept");
	return bad ? 1 : 0;
}
