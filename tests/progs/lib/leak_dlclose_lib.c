// SPDX-License-Identifier: MIT
/*
 * leak_dlclose_lib.c - the library leak_dlclose dlopen()s: it keeps one
 * block in its own static variable (reachable while it is loaded) and
 * loses another.
 */
#include <stdlib.h>
#include <string.h>

void leak_lib_run(void);

static char *kept_by_lib;

__attribute__((noinline)) static void lib_lose(void)
{
	memset(malloc(70), 0, 70);
}

void leak_lib_run(void)
{
	kept_by_lib = malloc(60);
	memset(kept_by_lib, 0, 60);
	lib_lose();
}
