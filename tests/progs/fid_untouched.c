// SPDX-License-Identifier: MIT
/*
 * fid_untouched.c - malloc MIB MiB (default 200) and touch one page of
 * it, then exit 0 with the block still live. Natively its peak RSS is a
 * megabyte or two: the rest was never touched. memhook must report that
 * peak, and must never fault the rest in (in a small memory cgroup that
 * would kill the program).
 *
 * Usage: fid_untouched [MIB]
 */
#include <stdio.h>
#include <stdlib.h>

static void *volatile keep;

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 200;
	char *p = malloc(mib << 20);

	if (!p)
		return 1;
	p[0] = 1;
	keep = p;
	printf("%d\n", p[0]);
	return 0;
}
