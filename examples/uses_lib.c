// SPDX-License-Identifier: MIT
/*
 * uses_lib.c - a program linked against libexample.so (examples/lib/).
 *
 * Through the library it allocates 20 buffers of 4096 bytes (freed) and
 * leaks 4 blocks of 777 bytes (3,108 bytes, definitely lost, stack
 * main -> example_leak -> leak_one -> malloc, the last two frames inside
 * libexample.so). Own calls: 24 mallocs, 20 frees, 85,028 bytes. The
 * report must name the library's functions, resolved through its own
 * symbol table at its load address.
 */
#include <stdio.h>

#include "lib/example.h"

#define BUFFERS 20
#define BUFFER_BYTES 4096
#define LEAKS 4
#define LEAK_BYTES 777

int main(void)
{
	int i;

	for (i = 0; i < BUFFERS; i++)
		example_buffer_free(example_buffer_new(BUFFER_BYTES, i));
	example_leak(LEAKS, LEAK_BYTES);
	printf("own_mallocs=%d own_frees=%d own_bytes=%d leaked_bytes=%d leaked_blocks=%d\n",
	       BUFFERS + LEAKS, BUFFERS, BUFFERS * BUFFER_BYTES + LEAKS * LEAK_BYTES,
	       LEAKS * LEAK_BYTES, LEAKS);
	return 0;
}
