// SPDX-License-Identifier: MIT
/*
 * leak_thread_exited.c - a thread loses a 77-byte block, keeps a 500-byte
 * block in a thread-local variable and exits; main joins it, so the
 * thread is gone when the process exits. Both blocks are definitely lost:
 * the thread's stack, with its TLS at the top, stays mapped in glibc's
 * stack cache only until __libc_freeres unmaps it, before either tool
 * scans. The thread scrubs its stack all the same.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 577 bytes in 2 blocks (2 loss records)
 *   indirectly lost: 0, possibly lost: 0, still reachable: 0
 */
#include <pthread.h>
#include <stdlib.h>

#include "leak_scrub.h"

static __thread char *tls_buf;

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(77), 0, 77);
}

static void *worker(void *arg)
{
	lose_one();
	tls_buf = malloc(500);
	memset(tls_buf, 't', 500);
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
