/* SPDX-License-Identifier: MIT */
/*
 * compact_table.h - the compact coder's lookup structures (trace/compact.c and
 * compact_decode.c include it): the encoder's hash tables, 64-bit key -> index,
 * open addressing, valid for one chunk, forgotten in O(1) by bumping a
 * generation number; both sides' lists of recently freed addresses by
 * size class; the recent stack ids' move to front and the zigzag of
 * differences; the growth of the coder's arrays; the prefetch of the
 * address table's slots. Inline, since the coder
 * uses them on every event. Never prints.
 */
#ifndef MEMHOOK_TRACE_COMPACT_TABLE_H
#define MEMHOOK_TRACE_COMPACT_TABLE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "common/bigmem.h"
#include "memhook/events.h"

/*
 * Open-addressing hash slot: valid only in the chunk whose gen it carries.
 * index is the caller's: the address table keeps a position and a size
 * class there (POS_SHIFT in compact.c).
 */
struct slot {
	__u64 key;
	__u32 gen;
	__u32 index;
};

struct table {
	struct slot *slots;
	__u32 mask;			/* slot count - 1; slot count a power of two */
	__u32 used;
	unsigned shift;			/* 64 - log2(slot count): hash() keeps the top bits */
};

static inline void table_clear(struct table *t, bool slots)
{
	if (slots && t->slots)
		memset(t->slots, 0, (t->mask + 1ULL) * sizeof(struct slot));
	t->used = 0;
}

/* Unmap t's slots (mh_bigmem_alloc, table_grow()). */
static inline void table_free(struct table *t)
{
	if (t->slots)
		mh_bigmem_free(t->slots, (t->mask + 1ULL) * sizeof(struct slot), 0);
	t->slots = NULL;
}

/*
 * The first slot to probe for key: the top bits of a multiplication by
 * 2^64 / phi, which spreads both pointers (multiples of 16) and small ids
 * over the table. Two instructions: the xor-shift-multiply-xor-shift it
 * replaced was 7, on the two or three lookups and the prefetch of every
 * event (callgrind).
 */
static inline size_t hash(const struct table *t, __u64 key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> t->shift);
}

/*
 * Double the table (64 slots at first), keeping this chunk's entries. 0 or
 * -ENOMEM. The slots are in transparent huge pages where the kernel grants
 * them: python3's address table grows to 524,288 slots (8 MiB), whose
 * lookups land anywhere and missed the TLB as well as the caches.
 */
static inline int table_grow(struct table *t, __u32 gen)
{
	struct table n = { .mask = t->slots ? t->mask * 2 + 1 : 63, .used = t->used };
	size_t i, j;

	n.shift = 64 - (unsigned)__builtin_popcount(n.mask);
	n.slots = n.mask < UINT32_MAX / 2 ?
		  mh_bigmem_alloc((n.mask + 1ULL) * sizeof(*n.slots), 0) : NULL;
	if (!n.slots)
		return -ENOMEM;
	for (i = 0; t->slots && i <= t->mask; i++) {
		if (t->slots[i].gen != gen)
			continue;
		for (j = hash(&n, t->slots[i].key); n.slots[j].gen == gen; j = (j + 1) & n.mask)
			;
		n.slots[j] = t->slots[i];
	}
	table_free(t);
	*t = n;
	return 0;
}

/* Room in t for n more keys, the table at most half full after them. 0 or -ENOMEM. */
static inline int table_room(struct table *t, __u32 gen, size_t n)
{
	while ((t->used + n) * 2 > t->mask + 1ULL)
		if (table_grow(t, gen))
			return -ENOMEM;
	return 0;
}

/*
 * The slot of key in this chunk; when absent it is added and *fresh set
 * (the caller fills in its index). The caller made room for it
 * (table_room()): an insertion never grows the table, so a lookup cannot
 * fail half-way through a record. Always inlined, as put_addr() in
 * compact.c: the calls took a quarter of the encoder's instructions
 * (callgrind).
 */
static inline __attribute__((always_inline)) struct slot *
table_slot(struct table *t, __u32 gen, __u64 key, bool *fresh)
{
	struct slot *s;
	size_t i;

	for (i = hash(t, key);; i = (i + 1) & t->mask) {
		s = &t->slots[i];
		if (s->gen != gen)
			break;
		if (s->key == key) {
			*fresh = false;
			return s;
		}
	}
	s->key = key;
	s->gen = gen;
	t->used++;
	*fresh = true;
	return s;
}

/* Stack ids each thread keeps in move-to-front order; codes below this name one. */
#define RECENT 8

/*
 * Put id first in a list of RECENT recent ids, where it was at position
 * `at` (< RECENT; the last: absent). Each id before it moves one place
 * back, by cases rather than a loop: compilers make such a loop a call
 * to memmove, a libc call for a few words that took 2% of a report's
 * cycles (perf record), and a copy with a select per rank, what the
 * encoder did before, took it some 30 instructions an event (callgrind).
 */
static inline void move_to_front(__u64 *recent, unsigned at, __u64 id)
{
	_Static_assert(RECENT == 8, "one case per rank");
	switch (at) {
	case 7:
		recent[7] = recent[6];
		/* fall through */
	case 6:
		recent[6] = recent[5];
		/* fall through */
	case 5:
		recent[5] = recent[4];
		/* fall through */
	case 4:
		recent[4] = recent[3];
		/* fall through */
	case 3:
		recent[3] = recent[2];
		/* fall through */
	case 2:
		recent[2] = recent[1];
		/* fall through */
	case 1:
		recent[1] = recent[0];
		/* fall through */
	default:
		recent[0] = id;
	}
}

