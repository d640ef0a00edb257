// SPDX-License-Identifier: MIT
/*
 * segv.c - allocates, then dies of SIGSEGV.
 *
 * Before the crash it mallocs 10 blocks of 1000 bytes (10,000 bytes) and
 * frees none; stdout is flushed first so its line survives. It then writes
 * through a NULL pointer. Exit: killed by SIGSEGV (a shell shows 139). A
 * correct trace ends with the process killed by signal 11 and holds the 10
 * allocations (10,000 bytes live at death, no free); no exit-time leak
 * classification is possible, since exit handlers never ran.
 */
#include <stdio.h>
#include <stdlib.h>

#define BLOCKS 10
#define BLOCK_BYTES 1000

static void *blocks[BLOCKS];

static __attribute__((noinline)) void crash(volatile int *where)
{
	*where = 1;
}

int main(void)
{
	int i;

	for (i = 0; i < BLOCKS; i++)
		blocks[i] = malloc(BLOCK_BYTES);
	printf("allocated blocks=%d bytes=%d, now crashing\n", BLOCKS, BLOCKS * BLOCK_BYTES);
	fflush(stdout);
	crash(NULL);
	return 0;
}
