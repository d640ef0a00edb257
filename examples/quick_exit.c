// SPDX-License-Identifier: MIT
/*
 * quick_exit.c - allocates, then leaves with _exit(3): no atexit handlers,
 * no destructors, no stdio flush, no __libc_freeres.
 *
 * Before leaving it mallocs 5 blocks of 2000 bytes (10,000 bytes) and frees
 * none; its one line is written with write(2). Exit status 3. A correct
 * trace holds the 5 allocations, 10,000 bytes live at exit, and an exit
 * with status 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 5
#define BLOCK_BYTES 2000
#define EXIT_CODE 3

static void *blocks[BLOCKS];

int main(void)
{
	char line[80];
	int i, n;

	for (i = 0; i < BLOCKS; i++)
		blocks[i] = malloc(BLOCK_BYTES);
	n = snprintf(line, sizeof(line), "allocated blocks=%d bytes=%d, now _exit(%d)\n", BLOCKS,
		     BLOCKS * BLOCK_BYTES, EXIT_CODE);
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		return 1;
	_exit(EXIT_CODE);
}
