// SPDX-License-Identifier: MIT
/*
 * alloc_mix.c - every allocation entry point once, in a fixed order, with
 * sizes chosen so each shows up in the totals.
 *
 * Its own calls (memcheck counts realloc of a live block as one alloc plus
 * one free, and every memalign-family call as one alloc of the requested
 * size):
 *   malloc(100)                               1 alloc,  100 bytes
 *   calloc(10, 20)                            1 alloc,  200 bytes   leaked
 *   realloc(p, 1000)   grow                   1 alloc + 1 free, 1000 bytes
 *   realloc(p, 10)     shrink                 1 alloc + 1 free,   10 bytes
 *   realloc(NULL, 300)                        1 alloc,  300 bytes
 *   realloc(r, 0)      frees r                1 free  (returns NULL)
 *   reallocarray(NULL, 5, 40)                 1 alloc,  200 bytes
 *   reallocarray(a, 10, 40)                   1 alloc + 1 free,  400 bytes
 *   posix_memalign(&b, 64, 500)               1 alloc,  500 bytes   leaked
 *   aligned_alloc(256, 1024)                  1 alloc, 1024 bytes
 *   memalign(128, 200)                        1 alloc,  200 bytes
 *   valloc(5000)                              1 alloc, 5000 bytes
 *   strdup("hello, memhook")                  1 alloc,   15 bytes
 *   then every block not marked leaked is freed.
 * Own calls: 12 allocs, 10 frees, 8949 bytes allocated; at exit 700 bytes
 * in 2 blocks are live, both definitely lost (no pointer kept).
 *
 * With the argument "pvalloc" it also calls pvalloc(100) and frees it: one
 * more alloc and free, 100 bytes requested (glibc hands out a whole page).
 * Memcheck 3.19 aborts on pvalloc, so the oracle test runs without it.
 *
 * libc-internal allocations follow, freed again, so they appear in the
 * totals but not in the leaks: asprintf() (glibc 2.36: malloc(100), a
 * malloc of the exact length, a free), and getline() on an fmemopen()
 * stream (cookie 40, FILE 280, line 120, stream buffer 8192 bytes). Under
 * memcheck 3.19 with glibc 2.36 and stdout a regular file, the whole run
 * shows "19 allocs, 17 frees, 21,787 bytes allocated" and "in use at exit:
 * 700 bytes in 2 blocks". Exact libc-internal counts are glibc's business;
 * the oracle test compares memhook's totals with memcheck's on one run.
 * The program prints its own figures (without the libc-internal calls).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEAK_CALLOC_N 10
#define LEAK_CALLOC_SIZE 20
#define LEAK_ALIGNED_BYTES 500

static void *check(void *p)
{
	if (!p)
		abort();
	return p;
}

static __attribute__((noinline)) void *leak_calloc(void)
{
	return check(calloc(LEAK_CALLOC_N, LEAK_CALLOC_SIZE));
}

static __attribute__((noinline)) void leak_aligned(void)
{
	void *b;

	if (posix_memalign(&b, 64, LEAK_ALIGNED_BYTES))
		abort();
	memset(b, 0, LEAK_ALIGNED_BYTES);
}

static __attribute__((noinline)) void realloc_family(void)
{
	char *p = check(malloc(100));
	char *r;
	int *a;

	p = check(realloc(p, 1000));	/* grow */
	p = check(realloc(p, 10));	/* shrink */
	r = check(realloc(NULL, 300));
	r = realloc(r, 0);		/* glibc: frees, returns NULL */
	if (r)
		abort();
	a = check(reallocarray(NULL, 5, 40));
	a = check(reallocarray(a, 10, 40));
	free(a);
	free(p);
}

static __attribute__((noinline)) void memalign_family(void)
{
	void *v[3];
	int i;

	v[0] = check(aligned_alloc(256, 1024));
	v[1] = check(memalign(128, 200));
	v[2] = check(valloc(5000));
	for (i = 0; i < 3; i++)
		free(v[i]);
}

static __attribute__((noinline)) void call_pvalloc(void)
{
	free(check(pvalloc(100)));
}

static __attribute__((noinline)) void libc_internal(void)
{
	static char text[] = "first line\nsecond line\n";
	char *s = check(strdup("hello, memhook"));
	char *line = NULL, *msg = NULL;
	size_t cap = 0;
	FILE *f;

	free(s);
	if (asprintf(&msg, "%d-%s", 42, "answer") < 0)
		abort();
	free(msg);
	f = check(fmemopen(text, strlen(text), "r"));
	while (getline(&line, &cap, f) > 0)
		;
	free(line);
	fclose(f);
}

int main(int argc, char **argv)
{
	bool with_pvalloc = argc > 1 && strcmp(argv[1], "pvalloc") == 0;
	void *leaked = leak_calloc();

	/* Drop the only pointer so the block is definitely lost. */
	leaked = NULL;
	leak_aligned();
	realloc_family();
	memalign_family();
	libc_internal();
	if (with_pvalloc)
		call_pvalloc();
	printf("own_allocs=%d own_frees=%d own_bytes=%d\n", 12 + with_pvalloc,
	       10 + with_pvalloc, 8949 + (with_pvalloc ? 100 : 0));
	printf("leaked_bytes=%d leaked_blocks=2\n",
	       LEAK_CALLOC_N * LEAK_CALLOC_SIZE + LEAK_ALIGNED_BYTES);
	return leaked != NULL;
}
