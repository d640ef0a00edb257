// SPDX-License-Identifier: MIT
/*
 * leak_global.c - blocks still reachable from globals at exit: one from a
 * file-static pointer, one from an exported pointer, and one reachable
 * only through that second block (a chain of start pointers from a root
 * is still reachable). One block is lost for contrast.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 20 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 256 bytes in 3 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

static void *g_static;
void **g_exported;

__attribute__((noinline)) static void keep_and_lose(void)
{
	g_static = malloc(64);
	g_exported = malloc(128);
	g_exported[0] = malloc(64);
	memset(malloc(20), 0, 20);
}

int main(void)
{
	keep_and_lose();
	leak_scrub();
	return 0;
}
