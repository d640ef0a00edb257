// SPDX-License-Identifier: MIT
/*
 * leak_aligned.c - lost blocks from each aligned allocator, one call site
 * each: posix_memalign(64, 100), aligned_alloc(256, 512), memalign(128,
 * 200), valloc(300); and an aligned_alloc(4096, 8192) block kept in a
 * global. (No pvalloc: Valgrind 3.19 aborts the program when it is
 * called.)
 *
 * memcheck --leak-check=full:
 *   definitely lost: 1112 bytes in 4 blocks (4 loss records)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 8192 bytes in 1 blocks
 */
#include <malloc.h>
#include <stdlib.h>

#include "leak_scrub.h"

static void *kept;

__attribute__((noinline)) static void lose_posix_memalign(void)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, 100) == 0)
		memset(p, 0, 100);
}

__attribute__((noinline)) static void lose_aligned_alloc(void)
{
	memset(aligned_alloc(256, 512), 0, 512);
}

__attribute__((noinline)) static void lose_memalign(void)
{
	memset(memalign(128, 200), 0, 200);
}

__attribute__((noinline)) static void lose_valloc(void)
{
	memset(valloc(300), 0, 300);
}

int main(void)
{
	lose_posix_memalign();
	lose_aligned_alloc();
	lose_memalign();
	lose_valloc();
	kept = aligned_alloc(4096, 8192);
	leak_scrub();
	return 0;
}
