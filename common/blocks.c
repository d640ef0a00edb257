// SPDX-License-Identifier: MIT
/*
 * blocks.c - the live allocation table of one process: an open-addressing
 * hash table (linear probing, backward-shift deletion) with the blocks
 * stored in the slots.
 *
 * Two kinds of slot, one code: the merger's struct mh_block (32 bytes:
 * stack and marks beside address and size) and the recorder's struct
 * mh_span (16 bytes: all its live set keeps). The recorder's lookups
 * miss the cache at the slot they probe first, so half the bytes a slot
 * is half the table to miss in: its drain thread went from 1,239 to 574
 * ms of CPU recording python3 (14.7M events, tables of megabytes) and
 * from 525 to 444 ms on alloc_bench 2 3000000 (8,192 blocks live, then a
 * 512 KiB table; medians of 7, thread CPU from /proc).
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
 * full (the merger's and small ones: a quarter, fill_shift()) and shrinks
 * below a quarter of that, so its size follows the live set.
 * It shrinks lazily, once the operations since its last resize could have
 * paid for one (SHRINK_AFTER times its slot count): a live set that swings
 * between 10,000 and 200,000 blocks (a Python program building and
 * dropping lists) otherwise rebuilt and faulted fresh tables of megabytes
 * at every swing, 8% of the recorder's time.
 */
#include "common/blocks.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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

/*
 * One table, whatever its slots hold: the functions below take the slot's
 * bytes as a constant (each public function inlines them with its own),
 * so both kinds share one probe, one deletion and one resize.
 */
struct table {
	unsigned char *slots;	/* slot i at slots + i * its bytes; its first word the key, 0: empty */
	uint64_t mask;		/* slot count - 1 */
	unsigned shift;		/* 64 - log2(slot count) */
	uint64_t mult;		/* odd: home_of()'s multiplier */
	uint64_t count;
	uint64_t ops;		/* inserts and removals since the last resize */
	uint64_t grow_at;	/* count at which an insert doubles the table (fill_shift()) */
	uint64_t shrink_below;	/* count under which a removal may shrink it; 0: never */
};

struct mh_blocks {
	struct table t;		/* of struct mh_block */
};

struct mh_spans {
	struct table t;		/* of struct mh_span */
};

#define INLINE static inline __attribute__((always_inline))

/*
 * Multiplicative hashing: heap addresses are 16-byte aligned and
 * clustered; the high bits of their product with an odd multiplier
 * spread any stride evenly. The multiplier is drawn at random for each
 * table: the recorder's addresses come from the traced program's shared
 * memory and the merger's from a trace file someone sent, and addresses
 * forged against a known multiplier (k times its inverse, for k = 1, 2,
 * ...) would all have one home, each insert probing past all the others
 * (quadratic: 2^20 such blocks take 5 * 10^11 probes). Against a
 * multiplier it does not know, any two addresses share a home with a
 * chance of at most 2 in the slot count (multiply-shift hashing is
 * universal): a pattern the input picks collides no more than random
 * addresses, pair by pair. Same cost as a constant (cachegrind,
 * alloc_bench's records). So a table's order changes from run to run:
 * whatever walks one must not let that order show (sort, or only sum).
 */
#define FIBONACCI_MULT 0x9e3779b97f4a7c15ULL

INLINE uint64_t home_of(const struct table *t, uint64_t addr)
{
	return (addr * t->mult) >> t->shift;
}

INLINE void *slot_at(const struct table *t, uint64_t i, size_t sz)
{
	return t->slots + i * sz;
}

/* Slot i's key: every kind of slot starts with its address. */
INLINE uint64_t key_at(const struct table *t, uint64_t i, size_t sz)
{
	return *(const uint64_t *)slot_at(t, i, sz);
}

/*
 * Tables of the recorder's spans below this many bytes keep at most a
 * quarter full, as the merger's; larger ones half full (fill_shift()).
 */
#define SPARSE_TABLE_BYTES HUGE_TABLE_BYTES

