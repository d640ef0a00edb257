// SPDX-License-Identifier: MIT
/*
 * leak_interior.c - blocks reached only through interior pointers:
 *   - a 100-byte block whose only pointer (a global) points 50 bytes in:
 *     possibly lost;
 *   - a 64-byte block reached by an interior pointer (16 bytes in), which
 *     holds the start pointer of a 32-byte block: both possibly lost (a
 *     block reached from a possibly lost block is possibly lost too);
 *   - a lost 16-byte block holding an interior pointer (4 bytes in) to a
 *     48-byte block: the first definitely lost, the second indirectly
 *     lost (inside a lost structure, interior pointers count).
 * No offset is 8, where memcheck's length64 and newarray heuristics look.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 16 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 48 bytes in 1 blocks
 *   possibly lost: 196 bytes in 3 blocks
 *   still reachable: 0
 */
#include <stdlib.h>

#include "leak_scrub.h"

char *g_middle;
char *g_chain;

__attribute__((noinline)) static void make_interior(void)
{
	char *a = malloc(100);
	void **b = malloc(64);
	void **c = malloc(16);
	char *d = malloc(48);

	memset(a, 0, 100);
	memset(b, 0, 64);
	memset(d, 0, 48);
	g_middle = a + 50;
	b[0] = malloc(32);
	memset(b[0], 0, 32);
	g_chain = (char *)b + 16;
	c[0] = d + 4;
	c[1] = NULL;
}

int main(void)
{
	make_interior();
	leak_scrub();
	return 0;
}
