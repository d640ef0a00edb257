// SPDX-License-Identifier: MIT
/*
 * peak.c - a heap whose peak is known: allocations in three phases.
 *
 *   phase 1: 100 blocks of 10,000 bytes                  live 1,000,000
 *   phase 2: free the 50 even blocks, then one block
 *            of 2,097,152 bytes                          live 2,597,152  <- peak
 *   phase 3: free everything, then 4 blocks of
 *            100,000 bytes, freed again                  live   400,000
 *
 * peak_live_bytes=2597152 (requested bytes, the program's own accounting),
 * reached right after the 2 MiB allocation; the 2 MiB block is served by
 * mmap in glibc. Own calls: 105 mallocs, 105 frees, 3,497,152 bytes; no
 * leak. The program prints its figures only at the end, so the stdout
 * buffer is allocated after the peak and does not change it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P1_BLOCKS 100
#define P1_BYTES 10000
#define P2_BYTES (2 << 20)
#define P3_BLOCKS 4
#define P3_BYTES 100000

static long live_bytes, peak_bytes, total_bytes;
static int mallocs, frees;

static void *take(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	memset(p, 1, n);
	live_bytes += (long)n;
	total_bytes += (long)n;
	mallocs++;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
	return p;
}

static void give(void *p, size_t n)
{
	free(p);
	live_bytes -= (long)n;
	frees++;
}

static __attribute__((noinline)) void phase1(void **blocks)
{
	int i;

	for (i = 0; i < P1_BLOCKS; i++)
		blocks[i] = take(P1_BYTES);
}

static __attribute__((noinline)) void *phase2(void **blocks)
{
	int i;

	for (i = 0; i < P1_BLOCKS; i += 2) {
		give(blocks[i], P1_BYTES);
		blocks[i] = NULL;
	}
	return take(P2_BYTES);
}

static __attribute__((noinline)) void phase3(void **blocks, void *big)
{
	void *small[P3_BLOCKS];
	int i;

	give(big, P2_BYTES);
	for (i = 0; i < P1_BLOCKS; i++)
		if (blocks[i])
			give(blocks[i], P1_BYTES);
	for (i = 0; i < P3_BLOCKS; i++)
		small[i] = take(P3_BYTES);
	for (i = 0; i < P3_BLOCKS; i++)
		give(small[i], P3_BYTES);
}

int main(void)
{
	static void *blocks[P1_BLOCKS];
	void *big;

	phase1(blocks);
	big = phase2(blocks);
	phase3(blocks, big);
	printf("peak_live_bytes=%ld\n", peak_bytes);
	printf("own_mallocs=%d own_frees=%d own_bytes=%ld live_at_end=%ld\n", mallocs, frees,
	       total_bytes, live_bytes);
	return 0;
}
