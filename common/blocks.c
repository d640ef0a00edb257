// SPDX-License-Identifier: MIT
/*
 * blocks.c - the live allocation table of one process: an open-addressing
 * hash table (linear probing, backward-shift deletion) with the blocks
 * stored in the slots.
 *
 * Why not uthash, our hash library: this table is the hottest structure of
 * the merger and of the recorder's live set, looked up once or twice per
 * allocation event. uthash chains
 * separately allocated nodes (a bucket read, then a node read per probe,
 * 80 bytes a node); here a lookup reads one slot, mostly one cache line,
 * and no node is ever allocated. Measured replaying 20M malloc/free
 * events with 8k blocks live (perf record; replay thread only): with
 * uthash the lookup took 44% of the replay thread's cycles, here 15-20%,
 * and the replay went from 21 to 26 M events/s.
 *
 * Must never grow with the number of events: the table doubles above half
 * full and shrinks below an eighth full, so its size follows the live set.
 * It shrinks lazily, once the operations since its last resize could have
 * paid for one (SHRINK_AFTER times its slot count): a live set that swings
 * between 10,000 and 200,000 blocks (a Python program building and
 * dropping lists) otherwise rebuilt and faulted fresh tables of megabytes
 * at every swing, 8% of the recorder's time.
 */
#include "common/blocks.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/assert.h"
#include "common/bigmem.h"
#include "memhook/events.h"

/*
 * Slots of an empty table; it never shrinks below this. Power of two.
 * Small: a trace of 60,000 short-lived processes holds 60,000 tables.
 */
#define BLOCKS_MIN_SLOTS 16
/*
 * Tables of this size or more are mapped on their own, in huge pages
 * where the kernel grants them (common/bigmem.h): a lookup in a table of
 * megabytes misses the cache and, with 4 KiB pages, the TLB as well, and
 * a new table took a page fault per 4 KiB. In the recorder's live set of
 * a Python program (tables of 16 MiB) the prefetches waiting on those
 * misses were the drain thread's largest item.
 */
#define HUGE_TABLE_BYTES (2ULL << 20)
/*
 * Smaller tables of this size or more have their pages mapped in one
 * system call: a new table is a quarter full, so a rehash writes every
 * page of it anyway, and a fault each took the recorder's drain thread
 * 470 faults (of 7,700) growing the live set to 8,192 blocks.
 */
#define PREFAULT_TABLE_BYTES (64U << 10)
/* Operations since the last resize, per slot, before an underfull table shrinks. */
#define SHRINK_AFTER 16

struct mh_blocks {
	struct mh_block *slots;	/* addr 0: empty */
	uint64_t mask;		/* slot count - 1 */
	unsigned shift;		/* 64 - log2(slot count) */
	uint64_t count;
	uint64_t ops;		/* inserts and removals since the last resize */
};

/*
 * Fibonacci hashing: heap addresses are 16-byte aligned and clustered;
 * the high bits of their product with 2^64/phi spread any stride evenly.
 */
static inline uint64_t home_of(const struct mh_blocks *b, uint64_t addr)
{
	return (addr * 0x9e3779b97f4a7c15ULL) >> b->shift;
}

/* Zeroed memory for a table of `slots` slots, NULL if there is none. */
static struct mh_block *slots_new(uint64_t slots)
{
	size_t bytes = slots * sizeof(struct mh_block);
	struct mh_block *s;

	if (bytes >= HUGE_TABLE_BYTES)
		return mh_bigmem_alloc(bytes, 0);
	s = calloc(slots, sizeof(struct mh_block));
	if (s && bytes >= PREFAULT_TABLE_BYTES)
		mh_prefault(s, bytes);
	return s;
}

static void slots_free(struct mh_block *s, uint64_t slots)
{
	size_t bytes = slots * sizeof(struct mh_block);

	if (bytes < HUGE_TABLE_BYTES)
		free(s);
	else
		mh_bigmem_free(s, bytes, 0);
}

static int table_alloc(struct mh_blocks *b, uint64_t slots)
{
	struct mh_block *s = slots_new(slots);
	unsigned shift = 64;

	if (!s)
		return -ENOMEM;
	for (uint64_t n = slots; n > 1; n >>= 1)
		shift--;
	b->slots = s;
	b->mask = slots - 1;
	b->shift = shift;
	b->ops = 0;
	return 0;
}

struct mh_blocks *mh_blocks_new(void)
{
	struct mh_blocks *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (table_alloc(b, BLOCKS_MIN_SLOTS)) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;
}

void mh_blocks_free(struct mh_blocks *b)
{
	if (!b)
		return;
	slots_free(b->slots, b->mask + 1);
	free(b);
}

struct mh_block *mh_blocks_find(struct mh_blocks *b, uint64_t addr)
{
	uint64_t i = home_of(b, addr);

	for (;; i = (i + 1) & b->mask) {
		struct mh_block *s = &b->slots[i];

		if (s->addr == addr)
			return addr ? s : NULL;
		if (!s->addr)
			return NULL;
	}
}

/* The empty slot where addr goes (addr is not in the table). */
static struct mh_block *free_slot(const struct mh_blocks *b, uint64_t addr)
{
	uint64_t i = home_of(b, addr);

	while (b->slots[i].addr)
		i = (i + 1) & b->mask;
	return &b->slots[i];
}

/* Move every block into a table of `slots` slots. On ENOMEM the table is unchanged. */
static int rehash(struct mh_blocks *b, uint64_t slots)
{
	struct mh_block *old = b->slots;
	uint64_t old_slots = b->mask + 1;

	if (table_alloc(b, slots))
		return -ENOMEM;
	for (uint64_t i = 0; i < old_slots; i++) {
		if (old[i].addr)
			*free_slot(b, old[i].addr) = old[i];
	}
	slots_free(old, old_slots);
	return 0;
}

