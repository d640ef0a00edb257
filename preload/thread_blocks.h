/* SPDX-License-Identifier: MIT */
/*
 * thread_blocks.h - per-thread blocks of the preload's own memory, kept
 * out of static TLS: glibc carves every thread's static TLS out of its
 * stack, and a program's small stacks (PTHREAD_STACK_MIN) must still
 * hold it, as they do without memhook.
 *
 * Never allocates through malloc, never prints, never blocks.
 */
#ifndef MEMHOOK_PRELOAD_THREAD_BLOCKS_H
#define MEMHOOK_PRELOAD_THREAD_BLOCKS_H

#include <linux/types.h>
#include <stddef.h>

/* Blocks a pool holds: threads that find none free do without one. */
#define MH_THREAD_BLOCKS 1024

/* A pool of equal blocks in one mapping (MAP_NORESERVE, touched as used). */
struct mh_thread_blocks {
	char *base;		/* NULL: not mapped */
	size_t block_bytes;	/* a multiple of the page size */
	__u64 held[MH_THREAD_BLOCKS / 64];	/* bit set: a thread holds the block */
};

/*
 * Map the pool by raw system call and note it as memhook's own memory.
 * 0 or -errno (the pool then hands out nothing).
 */
int mh_thread_blocks_setup(struct mh_thread_blocks *p, size_t block_bytes);

/*
 * A free block, zeroed; NULL if there is none. Lock-free,
 * async-signal-safe.
 */
void *mh_thread_blocks_take(struct mh_thread_blocks *p);

/* Give a taken block back (its pages are released); NULL: none. Async-signal-safe. */
void mh_thread_blocks_give(struct mh_thread_blocks *p, void *block);

#endif /* MEMHOOK_PRELOAD_THREAD_BLOCKS_H */
