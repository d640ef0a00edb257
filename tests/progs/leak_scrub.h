/* SPDX-License-Identifier: MIT */
/*
 * leak_scrub.h - shared by the leak_* scenario programs: wipe the stack
 * below the caller, where the frames of functions that already returned
 * left copies of heap pointers. memcheck scans a thread's stack from its
 * stack pointer up, and so does memhook, but each scans at a different
 * moment of the exit path, so a stale copy could be overwritten for one
 * and not the other. After leak_scrub() the only pointers left are the
 * ones the scenario means to leave.
 *
 * Also for the scenarios with a thread still alive at exit: the thread
 * calls leak_park() (never returns), main waits for it in leak_wait_parked().
 */
#ifndef MEMHOOK_TESTS_PROGS_LEAK_SCRUB_H
#define MEMHOOK_TESTS_PROGS_LEAK_SCRUB_H

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define LEAK_SCRUB_BYTES 16384

static __attribute__((noinline, unused)) void leak_scrub(void)
{
	char junk[LEAK_SCRUB_BYTES];

	memset(junk, 0, sizeof(junk));
	/* The stores must happen even at -O2, where junk is otherwise dead. */
	__asm__ __volatile__("" : : "r"(junk) : "memory");
}

static pthread_mutex_t leak_park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t leak_park_ready = PTHREAD_COND_INITIALIZER;
static int leak_parked;

/* Tell leak_wait_parked() this thread is parked, then block in pause() forever. */
static __attribute__((noinline, noreturn, unused)) void leak_park(void)
{
	pthread_mutex_lock(&leak_park_lock);
	leak_parked = 1;
	pthread_cond_signal(&leak_park_ready);
	pthread_mutex_unlock(&leak_park_lock);
	for (;;)
		pause();
}

/* Wait until a thread has called leak_park(). */
static __attribute__((noinline, unused)) void leak_wait_parked(void)
{
	pthread_mutex_lock(&leak_park_lock);
	while (!leak_parked)
		pthread_cond_wait(&leak_park_ready, &leak_park_lock);
	pthread_mutex_unlock(&leak_park_lock);
}

#endif /* MEMHOOK_TESTS_PROGS_LEAK_SCRUB_H */
