// SPDX-License-Identifier: MIT
/*
 * leak_libc.c - blocks allocated inside libc on the program's behalf and
 * lost: strdup's copy (21 bytes), getline's line buffer (glibc starts it
 * at 120 bytes), asprintf's string (17 bytes). A strndup copy is kept in a global. The
 * fmemopen stream getline reads from is closed, so its own blocks are
 * freed.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 158 bytes in 3 blocks (3 loss records)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 6 bytes in 1 blocks
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "leak_scrub.h"

static char *kept;
static char text[] = "first line\nsecond line\n";

__attribute__((noinline)) static void lose_strdup(void)
{
	char *s = strdup("a string of 20 bytes");

	s[0] = 'A';
}

__attribute__((noinline)) static void lose_getline(void)
{
	FILE *f = fmemopen(text, sizeof(text) - 1, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	if (getline(&line, &cap, f) < 0)
		line = NULL;
	fclose(f);
}

__attribute__((noinline)) static void lose_asprintf(void)
{
	char *s = NULL;

	if (asprintf(&s, "%s-%d", "asprintf", 1234567) < 0)
		s = NULL;
}

int main(void)
{
	lose_strdup();
	lose_getline();
	lose_asprintf();
	kept = strndup("kept and more", 5);
	leak_scrub();
	return 0;
}
