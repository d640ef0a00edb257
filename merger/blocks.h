/* SPDX-License-Identifier: MIT */
/*
 * blocks.h - the live allocation table of one process: address -> block.
 *
 * Holds only blocks that are live right now, so its memory follows the
 * program's live set, never the trace length. Nodes come from slabs that
 * are recycled, so a malloc/free pair costs no allocator call here.
 * Never prints.
 */
#ifndef MEMHOOK_MERGER_BLOCKS_H
#define MEMHOOK_MERGER_BLOCKS_H

#include <stdint.h>

#include <uthash.h>

struct mh_stack_stats;

struct mh_block {
	uint64_t addr;			/* key: start of the block */
	uint64_t size;			/* bytes requested */
	struct mh_stack_stats *stack;	/* who allocated it */
	UT_hash_handle hh;
};

struct mh_blocks;

/* An empty table. NULL with errno set (ENOMEM). */
struct mh_blocks *mh_blocks_new(void);

/* Free the table and every block in it. Accepts NULL. */
void mh_blocks_free(struct mh_blocks *b);

/* The live block starting at addr, or NULL. */
struct mh_block *mh_blocks_find(struct mh_blocks *b, uint64_t addr);

/*
 * Insert a block. The caller checked that addr is not live. Returns the
 * new block, or NULL with errno set (ENOMEM).
 */
struct mh_block *mh_blocks_add(struct mh_blocks *b, uint64_t addr, uint64_t size,
			       struct mh_stack_stats *stack);

/* Remove a block returned by mh_blocks_find()/mh_blocks_add(). */
void mh_blocks_remove(struct mh_blocks *b, struct mh_block *blk);

/* Number of live blocks. */
uint64_t mh_blocks_count(const struct mh_blocks *b);

/* Call fn on every live block (in no particular order). */
void mh_blocks_foreach(struct mh_blocks *b, void (*fn)(struct mh_block *blk, void *arg),
		       void *arg);

#endif /* MEMHOOK_MERGER_BLOCKS_H */
