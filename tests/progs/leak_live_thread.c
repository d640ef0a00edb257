// SPDX-License-Identifier: MIT
/*
 * leak_live_thread.c - a block whose only pointer is a local variable of
 * a thread that is still running (blocked in pause()) when main returns:
 * its stack is a root, so the block is still reachable. The thread also
 * loses a block before it blocks: definitely lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 30 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0
 *   possibly lost: 272 bytes in 1 blocks: the live thread's DTV, which
 *   pthread_create calloc'd; glibc keeps a pointer to its second word
 *   only (16 bytes per TLS module; see docs/LEAKS.md)
 *   still reachable: 700 bytes in 1 blocks
 */
#include <pthread.h>
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(30), 0, 30);
}

__attribute__((noinline)) static void *worker(void *arg)
{
	char *volatile mine = malloc(700);

	memset(mine, 'w', 700);
	lose_one();
	leak_scrub();
	leak_park();
	return arg;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	leak_wait_parked();
	leak_scrub();
	return 0;
}
