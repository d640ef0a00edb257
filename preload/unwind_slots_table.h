/* SPDX-License-Identifier: MIT */
/*
 * unwind_slots_table.h - the slot cache's table as its two halves see it:
 * unwind_slots.c, which sets it up and serves from it, and
 * unwind_slots_learn.c, which makes its entries. What an entry means is
 * argued atop unwind_slots.c. Internal to those two files.
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_UNWIND_SLOTS_TABLE_H
#define MEMHOOK_PRELOAD_UNWIND_SLOTS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "preload/unwind_slots.h"
#include "preload/unwind_slots_prove.h"

/*
 * Entries in a group, where stacks with the same site frame and caller
 * go: their tags fill one cache line (64 ways took two; cc1 fills about
 * a quarter of the table, 8 entries a group).
 */
#define WAYS 32
/* Most gaps above 255 words an entry holds (in its extra). */
#define BIG_MAX 40
/*
 * Frames beyond the site after which a hit compares what it hashed so far
 * (of the entries of other stacks cc1 tries, 4 turns down 83% there, 3 66%).
 */
#define CHECK_AT 4

enum {
	ENTRY_CUT = 1,		/* libunwind had frames left beyond the last one */
	ENTRY_RBP_KEYED = 2,	/* the site's function may keep its CFA in RBP */
	ENTRY_BIG = 4,		/* a gap above 255 words: some gaps[] are 0 */
};

/*
 * An entry, two cache lines. The first holds what every look at it
 * needs: the site frame, the low bits of the hash of the first CHECK_AT
 * frames beyond the site, and where the first frames' return addresses
 * sit, as gaps in stack words (frame j's slot is gaps[j - 1] words above
 * frame j - 1's; 0: the next gap of the extra's big[], a gap above 255),
 * so that an entry of another stack above the same caller is most often
 * rejected within it. The second holds the rest of the gaps, the hash of
 * all the frames beyond the site and the memo: what a hit reads too. The
 * frames themselves are not kept: a hit answers with the stack words it
 * read. An RBP-keyed entry's RBP is the caller's CFA - 16 (slot + gap 1
 * words - 1 word), or, without a caller, kept in gaps[].
 */
struct slot_entry {
	__u64 seq;		/* odd while being rewritten */
	uintptr_t slot;		/* the site's slot; 0 for an empty entry */
	__u64 ip0;		/* the site */
	__u32 epoch;		/* the cache's epoch when made */
	__u16 check;		/* low bits of the hash of frames 1..CHECK_AT */
	__u8 n;			/* frames, the site's being the first */
	__u8 flags;		/* ENTRY_* */
	__u8 gaps[MH_SLOTS_FRAMES - 1];
	__u8 copies;		/* words of the extra's copy_at[] */
	__u64 hash;		/* the hash (frame_mix) of frames 1..n - 1 */
	struct mh_stack_memo memo;
} __attribute__((aligned(128)));
_Static_assert(sizeof(struct slot_entry) == 128 && offsetof(struct slot_entry, gaps) == 32 &&
		       MH_SLOTS_FRAMES - 1 >= sizeof(__u64),
	       "an entry is two cache lines, 32 gaps in the first, room for an RBP");

/* What few entries need besides (big gaps, copies), out of the way of every lookup. */
struct slot_extra {
	__u16 copy_at[MH_SLOTS_COPIES_MAX];	/* stack words above the site's slot... */
	__u8 copy_of[MH_SLOTS_COPIES_MAX];	/* ...that hold these frames too (see mh_slots_prove) */
	__u16 big[BIG_MAX];		/* gaps above 255 words, in order */
};

/*
 * The table every thread shares, set up once by mh_slots_setup. A group
 * is WAYS ways; a way's tag and the entry it holds are at the same index
 * of tags[] and ways[]. The entries are handed to ways in the order they
 * are first needed, so that the pages touched are as many as the entries
 * need (a group's own 32 entries and extras were two pages: git log -p
 * touched about 400 pages for its 403 entries, 15 us a fault where
 * measured), not one or two per group used.
 */
struct mh_slots_table {
	struct slot_entry *table;	/* NULL: no cache */
	struct slot_extra *extras;	/* the extras of table[i] at extras[i] */
	__u16 *tags;	/* one per way, a group's in one cache line: which entries to look at */
	__u16 *ways;	/* one per way: 1 + the index of its entry, 0: none yet */
	__u32 used;	/* entries handed to ways (or lost to a race for one) */
	__u64 mask;	/* entries - 1 */
	__u64 key0, key1;	/* frame_mix's keys, random per process (a fork child keeps them) */
	/* Frame j's key, key0 + j * 0x9e3779b97f4a7c15: a load where a hit added it up per frame. */
	__u64 keys[MH_SLOTS_FRAMES];
	__u32 epoch;	/* bumped to void every entry at once (mh_slots_flush) */
};

