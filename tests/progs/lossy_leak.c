// SPDX-License-Identifier: MIT
/*
 * lossy_leak.c - leaks one 4096-byte block from lossy_leak_block(), then
 * makes a million short-lived allocations (freed in batches of 1000) so
 * that a small --lossy ring drops events, and exits 0. Under memcheck:
 * 4096 bytes definitely lost in 1 block, nothing else in use at exit.
 */
#include <stdlib.h>
#include <string.h>

#include "leak_scrub.h"

#define ROUNDS 1000
#define BATCH 1000

__attribute__((noinline)) static void lossy_leak_block(void)
{
	char *volatile p = malloc(4096);

	memset(p, 0x5a, 4096);
	p = NULL;	/* the only pointer dies here */
}

int main(void)
{
	static void *batch[BATCH];

	lossy_leak_block();
	leak_scrub();
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++)
			batch[i] = malloc(16 + (size_t)(i % 64) * 8);
		for (int i = 0; i < BATCH; i++)
			free(batch[i]);
	}
	memset(batch, 0, sizeof(batch));
	return 0;
}
