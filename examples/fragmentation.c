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
 *
 * With the argument "trimmable" the same 1,000,000 blocks are allocated,
 * but the survivors are the first eighth of them (125,000 blocks) plus the
 * very last one (8,000,064 live bytes). The last block pins the top of the
 * brk heap, so free() cannot shrink the heap by itself: 7/8 of it is free
 * in the middle, still resident. The pointer array is a global here, not
 * a malloc'd chunk, so the brk heap is the only allocator memory, and a
 * 100,000-byte marker block, allocated first and freed just before the
 * trim, tells the phases apart by their live bytes. The program prints
 * live bytes (survivors and marker) and the resident heap after the frees,
 * sleeps about 300 ms (so a periodic residency snapshot can land in that
 * phase), frees the marker, calls malloc_trim(0), which gives the free
 * pages in the middle back with MADV_DONTNEED, and prints live bytes
 * (survivors) and the resident heap again: about 78 MB before the trim and
 * about 10 MB after on glibc 2.36. A correct report shows, in a snapshot
 * before the trim, a retained free heap of about the first heap Rss minus
 * the first live bytes, and at exit about the second Rss minus the second
 * live bytes. The survivors stay allocated until exit.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCKS 1000000L
#define BLOCK_BYTES 64
#define KEEP_ONE_IN 8
#define MARKER_BYTES 100000

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
static char *kept[BLOCKS];	/* the pointer array of "trimmable" */

/* Keeps one block in eight, spread over every page: nothing to trim. */
static long free_spread(void)
{
	long i, live = 0;

	for (i = 0; i < BLOCKS; i++) {
		if (i % KEEP_ONE_IN == 0) {
			live += BLOCK_BYTES;
			continue;
		}
		free(survivors[i]);
		survivors[i] = NULL;
	}
	return live;
}

/* Keeps the first eighth and the last block: the middle can be trimmed. */
static long free_middle(void)
{
	long i;

	for (i = BLOCKS / KEEP_ONE_IN; i < BLOCKS - 1; i++) {
		free(survivors[i]);
		survivors[i] = NULL;
	}
	return (BLOCKS / KEEP_ONE_IN + 1) * BLOCK_BYTES;
}

int main(int argc, char **argv)
{
	const struct timespec pause = { .tv_nsec = 300 * 1000 * 1000 };
	int trimmable = argc > 1 && strcmp(argv[1], "trimmable") == 0;
	char *marker = NULL;
	long live;

	if (argc > 1 && !trimmable) {
		fprintf(stderr, "usage: %s [trimmable]\n", argv[0]);
		return 2;
	}
	if (trimmable) {
		survivors = kept;
		marker = malloc(MARKER_BYTES);
		if (!marker)
			abort();
		memset(marker, 1, MARKER_BYTES);
	} else {
		survivors = calloc(BLOCKS, sizeof(*survivors));
		if (!survivors)
			abort();
	}
	fill(survivors);
	live = trimmable ? free_middle() + MARKER_BYTES : free_spread();
	printf("live_bytes=%ld heap_rss_kb=%ld\n", live, heap_rss_kb());
	if (trimmable) {
		fflush(stdout);
		nanosleep(&pause, NULL);
		free(marker);
		live -= MARKER_BYTES;
	}
	malloc_trim(0);
	printf("after_trim live_bytes=%ld heap_rss_kb=%ld\n", live, heap_rss_kb());
	return 0;
}
