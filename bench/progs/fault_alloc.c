// SPDX-License-Identifier: MIT
/*
 * fault_alloc.c - a workload for the merger throughput bench (bench/run.sh):
 * many page faults inside heap blocks, and many small allocations.
 *
 * Usage: fault_alloc TOTAL_MB [SMALL_PER_MB]   (SMALL_PER_MB defaults to 256)
 *
 * For each MiB of TOTAL_MB it mallocs one 1 MiB block (served by mmap: the
 * mmap threshold is pinned at 128 KiB, so it is fresh memory every time),
 * writes one byte per page (one minor fault each, inside a live block, for
 * the merger to attribute), makes SMALL_PER_MB malloc/free pairs of 16..527
 * bytes, and frees the block. Deterministic. Prints the totals.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MIB (1024UL * 1024)
#define MMAP_THRESHOLD_BYTES (128 * 1024)
#define SMALL_MIN 16
#define SMALL_SPREAD 512

int main(int argc, char **argv)
{
	unsigned long total_mb, small, mb, i, pages = 0, allocs = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (argc < 2)
		return 2;
	total_mb = strtoul(argv[1], NULL, 10);
	small = argc > 2 ? strtoul(argv[2], NULL, 10) : 256;
	if (!mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
		return 1;
	for (mb = 0; mb < total_mb; mb++) {
		volatile char *block = malloc(MIB);

		if (!block)
			return 1;
		for (i = 0; i < MIB; i += (unsigned long)page, pages++)
			block[i] = (char)i;
		for (i = 0; i < small; i++) {
			volatile char *p = malloc(SMALL_MIN + (mb * 7 + i * 13) % SMALL_SPREAD);

			p[0] = 1;
			free((void *)p);
		}
		allocs += small + 1;
		free((void *)block);
	}
	printf("pages=%lu allocs=%lu frees=%lu\n", pages, allocs, allocs);
	return 0;
}
