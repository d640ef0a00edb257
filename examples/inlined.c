// SPDX-License-Identifier: MIT
/*
 * inlined.c - allocations behind inlined functions, built with -O2 (see
 * examples/build.mk), so the call stack in memory has fewer frames than
 * the source: a symbolizer must recover the inlined ones from DWARF.
 *
 * main -> make_record (noinline) -> record_alloc (always_inline)
 *      -> buffer_alloc (always_inline) -> malloc
 * 8 records of 200 bytes: the even ones freed, the 4 odd ones kept in a
 * global array (still reachable, 800 bytes in 4 blocks). Own calls: 8
 * mallocs, 4 frees, 1,600 bytes. A correct report's stack for those
 * blocks names buffer_alloc and record_alloc (inlined) under make_record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS 8
#define RECORD_BYTES 200

static char *kept[RECORDS];

static inline __attribute__((always_inline)) char *buffer_alloc(size_t n)
{
	char *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static inline __attribute__((always_inline)) char *record_alloc(int i)
{
	char *p = buffer_alloc(RECORD_BYTES);

	memset(p, i, RECORD_BYTES);
	return p;
}

static __attribute__((noinline)) char *make_record(int i)
{
	return record_alloc(i);
}

int main(void)
{
	int i, n = 0;

	for (i = 0; i < RECORDS; i++) {
		char *r = make_record(i);

		if (i % 2)
			kept[n++] = r;
		else
			free(r);
	}
	printf("own_mallocs=%d own_frees=%d own_bytes=%d reachable_bytes=%d reachable_blocks=%d\n",
	       RECORDS, RECORDS - n, RECORDS * RECORD_BYTES, n * RECORD_BYTES, n);
	return kept[0] == NULL;
}
