// SPDX-License-Identifier: MIT
/*
 * live_grow.c - a program that grows one call stack for a few seconds,
 * for tests/check_watch.sh: every STEP_MS ms, grow_one_stack() mallocs
 * CHUNK_BYTES, writes every byte and keeps the block; each step prints
 * one line on stdout, and the program exits with status EXIT_STATUS.
 *
 *   live_grow [STEPS [STEP_MS]]    default 40 steps of 100 ms
 *
 * At the end STEPS * CHUNK_BYTES bytes are live from grow_one_stack(),
 * far more than from any other stack (stdio's buffer is the next).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK_BYTES (256 * 1024)
#define DEFAULT_STEPS 40
#define DEFAULT_STEP_MS 100
#define EXIT_STATUS 3

static void *blocks[100000];

static __attribute__((noinline)) void *grow_one_stack(void)
{
	void *p = malloc(CHUNK_BYTES);

	if (p)
		memset(p, 0x5a, CHUNK_BYTES);
	return p;
}

int main(int argc, char **argv)
{
	long steps = argc > 1 ? atol(argv[1]) : DEFAULT_STEPS;
	long ms = argc > 2 ? atol(argv[2]) : DEFAULT_STEP_MS;
	struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };

	if (steps < 0 || steps > (long)(sizeof(blocks) / sizeof(blocks[0])))
		return 2;
	for (long i = 0; i < steps; i++) {
		blocks[i] = grow_one_stack();
		printf("step %ld: %ld bytes\n", i + 1, (i + 1) * (long)CHUNK_BYTES);
		fflush(stdout);
		nanosleep(&pause, NULL);
	}
	return EXIT_STATUS;
}
