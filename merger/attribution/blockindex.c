// SPDX-License-Identifier: MIT
/*
 * blockindex.c - which live block covers an address, for the kernel
 * records attribute.c charges: an address index (addrindex.h) over the
 * live blocks, built on first need and brought up to date lazily.
 *
 * Must never cost an allocation or a free more than a note in a list:
 * the index itself changes only when lookups ask for it. The replay's
 * block events land here (mh_attr_block_added/removed). Never prints.
 */
#include <errno.h>
#include <stdlib.h>

#include "merger/attribution/addrindex.h"
#include "merger/attribution/attr_internal.h"
#include "common/blocks.h"
#include "merger/replay/replay.h"

/*
 * The index is read only by kernel records (a fault, a swap-in): a few
 * thousand in a trace of millions of allocations, most of them freed soon.
 * So a block added while the index exists is only noted (index_pending;
 * the entries of freed blocks are reused) and a lookup searches the
 * index, then the noted blocks. The noted blocks go into the index
 * (index_flush) once INDEX_SYNC_QUERIES lookups searched them, so a
 * lookup reads each noted entry a bounded number of times; a block freed
 * before then never enters it. Keeping the index current at every
 * allocation and free took 31% of a report's cycles (20M events, two
 * threads, perf record). The list holds live blocks only.
 *
 * Most lookups find no block at all (a fault in a library, a stack, in
 * malloc before the block it makes is live): 88% of python3's, all 3,688
 * of alloc_bench's, 97% of cc1's, and each read the whole list. Their
 * addresses mostly lie above every noted block (libraries, stacks and
 * mmaps sit above the heap), so a note also raises index_pending_top, a
 * bound on the bytes the blocks noted since the last flush cover, and a
 * lookup above it skips the list: python3's lookups took 328M
 * instructions, now 18M, for 5 more a note (callgrind). A lower bound
 * too skipped few more lookups for 4 more a note. Which block a lookup
 * finds, and when the list goes into the index, do not change.
 *
 * A block's marks say where it is: MARK_INDEXED, or its noted entry's
 * number + 1 shifted by MARK_PENDING_SHIFT, or 0 (not yet noted: the
 * index does not exist).
 */
#define MARK_INDEXED 1ULL
#define MARK_PENDING_SHIFT 1

/* Lookups that search the noted blocks before they go into the index. */
#define INDEX_SYNC_QUERIES 32
/* Noted blocks looked up this far ahead of their use while flushing. */
#define INDEX_PREFETCH_AHEAD 8

/* Not in struct mh_block's order: copied by 16-byte loads, fresh 8-byte stores stall. */
struct mh_pending_block {
	uint64_t addr;			/* 0: a freed block's entry, free for reuse */
	struct mh_stack_stats *stack;	/* NULL if free */
	uint64_t size;			/* if free: the next free entry + 1, 0 if none */
};

/* Index a live block by its stack (block pointers move inside the block table; stacks stay put). */
static int index_insert(struct mh_attr *a, struct mh_block *blk)
{
	int err = mh_addrindex_insert(a->block_index, blk->addr, blk->size, blk->stack);

	if (err == -EEXIST) {
		mh_addrindex_remove(a->block_index, blk->addr);
		err = mh_addrindex_insert(a->block_index, blk->addr, blk->size, blk->stack);
	}
	if (!err)
		blk->marks = MARK_INDEXED;
	return err;
}

struct build_ctx {
	struct mh_attr *a;
	struct mh_block **large;	/* blocks over a page, indexed last, by address */
	size_t large_count, large_cap;
	int err;
};

/* First build: every live block; the mappings they lie in hold heap from now on. */
static void build_one(struct mh_block *blk, void *arg)
{
	struct build_ctx *bc = arg;
	struct mh_block **grown;

	mh_mapping_note_heap(bc->a, blk->addr);
	if (bc->err)
		return;
	if (blk->size <= bc->a->page_size) {
		bc->err = index_insert(bc->a, blk);
		return;
	}
	if (bc->large_count == bc->large_cap) {
		bc->large_cap = bc->large_cap ? 2 * bc->large_cap : 64;
		grown = reallocarray(bc->large, bc->large_cap, sizeof(*grown));
		if (!grown) {
			bc->err = -ENOMEM;
			return;
		}
		bc->large = grown;
	}
	bc->large[bc->large_count++] = blk;
}

