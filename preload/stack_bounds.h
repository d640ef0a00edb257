/* SPDX-License-Identifier: MIT */
/*
 * stack_bounds.h - the readable extent of the stack the calling thread
 * runs on, for the frame-pointer walker (unwind.c), found without taking
 * any lock the program may hold (so never pthread_getattr_np: glibc's
 * takes the thread's own lock and reallocs while holding it, so from
 * inside a hooked realloc it deadlocks).
 *
 * Never allocates, never prints, never opens a lasting fd: it runs inside
 * malloc.
 */
#ifndef MEMHOOK_PRELOAD_STACK_BOUNDS_H
#define MEMHOOK_PRELOAD_STACK_BOUNDS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Bounds [*lo, *hi) of memory that is readable for as long as the calling
 * thread lives and that holds every frame above sp, sp being an address
 * on the calling thread's current stack. False if they cannot be found
 * (then the caller must not walk frames). Async-signal-safe; costs one
 * read of /proc/self/maps for a thread other than the main one, so call
 * it once per thread.
 */
bool mh_stack_bounds(uintptr_t sp, uintptr_t *lo, uintptr_t *hi);

#endif /* MEMHOOK_PRELOAD_STACK_BOUNDS_H */
