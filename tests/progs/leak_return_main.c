// SPDX-License-Identifier: MIT
/*
 * leak_return_main.c - main returns 0 (libc then calls exit). An 88-byte
 * block is lost, a 99-byte block kept in a global.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 88 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 99 bytes in 1 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

static char *kept;

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(88), 0, 88);
}

int main(void)
{
	kept = malloc(99);
	lose_one();
	leak_scrub();
	return 0;
}
