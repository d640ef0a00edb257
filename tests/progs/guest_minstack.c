// SPDX-License-Identifier: MIT
/*
 * guest_minstack.c - threads with the smallest stack glibc allows
 * (PTHREAD_STACK_MIN, 16 KiB here), as programs with thousands of
 * threads start them: glibc carves each thread's static TLS out of its
 * stack and refuses (EINVAL) a stack too small for it, so a preload's
 * static TLS decides whether pthread_create succeeds. THREADS threads in
 * turn, then THREADS at once, each allocating ALLOCS blocks of
 * BLOCK_BYTES. Prints what pthread_create said and the allocations each
 * thread made; exits 0 if every thread ran, 1 otherwise. Run natively and
 * under memhook: the output and the status must match.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ALLOCS 100
#define BLOCK_BYTES 4321

/* Allocations made at a few call depths: new stacks for the unwinder. */
static __attribute__((noinline)) unsigned int alloc_at(unsigned int depth)
{
	unsigned int n = 0;
	char *p;

	if (depth)
		return alloc_at(depth - 1);
	p = malloc(BLOCK_BYTES);
	if (p) {
		memset(p, 'x', BLOCK_BYTES);
		n = 1;
	}
	free(p);
	return n;
}

static void *run(void *arg)
{
	unsigned int *made = arg;

	for (unsigned int i = 0; i < ALLOCS; i++)
		*made += alloc_at(i % 4);
	return NULL;
}

static int start(pthread_t *t, unsigned int *made)
{
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
	err = pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
	if (!err)
		err = pthread_create(t, &attr, run, made);
	pthread_attr_destroy(&attr);
	printf("stack %lu: pthread_create: %s\n", (unsigned long)PTHREAD_STACK_MIN,
	       err ? strerror(err) : "ok");
	return err;
}

int main(void)
{
	unsigned int made[2 * THREADS] = { 0 };
	pthread_t t[THREADS];
	bool started[THREADS];
	int failed = 0;

	for (unsigned int i = 0; i < THREADS; i++) {
		if (start(&t[0], &made[i])) {
			failed = 1;
			continue;
		}
		pthread_join(t[0], NULL);
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		started[i] = !start(&t[i], &made[THREADS + i]);
		failed |= !started[i];
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		if (started[i])
			pthread_join(t[i], NULL);
	}
	for (unsigned int i = 0; i < 2 * THREADS; i++)
		printf("thread %u: %u allocations\n", i, made[i]);
	return failed;
}
