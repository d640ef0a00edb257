// SPDX-License-Identifier: MIT
/*
 * fid_swapped.c - a 100-byte block whose only pointer lies in a heap
 * block that is swapped out when the program exits. memcheck reads
 * swapped pages like any other, so the block is still reachable; an exit
 * scan that skipped swapped-out pages would call it definitely lost.
 *
 * Prints "swapped 1" when /proc/self/pagemap says the holder's page is
 * swapped out at the end of main (MADV_PAGEOUT needs swap), else
 * "swapped 0". Exits 0.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HOLDER_PAGES 4
#define PAGEMAP_SWAPPED (1ULL << 62)

/* The holder is reachable from here; the target only through the holder. */
static uint64_t *volatile holder;

/* No register or stack slot of main keeps the target's address. */
static __attribute__((noinline)) void hide_target(long page)
{
	void *p;

	if (posix_memalign(&p, (size_t)page, HOLDER_PAGES * (size_t)page))
		exit(1);
	memset(p, 0x5a, HOLDER_PAGES * (size_t)page);	/* no other pointer-like word */
	((void **)p)[0] = malloc(100);
	holder = p;
}

static int swapped_out(const void *addr, long page)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t at = (off_t)((uintptr_t)addr / (uintptr_t)page * sizeof(entry));

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry), at) != (ssize_t)sizeof(entry))
		entry = 0;
	close(fd);
	return (entry & PAGEMAP_SWAPPED) != 0;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);

	hide_target(page);
	(void)madvise((void *)holder, HOLDER_PAGES * (size_t)page, MADV_PAGEOUT);
	printf("swapped %d\n", swapped_out((const void *)holder, page));
	return 0;
}
