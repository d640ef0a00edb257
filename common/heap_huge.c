// SPDX-License-Identifier: MIT
/*
 * heap_huge.c - the heap grown ahead on transparent huge pages
 * (heap_huge.h). Never allocates but for the one block that grows the
 * heap; never prints.
 */
#include "common/heap_huge.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#define HUGE_PAGE (2U << 20)
/* glibc's largest M_MMAP_THRESHOLD (64-bit); the default of it, M_TRIM_THRESHOLD and M_TOP_PAD. */
#define GLIBC_MMAP_THRESHOLD_MAX (32U << 20)
#define GLIBC_THRESHOLD_DEFAULT (128U << 10)

void mh_heap_huge(size_t bytes, bool fill_head, bool large_in_heap)
{
	/* One block below the mmap threshold; the rest of the growth is glibc's top pad. */
	size_t block_bytes = bytes < GLIBC_MMAP_THRESHOLD_MAX ? bytes :
			     GLIBC_MMAP_THRESHOLD_MAX / 2;
	char *block, *start, *end, *page;
	uintptr_t page_size;

	(void)mallopt(M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD_MAX);
	(void)mallopt(M_TRIM_THRESHOLD, bytes + 2 * GLIBC_MMAP_THRESHOLD_MAX);
	(void)mallopt(M_TOP_PAD, bytes - block_bytes);
	block = malloc(block_bytes);
	(void)mallopt(M_TOP_PAD, GLIBC_THRESHOLD_DEFAULT);
	if (!large_in_heap)
		(void)mallopt(M_MMAP_THRESHOLD, GLIBC_THRESHOLD_DEFAULT);
	if (!block)
		return;
	/* The heap's end now: the block and the pad above it (or the block, if it was mapped). */
	end = sbrk(0);
	if (end == (char *)-1 || end < block + block_bytes)
		end = block + block_bytes;
	start = (char *)(((uintptr_t)block + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (end > start)
		(void)madvise(start, (size_t)(end - start) & ~(size_t)(HUGE_PAGE - 1),
			      MADV_HUGEPAGE);
	page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	page = (char *)(((uintptr_t)block + page_size - 1) & ~(page_size - 1));
	if (fill_head && start > page)
		(void)madvise(page, (size_t)(start - page), MADV_POPULATE_WRITE);
	free(block);
}

void mh_heap_default(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, GLIBC_THRESHOLD_DEFAULT);
	(void)mallopt(M_TRIM_THRESHOLD, GLIBC_THRESHOLD_DEFAULT);
	(void)malloc_trim(0);
}
