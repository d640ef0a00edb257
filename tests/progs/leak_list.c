// SPDX-License-Identifier: MIT
/*
 * leak_list.c - a singly linked list of ten 32-byte nodes whose head
 * pointer is lost: the head is definitely lost, the nine nodes after it
 * indirectly lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 32 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 288 bytes in 9 blocks
 *   possibly lost: 0, still reachable: 0
 */
#include <stdlib.h>

#include "leak_scrub.h"

#define NODES 10

struct node {
	struct node *next;
	char payload[24];
};

__attribute__((noinline)) static void lose_list(void)
{
	struct node *head = NULL;

	for (int i = 0; i < NODES; i++) {
		struct node *n = malloc(sizeof(*n));

		memset(n->payload, 'a' + i, sizeof(n->payload));
		n->next = head;
		head = n;
	}
}

int main(void)
{
	lose_list();
	leak_scrub();
	return 0;
}
