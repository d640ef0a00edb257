// SPDX-License-Identifier: MIT
/*
 * leak_static_local.c - a lazily built cache kept in a function's static
 * local variable: still reachable at exit.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 0, indirectly lost: 0, possibly lost: 0
 *   still reachable: 256 bytes in 1 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static const char *cached_table(void)
{
	static char *cache;

	if (!cache) {
		cache = malloc(256);
		memset(cache, 'x', 256);
	}
	return cache;
}

int main(void)
{
	int sum = cached_table()[0] + cached_table()[1];

	leak_scrub();
	return sum == 2 * 'x' ? 0 : 1;
}
