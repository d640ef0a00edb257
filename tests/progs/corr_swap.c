// SPDX-License-Identifier: MIT
/*
 * corr_swap.c - two call sites under a memory cgroup limit: one whose
 * buffer is swapped out and read back, one whose buffer is only swapped
 * out; the program counts from /proc/self/pagemap the pages that came back.
 *
 * Usage: corr_swap CGROUP_DIR REREAD_MB QUIET_KB
 *
 * The program first moves itself into the cgroup (CGROUP_DIR/cgroup.procs),
 * so only what it allocates from then on is charged there. site_quiet
 * mallocs QUIET_KB and writes every page, then site_reread mallocs
 * REREAD_MB (more than the limit) and writes every page, which pushes the
 * older pages, site_quiet's first, to swap. It then reads site_reread's
 * buffer again page by page; for each page it reads the pagemap entry just
 * before the read and just after: a page swapped before and present after
 * came back. site_quiet's buffer is never read again. It prints, with
 * write(2):
 *   reread pages=N swapped_before=S came_back=C
 *   quiet pages=Q swapped=X present=P
 * the last line as pagemap shows site_quiet's buffer at the end. Then it
 * frees site_reread's buffer: the exit-time leak scan reads every live
 * block, and reading 192 MiB of swapped-out memory back into a cgroup that
 * holds 64 MiB can get the program OOM-killed after it is done.
 * site_quiet's block stays live (reachable from a global) until exit.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)

static char *quiet, *reread;
static long page;
static int pm;

__attribute__((noinline)) static char *site_quiet(size_t len)
{
	return malloc(len);
}

__attribute__((noinline)) static char *site_reread(size_t len)
{
	return malloc(len);
}

static uint64_t entry_of(const char *addr)
{
	uint64_t e;

	if (pread(pm, &e, sizeof(e), (uintptr_t)addr / page * sizeof(e)) != sizeof(e))
		_exit(1);
	return e;
}

static void say(const char *text)
{
	size_t len = strlen(text);

	if (write(STDOUT_FILENO, text, len) != (ssize_t)len)
		_exit(1);
}

static int join_cgroup(const char *dir)
{
	char path[512], pid[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, pid, n) != n)
		err = -1;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	size_t reread_len, quiet_len, i, pages, before = 0, back = 0, qswapped = 0, qpresent = 0;
	volatile unsigned long sum = 0;
	char line[256];

	if (argc != 4)
		return 2;
	page = sysconf(_SC_PAGESIZE);
	reread_len = strtoull(argv[2], NULL, 10) << 20;
	quiet_len = strtoull(argv[3], NULL, 10) << 10;
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0 || join_cgroup(argv[1]))
		return 1;
	quiet = site_quiet(quiet_len);
	if (!quiet)
		return 1;
	for (i = 0; i < quiet_len; i += page)
		quiet[i] = (char)(i / page) | 1;
	reread = site_reread(reread_len);
	if (!reread)
		return 1;
	pages = reread_len / page;
	for (i = 0; i < pages; i++)
		reread[i * page] = (char)i | 1;
	for (i = 0; i < pages; i++) {
		bool swapped = entry_of(reread + i * page) & PAGEMAP_SWAPPED;

		sum += reread[i * page];
		before += swapped;
		if (swapped && (entry_of(reread + i * page) & PAGEMAP_PRESENT))
			back++;
	}
	for (i = 0; i < quiet_len; i += page) {
		uint64_t e = entry_of(quiet + i);

		qswapped += !!(e & PAGEMAP_SWAPPED);
		qpresent += !!(e & PAGEMAP_PRESENT);
	}
	snprintf(line, sizeof(line), "reread pages=%zu swapped_before=%zu came_back=%zu\n",
		 pages, before, back);
	say(line);
	snprintf(line, sizeof(line), "quiet pages=%zu swapped=%zu present=%zu\n",
		 quiet_len / page, qswapped, qpresent);
	say(line);
	free(reread);
	reread = NULL;
	return 0;
}