static int by_addr(const void *x, const void *y)
{
	const struct mh_block *a = *(struct mh_block *const *)x, *b = *(struct mh_block *const *)y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/*
 * Index every live block (the table's order changes from run to run).
 * Small ones land in per-page arrays sorted by address, whatever their
 * order; large ones in a tree whose shape follows their order, and live
 * blocks may overlap (a free was lost), so which one an address finds
 * would change from run to run: they go in by address. 0 or -ENOMEM.
 */
static int index_build(struct mh_process *p)
{
	struct build_ctx bc = { .a = p->attr };

	mh_blocks_foreach(p->blocks, build_one, &bc);
	if (bc.large_count)
		qsort(bc.large, bc.large_count, sizeof(*bc.large), by_addr);
	for (size_t i = 0; i < bc.large_count && !bc.err; i++)
		bc.err = index_insert(bc.a, bc.large[i]);
	free(bc.large);
	return bc.err;
}

/* Put the noted blocks into the index and empty the list. 0 or -ENOMEM. */
static int index_flush(struct mh_process *p)
{
	struct mh_attr *a = p->attr;
	struct mh_pending_block *pb = a->index_pending;
	size_t i, n = a->index_pending_count;
	struct mh_block *blk;
	int err = 0;

	/*
	 * Each entry's slot prefetched once, INDEX_PREFETCH_AHEAD entries
	 * early: prefetching the next eight at every entry cost python3's
	 * report 13M prefetches for 1.7M blocks.
	 */
	for (i = 0; i < n && i < INDEX_PREFETCH_AHEAD && p->blocks; i++)
		if (pb[i].addr)
			mh_blocks_prefetch(p->blocks, pb[i].addr);
	for (i = 0; i < n && p->blocks && !err; i++) {
		if (i + INDEX_PREFETCH_AHEAD < n && pb[i + INDEX_PREFETCH_AHEAD].addr)
			mh_blocks_prefetch(p->blocks, pb[i + INDEX_PREFETCH_AHEAD].addr);
		if (!pb[i].addr)
			continue;
		blk = mh_blocks_find(p->blocks, pb[i].addr);
		if (blk) /* always: its free would have freed the entry */
			err = index_insert(a, blk);
	}
	a->index_pending_count = 0;
	a->index_pending_free = 0;
	a->index_queries = 0;
	a->index_pending_top = 0;
	return err;
}

/* A new entry at the end of the noted list, NULL on ENOMEM. */
static __attribute__((noinline)) struct mh_pending_block *note_append(struct mh_attr *a)
{
	struct mh_pending_block *grown;
	size_t cap;

	if (a->index_pending_count == a->index_pending_cap) {
		cap = a->index_pending_cap ? 2 * a->index_pending_cap : 256;
		grown = reallocarray(a->index_pending, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		a->index_pending = grown;
		a->index_pending_cap = cap;
	}
	return &a->index_pending[a->index_pending_count++];
}

/* Note a block added while the index exists. 0 or -ENOMEM. */
static inline int index_note(struct mh_attr *a, struct mh_block *blk)
{
	struct mh_pending_block *pb;
	size_t i = a->index_pending_free;
	uint64_t top;

	if (i) {
		pb = &a->index_pending[i - 1];
		a->index_pending_free = pb->size;
	} else {
		pb = note_append(a);
		if (!pb)
			return -ENOMEM;
		i = a->index_pending_count;
	}
	*pb = (struct mh_pending_block){ .addr = blk->addr, .stack = blk->stack,
					 .size = blk->size };
	blk->marks = (uint64_t)i << MARK_PENDING_SHIFT;
	/* At or past its last byte (a 0-byte block owns addr), unless it wraps past 2^64. */
	top = blk->addr + blk->size;
	if (top < blk->addr)
		top = UINT64_MAX;
	if (top > a->index_pending_top)
		a->index_pending_top = top;
	return 0;
}

/* A block is no longer live: out of the index or the noted list. */
static inline void index_forget(struct mh_attr *a, const struct mh_block *blk)
{
	size_t i;

	if (blk->marks == MARK_INDEXED) {
		mh_addrindex_remove(a->block_index, blk->addr);
	} else if (blk->marks) {
		i = (blk->marks >> MARK_PENDING_SHIFT) - 1;
		a->index_pending[i] = (struct mh_pending_block){ .size = a->index_pending_free };
		a->index_pending_free = i + 1;
	}
}

/*
 * The replay's block events (the subscriber's own callbacks), published
 * once p has an index (it sets p->watch_blocks): here, so that noting a
 * block inlines (a call of each step took an allocation 108 instructions,
 * callgrind on 20M events).
 */
int mh_attr_block_added(void *at, struct mh_process *p, struct mh_block *blk, uint32_t tid,
			uint64_t ts)
{
	struct mh_attr *a = p->attr;

	/* The mapping it lies in holds heap from now on. */
	mh_mapping_note_heap(a, blk->addr);
	if (index_note(a, blk))
		return -ENOMEM;
	if (a->threads_waiting[tid % MH_WAIT_SLOTS])
		mh_attr_settle_waiting(a, blk, tid, ts);
	return 0;
}

void mh_attr_block_removed(void *at, struct mh_process *p, struct mh_block *blk)
{
	index_forget(p->attr, blk);
}

/* Make block_at() answer for p's live blocks. 0 or -ENOMEM. */
int mh_block_index_ensure(struct mh_process *p)
{
	struct mh_attr *a = p->attr;

	if (a->block_index) {
		if (a->index_pending_count && ++a->index_queries >= INDEX_SYNC_QUERIES)
			return index_flush(p);
		return 0;
	}
	a->block_index = mh_addrindex_new(a->page_size);
	if (!a->block_index)
		return -ENOMEM;
	/* From now on each block added or removed is noted (attribute.c). */
	p->watch_blocks = true;
	return index_build(p);
}

/* The stack of the live block covering addr, or NULL. */
struct mh_stack_stats *mh_block_index_at(struct mh_attr *a, uint64_t addr)
{
	struct mh_stack_stats *st = mh_addrindex_find(a->block_index, addr, NULL, NULL);
	const struct mh_pending_block *pb = a->index_pending;
	const struct mh_pending_block *end = pb + a->index_pending_count;

	if (st || addr > a->index_pending_top)
		return st;
	/*
	 * A 0-byte block owns its start. A freed entry has no stack: where it
	 * seems to cover addr, the search goes on.
	 */
	for (; pb < end; pb++)
		if (addr - pb->addr < (pb->size ? pb->size : 1) && pb->stack)
			return pb->stack;
	return NULL;
}

void mh_block_index_free(struct mh_attr *a)
{
	mh_addrindex_free(a->block_index);
	free(a->index_pending);
	a->block_index = NULL;
	a->index_pending = NULL;
}
