// SPDX-License-Identifier: MIT
/*
 * leak_dlclose.c - a leak in a library that was dlopen()ed and then
 * dlclose()d: libleak_dlclose.so (next to this program) keeps a 60-byte
 * block in its static variable and loses a 70-byte block. dlclose()
 * unmaps the library, its variable with it, so both blocks are
 * definitely lost, from two different stacks inside the library.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 130 bytes in 2 blocks (2 loss records)
 *   indirectly lost: 0, possibly lost: 0, still reachable: 0
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "leak_scrub.h"

#define LIB_NAME "libleak_dlclose.so"

__attribute__((noinline)) static int run_library(void)
{
	char exe[PATH_MAX], lib[PATH_MAX + sizeof(LIB_NAME) + 1];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void (*run)(void);
	void *h;

	if (n < 0)
		return -1;
	exe[n] = '\0';
	snprintf(lib, sizeof(lib), "%s/%s", dirname(exe), LIB_NAME);
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -1;
	*(void **)&run = dlsym(h, "leak_lib_run");
	if (run)
		run();
	return dlclose(h) || !run ? -1 : 0;
}

int main(void)
{
	int rc = run_library();

	leak_scrub();
	return rc ? 1 : 0;
}
