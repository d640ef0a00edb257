/* SPDX-License-Identifier: MIT */
/*
 * leak_scrub.h - shared by the leak_* scenario programs: wipe the stack
 * below the caller, where the frames of functions that already returned
 * left copies of heap pointers. memcheck scans a thread's stack from its
 * stack pointer up, and so does memhook, but each scans at a different
 * moment of the exit path, so a stale copy could be overwritten for one
 * and not the other. After leak_scrub() the only pointers left are the
 * ones the scenario means to leave.
 */
#ifndef MEMHOOK_TESTS_PROGS_LEAK_SCRUB_H
#define MEMHOOK_TESTS_PROGS_LEAK_SCRUB_H

#include <string.h>

#define LEAK_SCRUB_BYTES 16384

static __attribute__((noinline, unused)) void leak_scrub(void)
{
	volatile char junk[LEAK_SCRUB_BYTES];

	memset((char *)junk, 0, sizeof(junk));
}

#endif /* MEMHOOK_TESTS_PROGS_LEAK_SCRUB_H */
