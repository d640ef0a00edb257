// SPDX-License-Identifier: MIT
/*
 * plugin.c - plugin.so, loaded with dlopen() and unloaded with dlclose() by
 * plugin_host.c. plugin_run() leaks blocks allocated inside the plugin, so
 * their stacks point into a module that is gone by the time the report is
 * written: the module map must remember it (see plugin_host.c).
 */
#include <stdlib.h>
#include <string.h>

int plugin_run(int count, size_t bytes);

static __attribute__((noinline)) void *plugin_alloc(size_t bytes)
{
	void *p = malloc(bytes);

	if (p)
		memset(p, 0x5a, bytes);
	return p;
}

/* Allocate count blocks of bytes each and lose them; return how many. */
int plugin_run(int count, size_t bytes)
{
	int i, n = 0;

	for (i = 0; i < count; i++)
		n += plugin_alloc(bytes) != NULL;
	return n;
}
