// SPDX-License-Identifier: MIT
/*
 * fragmentation.c - a heap that stays resident after most of it is freed.
 *
 * It mallocs 1,000,000 blocks of 64 bytes (64,000,000 bytes requested; on
 * glibc each takes an 80-byte chunk from the brk heap), touches them, then
 * frees 7 of every 8 (875,000 blocks). The 125,000 survivors (8,000,000
 * live bytes) are spread over every page of the heap, so glibc cannot give
 * the pages back: the resident heap stays near its peak. The program prints
 * live bytes and the resident heap (the Rss of [heap] in /proc/self/smaps)
 * after the frees, then calls malloc_trim(0), which can release only whole
 * free pages and finds none (every 640 bytes hold a survivor), and prints
 * the resident heap again: about 78 MB both times on glibc 2.36.
 * A correct report shows 8,000,000 live bytes from one stack and a retained
 * free heap of about the resident heap minus the live bytes. The survivors
 * stay allocated until exit, still reachable from a global, so the
 * residency memhook snapshots at exit is the one the program printed last.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS 1000000L
#define BLOCK_BYTES 64
#define KEEP_ONE_IN 8

/* Rss of the [heap] mapping in kB, from /proc/self/smaps; -1 if not found. */
static long heap_rss_kb(void)
{
	char line[256];
	long kb = -1;
	int in_heap = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strstr(line, " [heap]"))
			in_heap = 1;
		else if (in_heap && sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static __attribute__((noinline)) void fill(char **blocks)
{
	long i;

	for (i = 0; i < BLOCKS; i++) {
		blocks[i] = malloc(BLOCK_BYTES);
		if (!blocks[i])
			abort();
		memset(blocks[i], 1, BLOCK_BYTES);
	}
}

static char **survivors;

int main(void)
{
	long i, live = 0;

	survivors = calloc(BLOCKS, sizeof(*survivors));
	if (!survivors)
		abort();
	fill(survivors);
	for (i = 0; i < BLOCKS; i++) {
		if (i % KEEP_ONE_IN == 0) {
			live += BLOCK_BYTES;
			continue;
		}
		free(survivors[i]);
		survivors[i] = NULL;
	}
	printf("live_bytes=%ld heap_rss_kb=%ld\n", live, heap_rss_kb());
	malloc_trim(0);
	printf("after_trim live_bytes=%ld heap_rss_kb=%ld\n", live, heap_rss_kb());
	return 0;
}
