// SPDX-License-Identifier: MIT
/*
 * leak_main_stack.c - a block whose only pointer is a local variable of
 * main(), which calls exit() while that frame is still live: the frame is
 * above the stack pointer when the leak check runs, so the block is still
 * reachable. Another block is lost for contrast.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 50 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 200 bytes in 1 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(50), 0, 50);
}

int main(void)
{
	char *volatile keep = malloc(200);

	keep[0] = 1;
	lose_one();
	leak_scrub();
	exit(0);
}
