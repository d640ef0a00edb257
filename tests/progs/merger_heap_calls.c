// SPDX-License-Identifier: MIT
/*
 * merger_heap_calls.c - make a known sequence of malloc-family calls and
 * print each one, so a test can replay the printed calls through the
 * merger and compare its totals with Valgrind memcheck's "total heap
 * usage" for the very same run.
 *
 * Output lines: "A <addr> <size>" (malloc/calloc/memalign family),
 * "R <old> <new> <size>" (realloc), "F <addr>" (free).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void *logged_malloc(size_t n)
{
	void *p = malloc(n);

	printf("A %ju %zu\n", (uintmax_t)(uintptr_t)p, n);
	return p;
}

static void *logged_realloc(void *old, size_t n)
{
	uintmax_t old_addr = (uintptr_t)old;
	void *p = realloc(old, n);

	printf("R %ju %ju %zu\n", old_addr, (uintmax_t)(uintptr_t)p, n);
	return p;
}

static void logged_free(void *p)
{
	printf("F %ju\n", (uintmax_t)(uintptr_t)p);
	free(p);
}

/* A static buffer: stdio must not add a malloc of its own to the count. */
static char outbuf[1 << 16];

int main(void)
{
	void *a, *b, *c, *d, *e;

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	a = logged_realloc(NULL, 10);		/* realloc(NULL, n): an alloc */
	a = logged_realloc(a, 100);		/* grow */
	a = logged_realloc(a, 20);		/* shrink */
	b = logged_malloc(30);
	b = logged_realloc(b, 0);		/* realloc(p, 0): a free */
	logged_free(b);				/* free(NULL): nothing */
	c = calloc(4, 8);
	printf("A %ju %d\n", (uintmax_t)(uintptr_t)c, 32);
	if (posix_memalign(&d, 64, 48) == 0)
		printf("A %ju %d\n", (uintmax_t)(uintptr_t)d, 48);
	e = logged_malloc(0);			/* malloc(0): an alloc of 0 bytes */
	logged_free(a);
	logged_free(c);
	logged_free(e);
	/* d stays allocated: in use at exit. */
	fflush(stdout);
	return 0;
}
