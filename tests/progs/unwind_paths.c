// SPDX-License-Identifier: MIT
/*
 * unwind_paths.c - allocations down call paths that frame-pointer
 * unwinding can get wrong, for tests/check_unwind.c. Built twice: with
 * frame pointers at -O0 (unwind_paths) and at -O2 -fomit-frame-pointer
 * (unwind_paths_O2). Each path allocates blocks of its own size, many
 * times and from several depths, so a site is seen unknown, then
 * fp-safe or not, then re-reached by new paths:
 *   1001  main -> walk(depth) -> leaf -> malloc, depths 0..3
 *   1002  main -> qsort -> compare (our callback) -> malloc: glibc's qsort
 *         keeps no frame pointers
 *   1003  a thread running the 1001 path with size 1003
 *   1008  main -> skip -> leaf -> malloc, after 1001 made leaf's site known:
 *         skip keeps no frame pointer and leaves main's in place, so the
 *         walk silently drops main's frame (a new path into a known site)
 *   1009  a signal handler -> leaf -> malloc, the signal raised by main
 * All of them allocate in leaf(), one call site, in the order 1001, 1003,
 * 1008, 1009, 1002. Deterministic and single-threaded apart from the one
 * thread, so the k-th block of a size has the same stack in every run.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#define ROUNDS 600

/* Keeps the compiler from folding allocations away. */
void *volatile sink;

static __attribute__((noinline)) void leaf(size_t size)
{
	sink = malloc(size);
	free(sink);
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void walk(int depth, size_t size)
{
	if (depth)
		walk(depth - 1, size);
	else
		leaf(size);
	__asm__ __volatile__("" ::: "memory");
}

/* Built without a frame pointer even in the -O0 build. */
static __attribute__((noinline, optimize("omit-frame-pointer"))) void skip(size_t size)
{
	leaf(size);
	__asm__ __volatile__("" ::: "memory");
}

static void on_signal(int sig)
{
	leaf(1009);
	(void)sig;
}

static int compare(const void *a, const void *b)
{
	leaf(1002);
	return *(const int *)a - *(const int *)b;
}

static void *thread_main(void *arg)
{
	int i;

	for (i = 0; i < ROUNDS; i++)
		walk(i % 4, 1003);
	return arg;
}

int main(void)
{
	pthread_t t;
	int v[16], i, k;

	/* Every path ends in leaf(), one site: the paths that mislead the walk come after. */
	for (i = 0; i < ROUNDS; i++)
		walk(i % 4, 1001);
	if (pthread_create(&t, NULL, thread_main, NULL) || pthread_join(t, NULL))
		return 1;
	for (i = 0; i < ROUNDS; i++)
		skip(1008);
	signal(SIGUSR1, on_signal);
	for (i = 0; i < ROUNDS / 20; i++)
		raise(SIGUSR1);
	for (k = 0; k < ROUNDS / 20; k++) {
		for (i = 0; i < 16; i++)
			v[i] = (i * 7 + k) % 16;
		qsort(v, 16, sizeof(v[0]), compare);
	}
	return 0;
}
