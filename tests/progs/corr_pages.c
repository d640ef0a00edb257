// SPDX-License-Identifier: MIT
/*
 * corr_pages.c - two call sites whose small blocks share heap pages, and
 * the program's own count of how many bytes of each site are resident.
 *
 * site_a mallocs 48-byte blocks and site_b 80-byte blocks, alternately,
 * BLOCKS of each; every block is filled and stays live until exit,
 * reachable from a global array (in .bss, not on the heap). Then the
 * program drops every DROP_EVERY-th page well inside the blocks' span with
 * MADV_DONTNEED (so some blocks are wholly, some partly, not resident) and
 * reads /proc/self/pagemap for every page the blocks overlap. It prints,
 * with write(2) and no stdio (which would malloc a buffer), one line per
 * site and one for the heap:
 *   site=site_a blocks=N bytes=B resident_bytes=R
 *   heap pages=P resident_pages=Q resident_bytes=S dropped_pages=D
 * R is the sum over the site's blocks of the bytes of overlap with present
 * pages; S is the present pages among those the blocks overlap, in bytes,
 * and P the pages from the lowest block to the highest.
 * After that it touches nothing, so the residency memhook snapshots at
 * exit is the one printed. Dropped pages hold chunk headers of live blocks
 * only, never one that glibc reads again: nothing is freed, and the pages
 * next to the span's ends (libc's blocks, the top chunk) are kept.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#define BLOCKS 200000
#define SIZE_A 48
#define SIZE_B 80
#define DROP_EVERY 5
#define KEEP 2000	/* blocks at each end whose pages are never dropped */
#define PAGEMAP_PRESENT (1ULL << 63)

static void *blocks[2 * BLOCKS];	/* even: site_a, odd: site_b */

__attribute__((noinline)) static void *site_a(void)
{
	return malloc(SIZE_A);
}

__attribute__((noinline)) static void *site_b(void)
{
	return malloc(SIZE_B);
}

static void say(const char *text)
{
	size_t len = strlen(text);

	if (write(STDOUT_FILENO, text, len) != (ssize_t)len)
		_exit(1);
}

/* Bytes of [start, end) on present pages; entries[k] is page lo + k. */
static uint64_t resident_overlap(uintptr_t start, uintptr_t end, const uint64_t *entries,
				 uintptr_t lo, long page)
{
	uint64_t sum = 0;
	uintptr_t pg;

	for (pg = start / page; pg <= (end - 1) / page; pg++) {
		uintptr_t a = pg * page, b = a + page;

		if (!(entries[pg - lo] & PAGEMAP_PRESENT))
			continue;
		sum += (end < b ? end : b) - (start > a ? start : a);
	}
	return sum;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t lo = UINTPTR_MAX, hi = 0, pg, first, last;
	uint64_t site_bytes[2] = { 0, 0 }, *entries;
	unsigned char *covered;
	size_t i, n, pages, present = 0, dropped = 0;
	char line[256];
	int pm;

	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	for (i = 0; i < 2 * BLOCKS; i++) {
		size_t size = i % 2 ? SIZE_B : SIZE_A;

		blocks[i] = i % 2 ? site_b() : site_a();
		if (!blocks[i])
			return 1;
		memset(blocks[i], (int)(i | 1), size);
		if ((uintptr_t)blocks[i] / page < lo)
			lo = (uintptr_t)blocks[i] / page;
		if (((uintptr_t)blocks[i] + size - 1) / page > hi)
			hi = ((uintptr_t)blocks[i] + size - 1) / page;
	}
	pages = hi - lo + 1;
	if (pages > (64UL << 20) / page)
		return 3;	/* the blocks are not in one heap: nothing to compare */
	/*
	 * The first blocks may reuse chunks libc freed at start-up, next to
	 * libc's own blocks: drop only pages between blocks carved one after
	 * another from the top of the heap.
	 */
	first = (uintptr_t)blocks[KEEP] / page + 1;
	last = (uintptr_t)blocks[2 * BLOCKS - KEEP] / page;
	if (first >= last)
		return 3;
	for (pg = first; pg < last; pg++) {
		if (pg % DROP_EVERY)
			continue;
		if (madvise((void *)(pg * page), page, MADV_DONTNEED))
			return 1;
		dropped++;
	}
	entries = mmap(NULL, pages * sizeof(*entries), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	covered = mmap(NULL, pages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (entries == MAP_FAILED || covered == MAP_FAILED || pm < 0)
		return 1;
	n = pages * sizeof(*entries);
	if (pread(pm, entries, n, lo * sizeof(*entries)) != (ssize_t)n)
		return 1;
	for (i = 0; i < 2 * BLOCKS; i++) {
		uintptr_t start = (uintptr_t)blocks[i];
		uintptr_t end = start + (i % 2 ? SIZE_B : SIZE_A);

		for (pg = start / page; pg <= (end - 1) / page; pg++)
			covered[pg - lo] = 1;
		site_bytes[i % 2] += resident_overlap(start, end, entries, lo, page);
	}
	for (i = 0; i < pages; i++)
		present += covered[i] && (entries[i] & PAGEMAP_PRESENT);
	snprintf(line, sizeof(line), "site=site_a blocks=%d bytes=%d resident_bytes=%llu\n",
		 BLOCKS, BLOCKS * SIZE_A, (unsigned long long)site_bytes[0]);
	say(line);
	snprintf(line, sizeof(line), "site=site_b blocks=%d bytes=%d resident_bytes=%llu\n",
		 BLOCKS, BLOCKS * SIZE_B, (unsigned long long)site_bytes[1]);
	say(line);
	snprintf(line, sizeof(line),
		 "heap pages=%zu resident_pages=%zu resident_bytes=%llu dropped_pages=%zu\n",
		 pages, present, (unsigned long long)present * page, dropped);
	say(line);
	return 0;
}
