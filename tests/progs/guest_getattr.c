// SPDX-License-Identifier: MIT
/*
 * guest_getattr.c - a thread asks glibc for its own stack with
 * pthread_getattr_np before it allocates anything, as Rust's std does in
 * every thread it starts (glibc's pthread_getattr_np reallocs while it
 * holds the thread's own lock, so that realloc is the thread's first
 * allocation), then again between allocations. Prints what it found and exits 3.
 * Run natively and under memhook: the output and the status must match,
 * and neither run may hang.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 50

static void *run(void *arg)
{
	unsigned int ok = 0;

	for (int i = 0; i < ROUNDS; i++) {
		pthread_attr_t attr;
		void *addr;
		size_t size;
		char *p;

		if (pthread_getattr_np(pthread_self(), &attr))
			return NULL;
		if (!pthread_attr_getstack(&attr, &addr, &size) &&
		    (uintptr_t)&attr - (uintptr_t)addr < size)
			ok++;
		pthread_attr_destroy(&attr);
		p = malloc(32 + (size_t)i);
		if (!p)
			return NULL;
		memset(p, 'x', 32);
		free(p);
	}
	*(unsigned int *)arg = ok;
	return arg;
}

int main(void)
{
	unsigned int ok = 0;
	pthread_t t;

	if (pthread_create(&t, NULL, run, &ok) || pthread_join(t, NULL))
		return 1;
	printf("stack found %u/%u times\n", ok, ROUNDS);
	return 3;
}
