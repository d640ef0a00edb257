// SPDX-License-Identifier: MIT
/*
 * leak_sbrk.c - a block whose only pointer lives in memory the program got
 * from sbrk(): that memory is the program's own (not a heap block), so it
 * is a root and the block is still reachable. A second block, pointed to
 * from nowhere, is definitely lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 24 bytes in 1 blocks
 *   still reachable: 40 bytes in 1 blocks
 *   indirectly lost: 0, possibly lost: 0
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "leak_scrub.h"

__attribute__((noinline)) static int keep_in_break(void)
{
	void **slot = sbrk(4096);

	if (slot == (void *)-1)
		return 1;
	slot[0] = malloc(40);
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
	if (keep_in_break())
		return 1;
	lose();
	leak_scrub();
	return 0;
}
