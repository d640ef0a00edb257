// SPDX-License-Identifier: MIT
/*
 * leak_mmap_only.c - a block whose only pointer lives in a page the
 * program got from mmap(MAP_ANONYMOUS): the program's own memory, a root,
 * so the block is still reachable. The page is mapped right below a large
 * malloc'd block (malloc serves it with its own anonymous mmap), where the
 * kernel may merge the two into one mapping: the mapping then holds a heap
 * block, yet the program's page in it is still a root. A third block is
 * lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 24 bytes in 1 blocks
 *   still reachable: 1,048,616 bytes in 2 blocks (the large block, reached
 *     from a global, and the 40-byte one)
 *   indirectly lost: 0, possibly lost: 0
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "leak_scrub.h"

#define BIG_BYTES (1 << 20)

static void *big;

__attribute__((noinline)) static int keep_in_mapping(void)
{
	void **page;

	big = malloc(BIG_BYTES);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!big || page == MAP_FAILED)
		return 1;
	page[0] = malloc(40);
	return 0;
}

__attribute__((noinline)) static void lose(void)
{
	void *volatile p = malloc(24);

	p = NULL;
	(void)p;
}

int main(void)
{
	if (keep_in_mapping())
		return 1;
	lose();
	leak_scrub();
	return 0;
}