struct mh_block *mh_blocks_insert(struct mh_blocks *b, uint64_t addr, uint64_t size,
				  struct mh_stack_stats *stack, bool *added)
{
	uint64_t i;

	if (!addr) {
		errno = EINVAL;
		return NULL;
	}
	/* At most half full: probe runs stay short. */
	if ((b->count + 1) * 2 > b->mask + 1 && rehash(b, (b->mask + 1) * 2)) {
		errno = ENOMEM;
		return NULL;
	}
	MH_ASSERT(b->count * 2 < b->mask + 1);	/* an empty slot ends every probe */
	for (i = home_of(b, addr);; i = (i + 1) & b->mask) {
		struct mh_block *s = &b->slots[i];

		if (s->addr == addr) {
			*added = false;
			return s;
		}
		if (!s->addr) {
			*s = (struct mh_block){ .addr = addr, .size = size, .stack = stack };
			b->count++;
			b->ops++;
			*added = true;
			return s;
		}
	}
}

struct mh_block *mh_blocks_add(struct mh_blocks *b, uint64_t addr, uint64_t size,
			       struct mh_stack_stats *stack)
{
	bool added;

	return mh_blocks_insert(b, addr, size, stack, &added);
}

/* Slots for count blocks after a shrink: a quarter full, as after a doubling. */
static uint64_t fitting_slots(uint64_t count)
{
	uint64_t slots = BLOCKS_MIN_SLOTS;

	while (slots < count * 4)
		slots *= 2;
	return slots;
}

/* True when the block at slot j, whose home is h, may move back to the hole at i. */
static inline bool may_fill(uint64_t i, uint64_t j, uint64_t h, uint64_t mask)
{
	/* h is cyclically outside (i, j]: moving to i keeps it reachable from h. */
	return ((j - h) & mask) >= ((j - i) & mask);
}

void mh_blocks_remove(struct mh_blocks *b, struct mh_block *blk)
{
	uint64_t i = (uint64_t)(blk - b->slots), j = i;

	MH_ASSERT(i <= b->mask && blk->addr && b->count > 0);
	/* Backward-shift deletion: pull later blocks of the run into the hole, no tombstones. */
	for (;;) {
		j = (j + 1) & b->mask;
		if (!b->slots[j].addr)
			break;
		if (may_fill(i, j, home_of(b, b->slots[j].addr), b->mask)) {
			b->slots[i] = b->slots[j];
			i = j;
		}
	}
	b->slots[i].addr = 0;
	b->count--;
	b->ops++;
	/* Below an eighth full for long enough: shrink (a failure just keeps the larger table). */
	if (b->mask + 1 > BLOCKS_MIN_SLOTS && b->count * 8 < b->mask + 1 &&
	    b->ops >= SHRINK_AFTER * (b->mask + 1))
		(void)rehash(b, fitting_slots(b->count));
}

bool mh_blocks_erase(struct mh_blocks *b, uint64_t addr)
{
	/* Both are inlined here (one call for the recorder's every free). */
	struct mh_block *blk = mh_blocks_find(b, addr);

	if (blk)
		mh_blocks_remove(b, blk);
	return blk;
}

uint64_t mh_blocks_count(const struct mh_blocks *b)
{
	return b ? b->count : 0;
}

void mh_blocks_foreach(struct mh_blocks *b, void (*fn)(struct mh_block *blk, void *arg),
		       void *arg)
{
	for (uint64_t i = 0; b && i <= b->mask; i++) {
		if (b->slots[i].addr)
			fn(&b->slots[i], arg);
	}
}

void mh_blocks_prefetch(const struct mh_blocks *b, uint64_t addr)
{
	__builtin_prefetch(&b->slots[home_of(b, addr)]);
}

static inline void prefetch_event(const struct mh_blocks *b, uint32_t pid,
				  const struct mh_rec_hdr *rec)
{
	const struct mh_rec_alloc *a = (const void *)rec;
	const struct mh_rec_free *f = (const void *)rec;
	const struct mh_rec_realloc *re = (const void *)rec;

	if (!b)
		return;
	switch (rec->type) {
	case MH_REC_ALLOC:
		if (a->pid == pid)
			mh_blocks_prefetch(b, a->addr);
		return;
	case MH_REC_FREE:
		if (f->pid == pid) {
			uint64_t h = home_of(b, f->addr);

			/* Removal shifts the slots after it: their line too. */
			__builtin_prefetch(&b->slots[h]);
			__builtin_prefetch(&b->slots[(h + 1) & b->mask]);
		}
		return;
	case MH_REC_REALLOC:
		if (re->pid == pid) {
			mh_blocks_prefetch(b, re->old_addr);
			mh_blocks_prefetch(b, re->addr);
		}
		return;
	default:
		return;
	}
}

void mh_blocks_prefetch_event(const struct mh_blocks *b, uint32_t pid,
			      const struct mh_rec_hdr *rec)
{
	prefetch_event(b, pid, rec);
}

size_t mh_blocks_prefetch_events(const struct mh_blocks *b, uint32_t pid, const unsigned char *buf,
				 size_t bytes, size_t from, unsigned count)
{
	for (; from < bytes && count; count--) {
		const struct mh_rec_hdr *rec = (const struct mh_rec_hdr *)(buf + from);

		prefetch_event(b, pid, rec);
		from += rec->size;
	}
	return from;
}

uint64_t mh_blocks_table_bytes(const struct mh_blocks *b)
{
	return b ? (b->mask + 1) * sizeof(*b->slots) : 0;
}
