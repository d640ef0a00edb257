// SPDX-License-Identifier: MIT
/*
 * leak_cycle_opt.c - a lost ring of four 64-byte nodes, built at -O2
 * (tests/verdicts.mk): without frame pointers the compiler keeps node
 * pointers in %rbp and other registers, and memhook's own unwinder and
 * exit path see them. Those copies are memhook's, never roots: memcheck
 * calls the ring lost, and so must memhook.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 64 bytes in 1 blocks
 *   indirectly lost: 192 bytes in 3 blocks
 *   possibly lost: 0, still reachable: 0
 */
#include <stdlib.h>

#include "leak_scrub.h"

#define NODES 4

struct node {
	struct node *next;
	char payload[56];
};

void *volatile leak_sink;

__attribute__((noinline)) static struct node *make_ring(int n)
{
	struct node *first = malloc(sizeof(*first)), *prev = first;

	for (int i = 1; i < n; i++) {
		struct node *x = malloc(sizeof(*x));

		prev->next = x;
		prev = x;
	}
	prev->next = first;
	return first;
}

int main(void)
{
	/* Published, then forgotten: the calls cannot be optimized away. */
	leak_sink = make_ring(NODES);
	leak_sink = NULL;
	leak_scrub();
	return 0;
}
