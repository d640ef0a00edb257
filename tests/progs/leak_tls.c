// SPDX-License-Identifier: MIT
/*
 * leak_tls.c - blocks whose only pointers are thread-local variables: one
 * of the main thread, one of a second thread still blocked (alive) when
 * the process exits. glibc keeps static TLS in the thread control block,
 * inside the main thread's startup allocation and at the top of the
 * second thread's stack, so both are roots: still reachable.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 0, indirectly lost: 0
 *   possibly lost: 288 bytes in 1 blocks: the live thread's DTV (see
 *   leak_live_thread.c; one slot more, for this program's own TLS)
 *   still reachable: 700 bytes in 2 blocks
 */
#include <pthread.h>
#include <stdlib.h>

#include "leak_scrub.h"

static __thread char *tls_buf;

__attribute__((noinline)) static void *worker(void *arg)
{
	tls_buf = malloc(400);
	memset(tls_buf, 'w', 400);
	leak_scrub();
	leak_park();
	return arg;
}

int main(void)
{
	pthread_t t;

	tls_buf = malloc(300);
	memset(tls_buf, 'm', 300);
	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	leak_wait_parked();
	leak_scrub();
	return 0;
}