extern struct mh_slots_table mh_slots __attribute__((visibility("hidden")));

/*
 * Frame j's part of an entry's hash: a keyed multiply whose halves are
 * folded (a different word gives an unrelated value), summed over the
 * frames. Two different frame lists hash the same with odds of about
 * 2^-64 whatever the stack holds, since the keys are random.
 */
static inline __u64 mul_fold(__u64 a, __u64 b)
{
#ifdef __x86_64__
	__u64 hi;

	/* The same as below: there GCC kept the 128-bit product in memory, a store and a load. */
	__asm__("mulq %3" : "=a"(a), "=d"(hi) : "0"(a), "rm"(b) : "cc");
	return a ^ hi;
#else
	__uint128_t p = (__uint128_t)a * b;

	return (__u64)p ^ (__u64)(p >> 64);
#endif
}

static inline __u64 frame_mix(__u64 w, unsigned int j)
{
	return mul_fold(w ^ mh_slots.keys[j], mh_slots.key1);
}

/* The group of a stack's entry and its tag (never 0): see "A hit touches". */
static inline __u64 group_of(uintptr_t slot, __u64 ip0, __u64 off1, __u64 ip1, __u16 *tag)
{
	__u64 k = (slot >> 3) ^ ip0;

	k ^= k >> 29;
	k *= 0x9e3779b97f4a7c15ULL;
	k = (k ^ (ip1 + off1)) * 0xc2b2ae3d27d4eb4fULL;
	*tag = (__u16)(k >> 48) | 1;
	return (k >> 32) & mh_slots.mask & ~(__u64)(WAYS - 1);
}

/* The entry way w of group g holds; NULL if none yet. */
static inline struct slot_entry *way_entry(__u64 g, unsigned int w)
{
	__u32 ref = __atomic_load_n(&mh_slots.ways[g + w], __ATOMIC_ACQUIRE);

	return ref && ref - 1 <= mh_slots.mask ? &mh_slots.table[ref - 1] : NULL;
}

/* An entry as a hint names it: 1 + its index. */
static inline __u32 entry_ref(const struct slot_entry *e)
{
	return (__u32)(e - mh_slots.table) + 1;
}

/* The RBP an RBP-keyed entry e (extra x) of n frames was made with (see struct slot_entry). */
static inline __u64 entry_rbp(const struct slot_entry *e, const struct slot_extra *x,
			      unsigned int n)
{
	__u64 rbp;

	if (n < 2) {
		memcpy(&rbp, e->gaps, sizeof(rbp));
		return rbp;
	}
	return e->slot + ((e->gaps[0] ? e->gaps[0] : x->big[0]) - 1) * sizeof(__u64);
}

/* Bit w set for each of a group's ways whose tag is tag. */
static inline __u64 ways_tagged(const __u16 *group, __u16 tag)
{
	__u64 match = 0;
	unsigned int w;

#ifdef __SSE2__
	__m128i want = _mm_set1_epi16((short)tag);

	for (w = 0; w < WAYS; w += 16) {
		__m128i a = _mm_load_si128((const __m128i *)(group + w));
		__m128i b = _mm_load_si128((const __m128i *)(group + w + 8));

		a = _mm_packs_epi16(_mm_cmpeq_epi16(a, want), _mm_cmpeq_epi16(b, want));
		match |= (__u64)(unsigned int)_mm_movemask_epi8(a) << w;
	}
#else
	for (w = 0; w < WAYS; w++)
		match |= (__u64)(__atomic_load_n(&group[w], __ATOMIC_RELAXED) == tag) << w;
#endif
	return match;
}

/*
 * Note where a site's caller keeps its return address (gap1 words above
 * the site's slot) and the entry of that stack e (tag) this thread made or
 * found, for the thread's next lookups at the site (unwind_slots.c).
 */
void mh_slots_hint_put(__u64 ip, __u16 gap1, const struct slot_entry *e, __u16 tag)
	__attribute__((visibility("hidden")));

#endif /* MEMHOOK_PRELOAD_UNWIND_SLOTS_TABLE_H */
