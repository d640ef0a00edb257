/* SPDX-License-Identifier: MIT */
/*
 * bootstrap.h - a static bump arena that serves allocations made before
 * the real allocator is known (dlsym itself calls calloc). Its blocks are
 * never reused: freeing one does nothing, reallocating one copies it out.
 *
 * Never calls anything: no allocator, no system call, no stdio.
 */
#ifndef MEMHOOK_PRELOAD_BOOTSTRAP_H
#define MEMHOOK_PRELOAD_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A zeroed block of size bytes aligned to align (0 or a power of two; at
 * least 16), or NULL with errno ENOMEM once the arena is spent.
 * Thread-safe and async-signal-safe.
 */
void *mh_boot_alloc(size_t size, size_t align);

/*
 * The arena (bootstrap.c), here for mh_boot_owns, which every free asks:
 * enough for dlsym's error buffers and a few early requests, in bytes.
 */
#define MH_BOOT_ARENA_BYTES (256 << 10)
extern unsigned char mh_boot_arena[MH_BOOT_ARENA_BYTES] __attribute__((visibility("hidden")));

/* True if p was handed out by mh_boot_alloc. */
static inline bool mh_boot_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)mh_boot_arena < MH_BOOT_ARENA_BYTES;
}

/* The size p was allocated with; p must be owned by the arena. */
size_t mh_boot_size(const void *p);

#endif /* MEMHOOK_PRELOAD_BOOTSTRAP_H */
