// SPDX-License-Identifier: MIT
/*
 * self_kill.c - SIGKILLs itself in the middle of an allocation loop.
 *
 * It mallocs blocks of 512 bytes, one after another, and after the 1000th
 * (512,000 bytes, none freed) sends itself SIGKILL; the loop would have
 * run to 2000. Nothing in the process runs after the kill: a correct trace
 * holds exactly 1000 allocations of 512 bytes from this loop and ends with
 * the process killed by signal 9 (a shell shows 137).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BLOCK_BYTES 512
#define KILL_AFTER 1000
#define LOOP_BLOCKS 2000

static void *blocks[LOOP_BLOCKS];

int main(void)
{
	int i;

	printf("allocating %d blocks of %d bytes, SIGKILL after %d\n", LOOP_BLOCKS, BLOCK_BYTES,
	       KILL_AFTER);
	fflush(stdout);
	for (i = 0; i < LOOP_BLOCKS; i++) {
		blocks[i] = malloc(BLOCK_BYTES);
		if (i + 1 == KILL_AFTER)
			kill(getpid(), SIGKILL);
	}
	return 0;
}