/*
 * How full a table of `slots` sz-byte slots may get before it doubles:
 * 1 / 2^this. At most a quarter full, the runs a lookup and a removal's
 * backward shift walk are shorter: the merger's replay read 1.72 slots
 * per event instead of 2.05 replaying alloc_bench's 20M events with
 * 8,192 blocks live, and took 10-20% less CPU in `memhook report` for
 * twice the slots (perf record, alternating runs). The recorder's live
 * set of alloc_bench 2 3000000 (8,192 blocks, a 1 MiB table instead of
 * 512 KiB) went from 17.2 to 12.6 ns an event (its 12M records replayed
 * through the live set as the drainer does, best of 11, alternating
 * builds), its insert and erase from 615M to 503M instructions
 * (cachegrind). Tables of megabytes keep half full: python3's (100,000s
 * of blocks) took 16.5 ns an event either way, each lookup missing the
 * cache anyway, and a quarter would double what the recorder maps for them.
 */
INLINE unsigned fill_shift(uint64_t slots, size_t sz)
{
	return sz == sizeof(struct mh_block) || slots * sz < SPARSE_TABLE_BYTES ? 2 : 1;
}

/* Zeroed memory for a table of `slots` slots of sz bytes, NULL if there is none. */
static unsigned char *slots_new(uint64_t slots, size_t sz)
{
	size_t bytes = slots * sz;
	unsigned char *s;

	if (bytes >= HUGE_TABLE_BYTES)
		return mh_bigmem_alloc(bytes, 0);
	s = calloc(slots, sz);
	if (s && bytes >= PREFAULT_TABLE_BYTES)
		mh_prefault(s, bytes);
	return s;
}

static void slots_free(unsigned char *s, uint64_t slots, size_t sz)
{
	size_t bytes = slots * sz;

	if (bytes < HUGE_TABLE_BYTES)
		free(s);
	else
		mh_bigmem_free(s, bytes, 0);
}

static int table_alloc(struct table *t, uint64_t slots, size_t sz)
{
	unsigned char *s = slots_new(slots, sz);
	unsigned shift = 64;

	if (!s)
		return -ENOMEM;
	for (uint64_t n = slots; n > 1; n >>= 1)
		shift--;
	t->slots = s;
	t->mask = slots - 1;
	t->shift = shift;
	t->ops = 0;
	/*
	 * Kept, not computed at each insert and removal: that took python3's
	 * live set 184M more instructions in 13.8M records (cachegrind).
	 */
	t->grow_at = slots >> fill_shift(slots, sz);
	t->shrink_below = slots > BLOCKS_MIN_SLOTS ? slots >> (fill_shift(slots, sz) + 2) : 0;
	return 0;
}

/* A random odd multiplier for a new table (see home_of()). */
static uint64_t random_mult(void)
{
	uint64_t mult;

	/* No randomness yet (early boot): Fibonacci's 2^64/phi. */
	if (getrandom(&mult, sizeof(mult), GRND_NONBLOCK) != sizeof(mult))
		mult = FIBONACCI_MULT;
	return mult | 1;
}

/*
 * t (zeroed, the first member of a table of either kind, NULL if it could
 * not be had) with sz-byte slots and a random multiplier; NULL with errno
 * set (ENOMEM).
 */
