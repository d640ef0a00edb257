// SPDX-License-Identifier: MIT
/*
 * leak_exit_nested.c - exit(3) called three calls deep. The outermost of
 * those calls holds a 111-byte block in a local variable; its frame is
 * still live when exit() runs, so the block is still reachable. A 22-byte
 * block is lost before.
 *
 * memcheck --leak-check=full (exit status 3):
 *   definitely lost: 22 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 111 bytes in 1 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(22), 0, 22);
}

__attribute__((noinline)) static void level3(void)
{
	exit(3);
}

__attribute__((noinline)) static void level2(void)
{
	leak_scrub();
	level3();
}

__attribute__((noinline)) static void level1(void)
{
	char *volatile keep = malloc(111);

	keep[0] = 1;
	lose_one();
	level2();
}

int main(void)
{
	level1();
	return 0;
}
