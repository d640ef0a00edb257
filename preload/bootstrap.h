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

/*
 * A zeroed block of size bytes aligned to align (0 or a power of two; at
 * least 16), or NULL with errno ENOMEM once the arena is spent.
 * Thread-safe and async-signal-safe.
 */
void *mh_boot_alloc(size_t size, size_t align);

/* True if p was handed out by mh_boot_alloc. */
bool mh_boot_owns(const void *p);

/* The size p was allocated with; p must be owned by the arena. */
size_t mh_boot_size(const void *p);

#endif /* MEMHOOK_PRELOAD_BOOTSTRAP_H */
