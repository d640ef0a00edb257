// SPDX-License-Identifier: MIT
/*
 * leak_cycle.c - lost cycles: a ring of three 40-byte nodes and a 40-byte
 * block that points to itself. Nothing outside points into them. memcheck
 * makes the lowest-addressed block of the ring the leader of its clique
 * (definitely lost) and the other two indirectly lost; the self-loop is
 * definitely lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 80 bytes in 2 blocks (2 loss records)
 *   indirectly lost: 80 bytes in 2 blocks
 *   possibly lost: 0, still reachable: 0
 */
#include <stdlib.h>

#include "leak_scrub.h"

#define RING 3

struct ring {
	struct ring *next;
	char payload[32];
};

__attribute__((noinline)) static void lose_ring(void)
{
	struct ring *first = NULL, *prev = NULL;

	for (int i = 0; i < RING; i++) {
		struct ring *n = calloc(1, sizeof(*n));

		if (prev)
			prev->next = n;
		else
			first = n;
		prev = n;
	}
	prev->next = first;
}

__attribute__((noinline)) static void lose_self_loop(void)
{
	struct ring *self = calloc(1, sizeof(*self));

	self->next = self;
}

int main(void)
{
	lose_ring();
	lose_self_loop();
	leak_scrub();
	return 0;
}
