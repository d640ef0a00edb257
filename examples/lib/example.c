// SPDX-License-Identifier: MIT
/*
 * example.c - libexample.so: allocations made inside a shared library, so
 * stacks cross a module boundary (see uses_lib.c for the figures).
 */
#include "example.h"

#include <stdlib.h>
#include <string.h>

char *example_buffer_new(size_t n, int fill)
{
	char *buf = malloc(n);

	if (buf)
		memset(buf, fill, n);
	return buf;
}

void example_buffer_free(char *buf)
{
	free(buf);
}

static __attribute__((noinline)) void leak_one(size_t bytes)
{
	char *p = malloc(bytes);

	if (p)
		memset(p, 0, bytes);
}

void example_leak(int count, size_t bytes)
{
	int i;

	for (i = 0; i < count; i++)
		leak_one(bytes);
}
