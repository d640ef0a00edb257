/* SPDX-License-Identifier: MIT */
/*
 * blocks.h - the live allocation table of one process: address -> block
 * (the merger's replay), and a leaner kind of address -> size only (the
 * recorder's live set).
 *
 * Holds only blocks that are live right now and shrinks as they go, so
 * its memory follows the program's live set, never the trace length. A
 * block lives inside the table: a pointer to it is valid only until the
 * next add or remove on the same table. Never prints.
 */
#ifndef MEMHOOK_COMMON_BLOCKS_H
#define MEMHOOK_COMMON_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mh_rec_hdr;
struct mh_stack_stats;

struct mh_block {
	uint64_t addr;			/* key: start of the block, never 0 */
	uint64_t size;			/* bytes requested */
	struct mh_stack_stats *stack;	/* who allocated it (the merger's; NULL in the recorder) */
	uint64_t marks;			/* the table's user's (the merger's attribution), 0 when added */
};

struct mh_blocks;

/* An empty table. NULL with errno set (ENOMEM). */
struct mh_blocks *mh_blocks_new(void);

/* Free the table and every block in it. Accepts NULL. */
void mh_blocks_free(struct mh_blocks *b);

/* The live block starting at addr, or NULL. Valid until the next add or remove. */
struct mh_block *mh_blocks_find(struct mh_blocks *b, uint64_t addr);

/*
 * Insert a block. The caller checked that addr (not 0) is not live.
 * Returns the new block (valid until the next add or remove), or NULL
 * with errno set (ENOMEM).
 */
struct mh_block *mh_blocks_add(struct mh_blocks *b, uint64_t addr, uint64_t size,
			       struct mh_stack_stats *stack);

/*
 * The live block at addr (not 0) if there is one (*added false, the block
 * unchanged), else a new block (*added true): one probe where find then
 * add take two. NULL with errno set (ENOMEM).
 */
struct mh_block *mh_blocks_insert(struct mh_blocks *b, uint64_t addr, uint64_t size,
				  struct mh_stack_stats *stack, bool *added);

/* Remove a block just returned by mh_blocks_find()/mh_blocks_add()/mh_blocks_insert(). */
void mh_blocks_remove(struct mh_blocks *b, struct mh_block *blk);

/* Number of live blocks; 0 for NULL (an image whose table went with its exec). */
uint64_t mh_blocks_count(const struct mh_blocks *b);

/*
 * Call fn on every live block; none for NULL. In no particular order, and
 * not the same order from one run to the next (each table hashes with a
 * random multiplier): what fn does must not depend on it. fn must not add
 * to or remove from this table.
 */
void mh_blocks_foreach(struct mh_blocks *b, void (*fn)(struct mh_block *blk, void *arg),
		       void *arg);

/* Hint that addr is about to be looked up (a prefetch; no effect on the contents). */
void mh_blocks_prefetch(const struct mh_blocks *b, uint64_t addr);

/*
 * Hint that the `count` whole records at buf + from (buf is bytes long,
 * every record's size at least 8 and checked) are about to be applied to
 * process pid, whose table is b: the slots that its ALLOCs, FREEs and
 * REALLOCs look up are prefetched (other records, other processes':
 * nothing). Returns the offset past them (at most bytes); with b NULL it
 * only skips them. One call for a run of records: a call for each took
 * the merger's replay 40 instructions a record in all, a call a run 29
 * (callgrind).
 */
size_t mh_blocks_prefetch_events(const struct mh_blocks *b, uint32_t pid,
				 const unsigned char *buf, size_t bytes, size_t from,
				 unsigned count);

/* Bytes the table's slots take now (it follows the live set); 0 for NULL. */
uint64_t mh_blocks_table_bytes(const struct mh_blocks *b);

/*
 * The recorder's table: address -> size only, nothing else to keep, so a
 * slot is 16 bytes and a cache line holds four (a live set of 8,192
 * blocks fits a 512 KiB table, where 32-byte slots took a 1 MiB table
 * that missed the drain thread's cache). Same rules as above.
 */
struct mh_span {
	uint64_t addr;			/* key: start of the block, never 0 */
	uint64_t size;			/* bytes requested */
};

struct mh_spans;

/* An empty table. NULL with errno set (ENOMEM). */
struct mh_spans *mh_spans_new(void);

/* Free the table and every span in it. Accepts NULL. */
void mh_spans_free(struct mh_spans *s);

/*
 * The live span at addr (not 0) if there is one (*added false), else a new
 * one of size 0 (*added true). Valid until the next insert or erase. NULL
 * with errno set (EINVAL, ENOMEM).
 */
struct mh_span *mh_spans_insert(struct mh_spans *s, uint64_t addr, bool *added);

/* Remove the live span at addr, if there is one, in one probe. True when there was. */
bool mh_spans_erase(struct mh_spans *s, uint64_t addr);

/* Number of live spans; 0 for NULL. */
uint64_t mh_spans_count(const struct mh_spans *s);

/*
 * Call fn on every live span (in an order that changes from run to run);
 * fn must not insert or erase.
 */
void mh_spans_foreach(struct mh_spans *s, void (*fn)(struct mh_span *sp, void *arg), void *arg);

/* mh_blocks_prefetch_events() for a table of spans. */
size_t mh_spans_prefetch_events(const struct mh_spans *s, uint32_t pid, const unsigned char *buf,
				size_t bytes, size_t from, unsigned count);

/* Bytes the table's slots take now; 0 for NULL. */
uint64_t mh_spans_table_bytes(const struct mh_spans *s);

#endif /* MEMHOOK_COMMON_BLOCKS_H */
