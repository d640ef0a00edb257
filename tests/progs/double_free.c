// SPDX-License-Identifier: MIT
/*
 * double_free.c - keeps a 100-byte block reachable, leaks a 4000-byte one,
 * then frees a 64-byte block twice: glibc detects it inside free() and
 * aborts (SIGABRT) with "free(): double free detected". Natively the
 * process dies of SIGABRT; no exit path runs.
 */
#include <stdlib.h>
#include <string.h>

static void *kept;

int main(void)
{
	char *p = malloc(64), *volatile leak = malloc(4000);
	/* Through a volatile copy: the compiler must not see (and refuse) the second free. */
	char *volatile again;

	memset(p, 1, 64);
	kept = malloc(100);
	leak[0] = 1;
	leak = NULL;
	again = p;
	free(p);
	free(again);
	return 0;
}