/* A signed difference as an unsigned number that is small when the difference is near 0. */
static inline __u64 zigzag(__u64 delta)
{
	return (delta << 1) ^ (__u64)((__s64)delta >> 63);
}

static inline __u64 unzigzag(__u64 v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

/*
 * The address table is far larger than the caches and its lookups land
 * anywhere: the encoder starts loading the slots of the addresses of the
 * records up to PREFETCH_BYTES ahead of the one it codes, at least half
 * that (768 on average, as when the window was recomputed at every
 * record, which took 3 more instructions a record: callgrind), a group of
 * PREFETCH_BYTES / 2 at a time. Prefetches the slots of the records from
 * offset `ahead` up to `end`; returns the offset past them.
 */
#define PREFETCH_BYTES 1024

static inline size_t table_prefetch(const struct table *t, const unsigned char *records,
				    size_t ahead, size_t end)
{
	struct mh_rec_hdr h;
	__u64 addr;

	/* The address sits at the same place in all three. */
	_Static_assert(offsetof(struct mh_rec_alloc, addr) == offsetof(struct mh_rec_free, addr) &&
		       offsetof(struct mh_rec_realloc, addr) == offsetof(struct mh_rec_free, addr),
		       "alloc, free and realloc records keep addr at one offset");
	for (; ahead < end; ahead += h.size) {
		memcpy(&h, records + ahead, sizeof(h));
		/* Any record long enough: a wasted prefetch costs less than a test of the type. */
		if (h.size < offsetof(struct mh_rec_free, addr) + sizeof(addr))
			continue;
		memcpy(&addr, records + ahead + offsetof(struct mh_rec_free, addr), sizeof(addr));
		__builtin_prefetch(&t->slots[hash(t, addr)]);
	}
	return ahead;
}

/* Room for one more element in an array of count (cap allocated) of `size` bytes. 0 or -ENOMEM. */
static inline int reserve(void **array, __u32 count, __u32 *cap, size_t size)
{
	size_t n = *cap ? *cap * 2ULL : 256;
	void *p;

	if (count < *cap)
		return 0;
	p = n <= UINT32_MAX ? reallocarray(*array, n, size) : NULL;
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = (__u32)n;
	return 0;
}

#define RESERVE(c, what) \
	reserve((void **)&(c)->what##s, (c)->what##_count, &(c)->what##_cap, sizeof(*(c)->what##s))

/*
 * Size classes whose freed addresses are kept, most recently freed first,
 * CLASS_KEEP of each: an allocation is often the block of its class freed
 * last (tcache, fastbins). Below SMALL_CLASSES, classes 16 bytes wide, as
 * glibc's chunks; above, from version 9 on, a hash of the exact size (a
 * large block is most often taken again by a request of its very size:
 * a buffer grown to the same length, a file mapped again), before it
 * class 0: none, whose list stays empty. Of git log -p's 120,538
 * allocations, 46,930 were of such large blocks named by their distance
 * back; 5,450 are now.
 */
#define SMALL_CLASSES 64
#define CLASSES 128
#define CLASS_KEEP 8

/*
 * Each class's list is a ring of CLASS_KEEP addresses: rank k (0: freed
 * last) sits at (head + k) % CLASS_KEEP, so a push and a take of the
 * first, the common case, move no address. Past count nothing is read.
 */
struct freed_lists {
	__u64 addr[CLASSES][CLASS_KEEP];
	__u8 head[CLASSES];
	__u8 count[CLASSES];
};

_Static_assert(!(CLASS_KEEP & (CLASS_KEEP - 1)), "CLASS_KEEP is a power of two");

/*
 * The size class of an allocation of size bytes (0: none), with classes
 * for large blocks (version 9 on) or not.
 */
static inline unsigned size_class(__u64 size, bool large)
{
	_Static_assert(CLASSES - SMALL_CLASSES == 64, "the hash keeps 6 bits");
	if (size < SMALL_CLASSES * 16 - 23)
		return (unsigned)((size + 23) >> 4);
	return large ? SMALL_CLASSES + (unsigned)((size * 0x9e3779b97f4a7c15ULL) >> 58) : 0;
}

/* The freed address of rank k (< count) in class cls. */
static inline __u64 freed_at(const struct freed_lists *f, unsigned cls, unsigned k)
{
	return f->addr[cls][(f->head[cls] + k) & (CLASS_KEEP - 1)];
}

/* A block of class cls (0: none) was freed at addr. */
static inline void freed_push(struct freed_lists *f, unsigned cls, __u64 addr)
{
	unsigned h = (f->head[cls] - 1U) & (CLASS_KEEP - 1);

	if (!cls)
		return;
	/* A full list drops its oldest, the slot the new one takes. */
	f->addr[cls][h] = addr;
	f->head[cls] = (__u8)h;
	f->count[cls] += f->count[cls] < CLASS_KEEP;
}

/* Forget the freed address at rank k (< count) of class cls: it was allocated again. */
static inline void freed_take(struct freed_lists *f, unsigned cls, unsigned k)
{
	unsigned h = f->head[cls];

	/* The ranks before k move one place back; the head moves past the first. */
	for (; k > 0; k--)
		f->addr[cls][(h + k) & (CLASS_KEEP - 1)] = f->addr[cls][(h + k - 1) & (CLASS_KEEP - 1)];
	f->head[cls] = (__u8)((h + 1) & (CLASS_KEEP - 1));
	f->count[cls]--;
}

#endif /* MEMHOOK_TRACE_COMPACT_TABLE_H */
