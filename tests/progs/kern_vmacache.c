// SPDX-License-Identifier: MIT
/*
 * kern_vmacache.c - fault in three anonymous mappings kept apart by
 * PROT_NONE pages, so the kernel stream caches all three vmas; then
 * reshape each a different way (munmap of a page in the middle, a
 * MAP_FIXED mmap over a page, a MAP_FIXED mmap right after one, which
 * the kernel may merge with it), each time faulting in a page of the
 * reshaped mapping right away. Tells the kernel-collector tests, on fd 3
 * ("key=value" lines), each such fault's address and the vma
 * /proc/self/maps shows holding it then (addrN, startN, endN, N = 0..2).
 * Between a reshaping and its fault it makes no other syscall, and the
 * reports make only syscalls that cannot reshape vmas (open, read,
 * close, write), so those faults must not be told the vmas cached before.
 *
 * Usage: kern_vmacache
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#define REPORT_FD 3

/* /proc/self/maps, read without malloc (no brk, no mmap): only open, read and close. */
static char maps[1 << 16];

/* The bounds of the vma holding addr, from /proc/self/maps; 0 if not found. */
static int vma_of(unsigned long addr, unsigned long *start, unsigned long *end)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;
	char *line;

	if (fd < 0)
		return 0;
	while (len < sizeof(maps) - 1 && (n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	maps[len] = '\0';
	for (line = maps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (sscanf(line, "%lx-%lx", start, end) == 2 && addr >= *start && addr < *end)
			return 1;
	return 0;
}

/* Fault in addr (a write), then report it as probe i with its vma. 0 or -1. */
static int touch_and_report(int i, volatile char *addr)
{
	unsigned long start, end;
	char line[160];
	int n;

	*addr = 1;
	if (!vma_of((unsigned long)addr, &start, &end))
		return -1;
	n = snprintf(line, sizeof(line), "addr%d=%lu\nstart%d=%lu\nend%d=%lu\n", i,
		     (unsigned long)addr, i, start, i, end);
	return write(REPORT_FD, line, n) == n ? 0 : -1;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int rw = PROT_READ | PROT_WRITE, fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	char *r, *a, *b, *d, *spare;

	/* No transparent huge pages: one fault per 4 KiB page. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	r = mmap(NULL, 20 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return 1;
	a = r + page;
	b = r + 6 * page;
	d = r + 11 * page;
	spare = r + 16 * page;
	if (mmap(a, 3 * page, rw, fixed, -1, 0) == MAP_FAILED ||
	    mmap(b, 3 * page, rw, fixed, -1, 0) == MAP_FAILED ||
	    mmap(d, 2 * page, rw, fixed, -1, 0) == MAP_FAILED ||
	    mmap(spare, 2 * page, rw, fixed, -1, 0) == MAP_FAILED)
		return 1;
	/* The pages the reports use, faulted in now (probe 3); then a fault in each mapping. */
	if (touch_and_report(3, spare))
		return 1;
	a[0] = 1;
	b[0] = 1;
	d[0] = 1;
	/* Each reshaped, then faulted in at once, before other vmas take its place in the cache. */
	if (munmap(a + page, page) || touch_and_report(0, a + 2 * page))
		return 1;
	if (mmap(b + page, page, PROT_READ, fixed, -1, 0) == MAP_FAILED ||
	    touch_and_report(1, b + 2 * page))
		return 1;
	if (mmap(d + 2 * page, page, rw, fixed, -1, 0) == MAP_FAILED ||
	    touch_and_report(2, d + page))
		return 1;
	return 0;
}
