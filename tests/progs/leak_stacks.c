// SPDX-License-Identifier: MIT
/*
 * leak_stacks.c - lost blocks from four distinct call stacks: three
 * blocks from one line (one loss record: memcheck merges identical
 * stacks), one block from a second site, and one block each from a third
 * site reached through two different callers (two records).
 *
 * memcheck --leak-check=full:
 *   definitely lost: 176 bytes in 6 blocks (4 loss records)
 *   indirectly lost: 0, possibly lost: 0, still reachable: 0
 */
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_a(void)
{
	for (int i = 0; i < 3; i++)
		memset(malloc(16), 'a', 16);
}

__attribute__((noinline)) static void lose_b(void)
{
	memset(malloc(32), 'b', 32);
}

__attribute__((noinline)) static void lose_c(void)
{
	memset(malloc(48), 'c', 48);
}

__attribute__((noinline)) static void caller_one(void)
{
	lose_c();
}

__attribute__((noinline)) static void caller_two(void)
{
	lose_c();
}

int main(void)
{
	lose_a();
	lose_b();
	caller_one();
	caller_two();
	leak_scrub();
	return 0;
}
