// SPDX-License-Identifier: MIT
/*
 * four_sites.c - four call sites with equal allocations and different
 * resident memory.
 *
 * Sites site_10, site_50, site_100 and site_0 each malloc 64 MiB (served
 * by mmap in glibc, so untouched pages are never resident) and write one
 * byte in the first 10%, 50%, 100% and 0% of the block's pages. Before
 * freeing, the program reads /proc/self/pagemap (bit 63 present, bit 62
 * swapped) for each block and prints, per site:
 *   site=site_50 bytes=67108864 touched_pages=8192 resident_pages=8192 ...
 * A correct per-stack RSS report shows the four stacks with 64 MiB
 * allocated each and resident bytes equal to the printed resident pages
 * times the page size (about 6.4, 32, 64 and 0 MiB). glibc writes its chunk
 * header just before the block, in the block's first page, so site_0 shows
 * 1 resident page, not 0. The blocks stay allocated until exit, still
 * reachable from a global, so the residency memhook snapshots at exit is
 * the one the program printed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SITES 4
#define SITE_BYTES (64UL << 20)
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)

struct site {
	const char *name;
	int percent;
	char *block;
	size_t touched_pages;
};

static long page_size;

static size_t touch(char *p, int percent)
{
	size_t pages = SITE_BYTES / (size_t)page_size;
	size_t n = pages * (size_t)percent / 100, i;

	for (i = 0; i < n; i++)
		p[i * (size_t)page_size] = 1;
	return n;
}

static char *alloc_block(void)
{
	char *p = malloc(SITE_BYTES);

	if (!p)
		abort();
	return p;
}

/* One noinline function per site, so each has a stack of its own. */
static __attribute__((noinline)) void site_10(struct site *s)
{
	s->block = alloc_block();
	s->touched_pages = touch(s->block, s->percent);
}

static __attribute__((noinline)) void site_50(struct site *s)
{
	s->block = alloc_block();
	s->touched_pages = touch(s->block, s->percent);
}

static __attribute__((noinline)) void site_100(struct site *s)
{
	s->block = alloc_block();
	s->touched_pages = touch(s->block, s->percent);
}

static __attribute__((noinline)) void site_0(struct site *s)
{
	s->block = alloc_block();
	s->touched_pages = touch(s->block, s->percent);
}

/* Count present and swapped pages of [p, p + bytes) in /proc/self/pagemap. */
static int count_resident(int fd, const char *p, size_t bytes, size_t *present, size_t *swapped)
{
	uintptr_t first = (uintptr_t)p / (uintptr_t)page_size;
	uintptr_t last = ((uintptr_t)p + bytes - 1) / (uintptr_t)page_size;
	uint64_t entry;
	uintptr_t pg;

	*present = *swapped = 0;
	for (pg = first; pg <= last; pg++) {
		if (pread(fd, &entry, sizeof(entry), (off_t)(pg * sizeof(entry))) !=
		    (ssize_t)sizeof(entry))
			return -1;
		*present += !!(entry & PAGEMAP_PRESENT);
		*swapped += !!(entry & PAGEMAP_SWAPPED);
	}
	return 0;
}

static struct site sites[SITES] = {
	{ "site_10", 10, NULL, 0 },
	{ "site_50", 50, NULL, 0 },
	{ "site_100", 100, NULL, 0 },
	{ "site_0", 0, NULL, 0 },
};

int main(void)
{
	size_t present, swapped;
	int fd, i, rc = 0;

	page_size = sysconf(_SC_PAGESIZE);
	site_10(&sites[0]);
	site_50(&sites[1]);
	site_100(&sites[2]);
	site_0(&sites[3]);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0) {
		perror("four_sites: /proc/self/pagemap");
		return 1;
	}
	for (i = 0; i < SITES; i++) {
		if (count_resident(fd, sites[i].block, SITE_BYTES, &present, &swapped)) {
			perror("four_sites: pagemap read");
			rc = 1;
			break;
		}
		printf("site=%s bytes=%lu touched_pages=%zu resident_pages=%zu swapped_pages=%zu "
		       "page_size=%ld\n",
		       sites[i].name, SITE_BYTES, sites[i].touched_pages, present, swapped,
		       page_size);
	}
	close(fd);
	return rc;
}