static void *table_new(struct table *t, size_t sz)
{
	if (!t)
		return NULL;
	t->mult = random_mult();
	if (table_alloc(t, BLOCKS_MIN_SLOTS, sz)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

/* Free t (the first member of a table of either kind, as table_new() made it) and its slots. */
static void table_free(struct table *t, size_t sz)
{
	slots_free(t->slots, t->mask + 1, sz);
	free(t);
}

/* The slot holding addr, or NULL. */
INLINE void *table_find(const struct table *t, uint64_t addr, size_t sz)
{
	uint64_t i = home_of(t, addr);

	for (;; i = (i + 1) & t->mask) {
		uint64_t k = key_at(t, i, sz);

		if (k == addr)
			return addr ? slot_at(t, i, sz) : NULL;
		if (!k)
			return NULL;
	}
}

/* Move every slot into a table of `slots` slots. On ENOMEM the table is unchanged. */
static int rehash(struct table *t, uint64_t slots, size_t sz)
{
	unsigned char *old = t->slots;
	uint64_t old_slots = t->mask + 1;

	if (table_alloc(t, slots, sz))
		return -ENOMEM;
	for (uint64_t i = 0; i < old_slots; i++) {
		uint64_t addr = *(const uint64_t *)(old + i * sz), j;

		if (!addr)
			continue;
		for (j = home_of(t, addr); key_at(t, j, sz); j = (j + 1) & t->mask)
			;
		memcpy(slot_at(t, j, sz), old + i * sz, sz);
	}
	slots_free(old, old_slots, sz);
	return 0;
}

/*
 * Fill a new slot: key addr, then w1 and w2 as far as it has room, zeros
 * after. Word by word from registers: a copy of a struct built on the
 * stack stalled each insert on its 16-byte loads of fresh 8-byte stores
 * (65% of mh_blocks_insert()'s samples, perf record).
 */
INLINE void slot_fill(void *s, size_t sz, uint64_t addr, uint64_t w1, uint64_t w2)
{
	uint64_t *w = s;

	w[0] = addr;
	w[1] = w1;
	if (sz > 2 * sizeof(*w)) {
		w[2] = w2;
		memset(w + 3, 0, sz - 3 * sizeof(*w));
	}
}

/*
 * The slot holding addr (not 0; *added false), else a new slot filled
 * with addr, w1, w2 (slot_fill(); *added true), in a table with room.
 */
INLINE void *table_probe_insert(struct table *t, uint64_t addr, uint64_t w1, uint64_t w2,
				size_t sz, bool *added)
{
	uint64_t i;

	MH_ASSERT(t->count * 2 < t->mask + 1);	/* an empty slot ends every probe */
	for (i = home_of(t, addr);; i = (i + 1) & t->mask) {
		uint64_t k = key_at(t, i, sz);
		void *s = slot_at(t, i, sz);

		if (k == addr) {
			*added = false;
			return s;
		}
		if (!k) {
			slot_fill(s, sz, addr, w1, w2);
			t->count++;
			t->ops++;
			*added = true;
			return s;
		}
	}
}

/*
 * table_insert() of an address 0 or into a full table, out of line: the
 * inlined probe then calls nothing and saves no registers (an insert of
 * the merger's replay went from 53 to 38 instructions, callgrind).
 */
static __attribute__((noinline)) void *table_insert_slow(struct table *t, uint64_t addr,
							 uint64_t w1, uint64_t w2, size_t sz,
							 bool *added)
{
	if (!addr) {
		errno = EINVAL;
		return NULL;
	}
	/* At most half full (or a quarter: fill_shift()): probe runs stay short. */
	if (t->count >= t->grow_at && rehash(t, (t->mask + 1) * 2, sz)) {
		errno = ENOMEM;
		return NULL;
	}
	return table_probe_insert(t, addr, w1, w2, sz, added);
}

/*
 * The slot holding addr (not 0; *added false), else a new slot filled
 * with addr, w1, w2 (slot_fill(); *added true). NULL with errno set
 * (EINVAL, ENOMEM).
 */
INLINE void *table_insert(struct table *t, uint64_t addr, uint64_t w1, uint64_t w2, size_t sz,
			  bool *added)
{
	if (__builtin_expect(!addr || t->count >= t->grow_at, 0))
		return table_insert_slow(t, addr, w1, w2, sz, added);
	return table_probe_insert(t, addr, w1, w2, sz, added);
}

/* Slots for count blocks after a shrink: at most half the most fill, as after a doubling. */
INLINE uint64_t fitting_slots(uint64_t count, size_t sz)
{
	uint64_t slots = BLOCKS_MIN_SLOTS;

	while (slots < count << (fill_shift(slots, sz) + 1))
		slots *= 2;
	return slots;
}

/* True when the block at slot j, whose home is h, may move back to the hole at i. */
INLINE bool may_fill(uint64_t i, uint64_t j, uint64_t h, uint64_t mask)
{
	/* h is cyclically outside (i, j]: moving to i keeps it reachable from h. */
	return ((j - h) & mask) >= ((j - i) & mask);
}

/* Remove the block in slot s (from table_find or table_insert). */
INLINE void table_remove(struct table *t, void *s, size_t sz)
{
	uint64_t i = (uint64_t)((unsigned char *)s - t->slots) / sz, j = i, k;

	MH_ASSERT(i <= t->mask && key_at(t, i, sz) && t->count > 0);
	/* Backward-shift deletion: pull later blocks of the run into the hole, no tombstones. */
	for (;;) {
		j = (j + 1) & t->mask;
		k = key_at(t, j, sz);
		if (!k)
			break;
		if (may_fill(i, j, home_of(t, k), t->mask)) {
			memcpy(slot_at(t, i, sz), slot_at(t, j, sz), sz);
			i = j;
		}
	}
	*(uint64_t *)slot_at(t, i, sz) = 0;
	t->count--;
	t->ops++;
	/*
	 * Below a quarter of the most fill for long enough: shrink (a
	 * failure just keeps the larger table).
	 */
	if (t->count < t->shrink_below && t->ops >= SHRINK_AFTER * (t->mask + 1)) {
		uint64_t slots = fitting_slots(t->count, sz);

		/*
		 * Where the fill rule changes (fill_shift()) the fitting
		 * table can be this one: count the operations anew instead.
		 */
		if (slots <= t->mask)
			(void)rehash(t, slots, sz);
		else
			t->ops = 0;
	}
}

INLINE void table_prefetch(const struct table *t, uint64_t addr, size_t sz)
{
	__builtin_prefetch(slot_at(t, home_of(t, addr), sz));
}

/* Hint that rec (see mh_blocks_prefetch_events) is about to be applied to t. */
INLINE void table_prefetch_event(const struct table *t, uint32_t pid,
				 const struct mh_rec_hdr *rec, size_t sz)
{
	const struct mh_rec_alloc *a = (const void *)rec;
	const struct mh_rec_free *f = (const void *)rec;
	const struct mh_rec_realloc *re = (const void *)rec;

	if (rec->type == MH_REC_ALLOC) {
		if (a->pid == pid)
			table_prefetch(t, a->addr, sz);
	} else if (rec->type == MH_REC_FREE) {
		if (f->pid == pid) {
			uint64_t h = home_of(t, f->addr);

			/* Removal shifts the slots after it: their line too. */
			__builtin_prefetch(slot_at(t, h, sz));
			__builtin_prefetch(slot_at(t, (h + 1) & t->mask, sz));
		}
	} else if (rec->type == MH_REC_REALLOC) {
		if (re->pid == pid) {
			table_prefetch(t, re->old_addr, sz);
			table_prefetch(t, re->addr, sz);
		}
	}
}

/* The records of mh_blocks_prefetch_events() for a table t of sz-byte slots, NULL: none. */
INLINE size_t table_prefetch_events(const struct table *t, uint32_t pid,
				    const unsigned char *buf, size_t bytes, size_t from,
				    unsigned count, size_t sz)
{
	/* A copy: the compiler reloaded the table's fields after every prefetch. */
	struct table copy;

	if (!t) {
		for (; from < bytes && count; count--)
			from += ((const struct mh_rec_hdr *)(buf + from))->size;
		return from;
	}
	copy = *t;
	for (; from < bytes && count; count--) {
		const struct mh_rec_hdr *rec = (const struct mh_rec_hdr *)(buf + from);

		table_prefetch_event(&copy, pid, rec, sz);
		from += rec->size;
	}
	return from;
}

/* ---- struct mh_block: the merger's ---- */

/* slot_fill()'s words: addr, size, stack, then marks (0). */
_Static_assert(offsetof(struct mh_block, size) == 8 && offsetof(struct mh_block, stack) == 16 &&
	       offsetof(struct mh_block, marks) == 24 && sizeof(struct mh_block) == 32,
	       "struct mh_block is four words in slot_fill()'s order");

struct mh_blocks *mh_blocks_new(void)
{
	return table_new(calloc(1, sizeof(struct mh_blocks)), sizeof(struct mh_block));
}

void mh_blocks_free(struct mh_blocks *b)
{
	if (b)
		table_free(&b->t, sizeof(struct mh_block));
}

struct mh_block *mh_blocks_find(struct mh_blocks *b, uint64_t addr)
{
	return table_find(&b->t, addr, sizeof(struct mh_block));
}

struct mh_block *mh_blocks_insert(struct mh_blocks *b, uint64_t addr, uint64_t size,
				  struct mh_stack_stats *stack, bool *added)
{
	/* Fields in their order in struct mh_block, marks 0. */
	return table_insert(&b->t, addr, size, (uintptr_t)stack, sizeof(struct mh_block), added);
}

struct mh_block *mh_blocks_add(struct mh_blocks *b, uint64_t addr, uint64_t size,
			       struct mh_stack_stats *stack)
{
	bool added;

	return mh_blocks_insert(b, addr, size, stack, &added);
}

void mh_blocks_remove(struct mh_blocks *b, struct mh_block *blk)
{
	table_remove(&b->t, blk, sizeof(*blk));
}

uint64_t mh_blocks_count(const struct mh_blocks *b)
{
	return b ? b->t.count : 0;
}

void mh_blocks_foreach(struct mh_blocks *b, void (*fn)(struct mh_block *blk, void *arg),
		       void *arg)
{
	for (uint64_t i = 0; b && i <= b->t.mask; i++) {
		if (key_at(&b->t, i, sizeof(struct mh_block)))
			fn(slot_at(&b->t, i, sizeof(struct mh_block)), arg);
	}
}

void mh_blocks_prefetch(const struct mh_blocks *b, uint64_t addr)
{
	table_prefetch(&b->t, addr, sizeof(struct mh_block));
}

size_t mh_blocks_prefetch_events(const struct mh_blocks *b, uint32_t pid,
				 const unsigned char *buf, size_t bytes, size_t from,
				 unsigned count)
{
	return table_prefetch_events(b ? &b->t : NULL, pid, buf, bytes, from, count,
				     sizeof(struct mh_block));
}

uint64_t mh_blocks_table_bytes(const struct mh_blocks *b)
{
	return b ? (b->t.mask + 1) * sizeof(struct mh_block) : 0;
}

/* ---- struct mh_span: the recorder's ---- */

_Static_assert(offsetof(struct mh_span, size) == 8 && sizeof(struct mh_span) == 16,
	       "struct mh_span is two words in slot_fill()'s order");

struct mh_spans *mh_spans_new(void)
{
	return table_new(calloc(1, sizeof(struct mh_spans)), sizeof(struct mh_span));
}

void mh_spans_free(struct mh_spans *s)
{
	if (s)
		table_free(&s->t, sizeof(struct mh_span));
}

struct mh_span *mh_spans_insert(struct mh_spans *s, uint64_t addr, bool *added)
{
	return table_insert(&s->t, addr, 0, 0, sizeof(struct mh_span), added);
}

bool mh_spans_erase(struct mh_spans *s, uint64_t addr)
{
	/* Find and remove inlined in one function: one call for the recorder's every free. */
	struct mh_span *sp = table_find(&s->t, addr, sizeof(*sp));

	if (sp)
		table_remove(&s->t, sp, sizeof(*sp));
	return sp;
}

uint64_t mh_spans_count(const struct mh_spans *s)
{
	return s ? s->t.count : 0;
}

void mh_spans_foreach(struct mh_spans *s, void (*fn)(struct mh_span *sp, void *arg), void *arg)
{
	for (uint64_t i = 0; s && i <= s->t.mask; i++) {
		if (key_at(&s->t, i, sizeof(struct mh_span)))
			fn(slot_at(&s->t, i, sizeof(struct mh_span)), arg);
	}
}

size_t mh_spans_prefetch_events(const struct mh_spans *s, uint32_t pid, const unsigned char *buf,
				size_t bytes, size_t from, unsigned count)
{
	return table_prefetch_events(s ? &s->t : NULL, pid, buf, bytes, from, count,
				     sizeof(struct mh_span));
}

uint64_t mh_spans_table_bytes(const struct mh_spans *s)
{
	return s ? (s->t.mask + 1) * sizeof(struct mh_span) : 0;
}
