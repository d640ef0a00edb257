// SPDX-License-Identifier: MIT
/*
 * leak_direct.c - one block lost: its only pointer dies with the function
 * that allocated it.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 100 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0, still reachable: 0
 */
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_one(void)
{
	char *p = malloc(100);

	memset(p, 1, 100);
}

int main(void)
{
	lose_one();
	leak_scrub();
	return 0;
}
