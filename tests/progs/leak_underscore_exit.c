// SPDX-License-Identifier: MIT
/*
 * leak_underscore_exit.c - the program ends with _exit(4): no atexit
 * handlers, no destructors. It loses a 55-byte block and keeps a 66-byte
 * one in a global. It uses no stdio, so libc holds no buffer of its own.
 *
 * memcheck --leak-check=full (exit status 4):
 *   definitely lost: 55 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 66 bytes in 1 blocks
 */
#include <stdlib.h>
#include <unistd.h>

#include "leak_scrub.h"

static char *kept;

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(55), 0, 55);
}

int main(void)
{
	kept = malloc(66);
	lose_one();
	leak_scrub();
	_exit(4);
}
