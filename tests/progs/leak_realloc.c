// SPDX-License-Identifier: MIT
/*
 * leak_realloc.c - realloc chains. One block grows 16 -> 4096 bytes in
 * seven reallocs (moving), shrinks to 100 and is lost: one definitely
 * lost block of the last size, allocated by the last realloc's stack.
 * Another starts as realloc(NULL, 10), grows to 2000 and is kept in a
 * global: still reachable. A third is freed by realloc(p, 0).
 *
 * memcheck --leak-check=full:
 *   definitely lost: 100 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 2000 bytes in 1 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

#define GROW_STEPS 8

static char *kept;

__attribute__((noinline)) static void lose_chain(void)
{
	char *p = malloc(16);

	for (int i = 1; i < GROW_STEPS; i++) {
		p = realloc(p, (size_t)16 << i);
		p[0] = (char)i;
	}
	p = realloc(p, 100);
	p[99] = 0;
}

__attribute__((noinline)) static void keep_chain(void)
{
	kept = realloc(NULL, 10);
	kept = realloc(kept, 2000);
	kept[1999] = 0;
}

__attribute__((noinline)) static void free_by_realloc(void)
{
	char *p = malloc(77);

	p[0] = 0;
	p = realloc(p, 0);
	(void)p;
}

int main(void)
{
	lose_chain();
	keep_chain();
	free_by_realloc();
	leak_scrub();
	return 0;
}
