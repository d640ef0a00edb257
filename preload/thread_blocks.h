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
#include <stdbool.h>
#include <stddef.h>

/* Blocks a pool holds: threads that find none free do without one. */
#define MH_THREAD_BLOCKS 1024

/* A pool of equal blocks in one mapping (MAP_NORESERVE, touched as used). */
struct mh_thread_blocks {
	char *base;		/* NULL: not mapped */
	size_t block_bytes;	/* a multiple of the page size */
	__u64 held[MH_THREAD_BLOCKS / 64];	/* bit set: a thread holds the block */
};

/* A thread's block of one pool (a thread-local variable), taken on first need. */
struct mh_thread_block {
	void *at;	/* NULL: not taken yet, or none */
	bool none;	/* none to take: the pool had none free, or the thread ended */
};

/*
 * Map the pool by raw system call and note it as memhook's own memory.
 * 0 or -errno (the pool then hands out nothing).
 */
int mh_thread_blocks_setup(struct mh_thread_blocks *p, size_t block_bytes);

/*
 * The calling thread's first need of its block b->at: take a free one,
 * zeroed. NULL if there is none, then and from then on (a signal
 * handler's capture meanwhile gets none too). Lock-free, async-signal-safe.
 */
void *mh_thread_block_first(struct mh_thread_blocks *p, struct mh_thread_block *b);

/* The calling thread's end: give its block back (pages released); none is taken after. */
void mh_thread_block_end(struct mh_thread_blocks *p, struct mh_thread_block *b);

#endif /* MEMHOOK_PRELOAD_THREAD_BLOCKS_H */
