// SPDX-License-Identifier: MIT
/*
 * rss_growth.c - resident memory that grows step by step.
 *
 * Usage: rss_growth [STEPS [STEP_MIB [PAUSE_MS]]]   (defaults 32, 4, 50)
 *
 * Each step mallocs STEP_MIB MiB (served by mmap in glibc), touches every
 * page of it, and sleeps PAUSE_MS; nothing is freed until the end, when all
 * blocks are freed. The resident set therefore grows by about STEP_MIB MiB
 * per step, up to STEPS * STEP_MIB MiB (128 MiB by default), all of it
 * attributed to one stack (grow -> touch_block). After each step it prints
 * "step=K live_bytes=B" (its own accounting); a correct report shows STEPS
 * allocations of STEP_MIB MiB from that stack, all freed, peak
 * STEPS * STEP_MIB MiB, and resident bytes close to the live bytes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)
#define MAX_STEPS 4096

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static __attribute__((noinline)) void touch_block(char *p, size_t bytes, long page)
{
	size_t off;

	for (off = 0; off < bytes; off += (size_t)page)
		p[off] = 1;
}

static __attribute__((noinline)) char *grow(size_t bytes, long page)
{
	char *p = malloc(bytes);

	if (!p)
		abort();
	touch_block(p, bytes, page);
	return p;
}

int main(int argc, char **argv)
{
	static char *blocks[MAX_STEPS];
	long steps = argc > 1 ? atol(argv[1]) : 32;
	long step_mib = argc > 2 ? atol(argv[2]) : 4;
	long pause_ms = argc > 3 ? atol(argv[3]) : 50;
	long page = sysconf(_SC_PAGESIZE);
	long i;

	if (steps < 1 || steps > MAX_STEPS || step_mib < 1 || pause_ms < 0) {
		fprintf(stderr, "usage: rss_growth [STEPS (1..%d) [STEP_MIB [PAUSE_MS]]]\n",
			MAX_STEPS);
		return 2;
	}
	for (i = 0; i < steps; i++) {
		blocks[i] = grow((size_t)(step_mib * MIB), page);
		printf("step=%ld live_bytes=%ld\n", i + 1, (i + 1) * step_mib * MIB);
		fflush(stdout);
		sleep_ms(pause_ms);
	}
	for (i = 0; i < steps; i++)
		free(blocks[i]);
	return 0;
}
