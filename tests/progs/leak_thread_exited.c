// SPDX-License-Identifier: MIT
/*
 * leak_thread_exited.c - a thread loses a 77-byte block and exits; main
 * joins it, so the thread is gone when the process exits. The block is
 * definitely lost. The thread's stack (with its TLS) stays mapped in
 * glibc's stack cache until __libc_freeres unmaps it, so nothing of the
 * thread's may be left on it: it also scrubs its stack.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 77 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0, still reachable: 0
 */
#include <pthread.h>
#include <stdlib.h>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(77), 0, 77);
}

static void *worker(void *arg)
{
	lose_one();
	leak_scrub();
	return arg;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, worker, NULL) || pthread_join(t, NULL))
		return 1;
	leak_scrub();
	return 0;
}
