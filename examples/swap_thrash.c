// SPDX-License-Identifier: MIT
/*
 * swap_thrash.c - fills a buffer, then reads it again and again, so a
 * buffer larger than the memory available swaps pages in and out.
 *
 * Usage: swap_thrash [MIB [PASSES]]   (defaults 64 and 3)
 *
 * One malloc of MIB MiB (from stack main -> fill), every byte written
 * once, then PASSES passes reading one byte per page in order. Run it in a
 * memory cgroup smaller than MIB (e.g. systemd-run --scope -p MemoryMax=32M
 * -p MemorySwapMax=1G) to make it swap: a correct kernel-side report
 * charges the major faults / swap-ins to that one allocation. It prints the
 * size and a checksum (so the reads cannot be optimised away). Freed at
 * the end: no leak.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static __attribute__((noinline)) unsigned char *fill(size_t bytes)
{
	unsigned char *p = malloc(bytes);
	size_t i;

	if (!p)
		abort();
	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(i / 7);
	return p;
}

static __attribute__((noinline)) unsigned long reread(const unsigned char *p, size_t bytes,
						      long page)
{
	unsigned long sum = 0;
	size_t off;

	for (off = 0; off < bytes; off += (size_t)page)
		sum += p[off];
	return sum;
}

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 64;
	long passes = argc > 2 ? atol(argv[2]) : 3;
	long page = sysconf(_SC_PAGESIZE);
	unsigned long sum = 0;
	unsigned char *buf;
	long i;

	if (mib < 1 || passes < 0) {
		fprintf(stderr, "usage: swap_thrash [MIB [PASSES]]\n");
		return 2;
	}
	buf = fill((size_t)mib * MIB);
	for (i = 0; i < passes; i++)
		sum += reread(buf, (size_t)mib * MIB, page);
	printf("bytes=%lu passes=%ld checksum=%lu\n", (size_t)mib * MIB, passes, sum);
	free(buf);
	return 0;
}
